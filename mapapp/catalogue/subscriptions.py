"""Visitors' subscriptions to new organisations on part of the map, and what is new."""

from __future__ import annotations

import sqlite_utils

from ..filters import Filters
from .base import dict_rows, now
from .reads import _where

_COLUMNS = ("id", "email", "lang", "query", "frequency", "state", "token_expires_at", "unsubscribe_key",
            "created_at", "confirmed_at", "last_sent_at")
_SELECT = ", ".join(_COLUMNS)


def add_subscription(db: sqlite_utils.Database, *, email: str, lang: str, query: str, frequency: str,
                     token_hash: str, token_expires_at: str, unsubscribe_key: str, client: str) -> int:
    """Store a subscription, unconfirmed; returns its id."""
    return db.execute(
        "INSERT INTO subscriptions (email, lang, query, frequency, token_hash, token_expires_at, unsubscribe_key,"
        " client, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [email, lang, query, frequency, token_hash, token_expires_at, unsubscribe_key, client, now()]).lastrowid


def _one(db, where: str, value) -> dict | None:
    rows = dict_rows(db.execute(f"SELECT {_SELECT} FROM subscriptions WHERE {where} = ?", [value]))  # nosec B608 # names from code
    return rows[0] if rows else None


def by_token(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    """The unconfirmed subscription whose confirmation link carries this token (its hash)."""
    return _one(db, "token_hash", token_hash)


def by_unsubscribe_key(db: sqlite_utils.Database, key: str) -> dict | None:
    """The subscription this unsubscribe link stops."""
    return _one(db, "unsubscribe_key", key)


def activate(db: sqlite_utils.Database, subscription_id: int) -> None:
    """Confirmed: digests start from now; the confirmation token is forgotten."""
    stamp = now()
    db.execute("UPDATE subscriptions SET state = 'active', confirmed_at = ?, last_sent_at = ?, token_hash = NULL,"
               " token_expires_at = NULL WHERE id = ?", [stamp, stamp, subscription_id])


def delete(db: sqlite_utils.Database, subscription_id: int) -> None:
    """Unsubscribed: nothing of it is kept."""
    db.execute("DELETE FROM subscriptions WHERE id = ?", [subscription_id])


def recent(db: sqlite_utils.Database, client: str, since: str) -> int:
    """How many subscriptions this client (hashed address) asked for since ``since``."""
    return db.execute("SELECT count(*) FROM subscriptions WHERE client = ? AND created_at >= ?",
                      [client, since]).fetchone()[0]


def held_by(db: sqlite_utils.Database, address: str) -> int:
    """How many subscriptions (active or waiting for confirmation) go to this address's mailbox."""
    return db.execute("SELECT count(*) FROM subscriptions WHERE mapapp_mailbox(email) = mapapp_mailbox(?)",
                      [address]).fetchone()[0]


def purge_unconfirmed(db: sqlite_utils.Database, at: str) -> int:
    """Delete the subscriptions never confirmed whose link expired before ``at``; how many."""
    return db.execute("DELETE FROM subscriptions WHERE state = 'unconfirmed' AND token_expires_at < ?",
                      [at]).rowcount


def due(db: sqlite_utils.Database, frequency: str, before: str) -> list[dict]:
    """Active subscriptions of ``frequency`` last sent before ``before``."""
    return dict_rows(db.execute(f"SELECT {_SELECT} FROM subscriptions WHERE state = 'active' AND frequency = ?"  # nosec B608 # names from code
                                " AND last_sent_at < ? ORDER BY id", [frequency, before]))


def mark_sent(db: sqlite_utils.Database, subscription_id: int, at: str) -> None:
    """A digest went out (or there was nothing new) at ``at``."""
    db.execute("UPDATE subscriptions SET last_sent_at = ? WHERE id = ?", [at, subscription_id])


def new_since(db: sqlite_utils.Database, filters: Filters, since: str, limit: int = 100) -> list[dict]:
    """Published organisations matching ``filters`` that were added, or published, after
    ``since``: newest first."""
    where, params = _where(filters)
    cursor = db.execute(
        f"SELECT o.slug, o.name, o.city, o.country FROM organisations o WHERE {where} AND (o.created_at > ?"  # nosec B608 # clauses from code; values bound
        " OR o.id IN (SELECT organisation_id FROM audit_log WHERE action = 'status:published' AND at > ?))"
        " ORDER BY o.created_at DESC, o.id DESC LIMIT ?", [*params, since, since, limit])
    return [dict(zip(("slug", "name", "city", "country"), r)) for r in cursor]
