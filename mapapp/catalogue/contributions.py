"""What visitors send in (new organisations, corrections, closures) until a moderator
decides, and the proof-of-work answers already used."""

from __future__ import annotations

import json

import sqlite_utils

from .base import now
from .scope import clause as scope_clause

_COLUMNS = ("id", "kind", "organisation_id", "proposal", "note", "email", "lang", "state", "token_expires_at",
            "country", "project", "created_at", "confirmed_at", "decided_at", "decided_by", "reason",
            "result_organisation_id")


def _row(cursor) -> list[dict]:
    out = []
    for values in cursor:
        row = dict(zip(_COLUMNS, values))
        row["proposal"] = json.loads(row["proposal"])
        out.append(row)
    return out


def add_contribution(db: sqlite_utils.Database, *, kind: str, organisation_id: int | None, proposal: dict,
                     note: str, email: str, lang: str, token_hash: str | None, token_expires_at: str | None, client: str,
                     country: str | None, project: str | None) -> int:
    """Store one contribution, unconfirmed; returns its id."""
    cursor = db.execute(
        "INSERT INTO contributions (kind, organisation_id, proposal, note, email, lang, token_hash,"
        " token_expires_at, client, country, project, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, organisation_id, json.dumps(proposal, ensure_ascii=False), note, email, lang, token_hash,
         token_expires_at, client, country, project, now()])
    return cursor.lastrowid


def contribution(db: sqlite_utils.Database, contribution_id: int) -> dict | None:
    """One contribution, whatever its state."""
    rows = _row(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM contributions WHERE id = ?",  # nosec B608 # columns from code
                           [contribution_id]))
    return rows[0] if rows else None


def contribution_by_token(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    """The unconfirmed contribution whose link carries this token (by its hash)."""
    rows = _row(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM contributions WHERE token_hash = ?",  # nosec B608 # columns from code
                           [token_hash]))
    return rows[0] if rows else None


def confirm_contribution(db: sqlite_utils.Database, contribution_id: int) -> None:
    """Into the moderation queue; the link's token is forgotten (a link works once)."""
    db.execute("UPDATE contributions SET state = 'pending', confirmed_at = ?, token_hash = NULL,"
               " token_expires_at = NULL WHERE id = ? AND state = 'unconfirmed'", [now(), contribution_id])


def forget_contribution(db: sqlite_utils.Database, contribution_id: int) -> None:
    """Delete a contribution that could not be confirmed (its e-mail never left)."""
    db.execute("DELETE FROM contributions WHERE id = ?", [contribution_id])


def recent_contributions(db: sqlite_utils.Database, *, since: str, client: str | None = None,
                         email: str | None = None) -> int:
    """How many contributions came from this client (hashed address) or e-mail since ``since``."""
    if client is not None:
        return db.execute("SELECT count(*) FROM contributions WHERE client = ? AND created_at >= ?",
                          [client, since]).fetchone()[0]
    return db.execute("SELECT count(*) FROM contributions WHERE mapapp_mailbox(email) = mapapp_mailbox(?)"
                      " AND created_at >= ?", [email, since]).fetchone()[0]


def contributions_in(db: sqlite_utils.Database, state: str, *, countries: tuple[str, ...] = (),
                     projects: tuple[str, ...] = (), limit: int = 200) -> list[dict]:
    """Contributions in one state, oldest first; only those of ``countries`` or ``projects``
    when given (a partner moderator's part of the queue): sent for them, or about an
    organisation of theirs (a correction that moves it elsewhere is theirs to judge too)."""
    where, params = _in_scope(state, countries, projects)
    order = "ASC" if state == "pending" else "DESC"
    return _row(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM contributions WHERE {' AND '.join(where)}"  # nosec B608 # clauses and columns from code; values bound
                           f" ORDER BY id {order} LIMIT ?", [*params, limit]))


def _in_scope(state: str, countries: tuple[str, ...], projects: tuple[str, ...]) -> tuple[list[str], list]:
    """The conditions (and their values) of the contributions in ``state`` of a moderator's part
    of the queue (see ``contributions_in``)."""
    where, params = ["state = ?"], [state]
    scope = []
    if countries:
        scope.append(f"country IN ({', '.join('?' * len(countries))})")
        params += list(countries)
    if projects:
        scope.append(f"project IN ({', '.join('?' * len(projects))})")
        params += list(projects)
    if scope:
        about, about_params = scope_clause("organisation_id", countries, projects)
        where.append("(" + " OR ".join([*scope, about]) + ")")
        params += about_params
    return where, params


def count_in(db: sqlite_utils.Database, state: str, *, countries: tuple[str, ...] = (),
             projects: tuple[str, ...] = ()) -> int:
    """How many contributions in ``state`` a moderator of ``countries`` or ``projects`` sees
    (everyone's when both are empty), as ``contributions_in`` lists them."""
    where, params = _in_scope(state, countries, projects)
    return db.execute(f"SELECT count(*) FROM contributions WHERE {' AND '.join(where)}",  # nosec B608 # clauses from code; values bound
                      params).fetchone()[0]


def confirmed_between(db: sqlite_utils.Database, *, since: str | None, before: str, countries: tuple[str, ...] = (),
                      projects: tuple[str, ...] = (), limit: int = 50) -> list[dict]:
    """Pending contributions of a moderator's part confirmed from ``since`` (None: ever) until
    just before ``before``, oldest first: what a digest tells of."""
    where, params = _in_scope("pending", countries, projects)
    where.append("confirmed_at < ?")
    params.append(before)
    if since is not None:
        where.append("confirmed_at >= ?")
        params.append(since)
    return _row(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM contributions WHERE {' AND '.join(where)}"  # nosec B608 # clauses and columns from code; values bound
                           " ORDER BY confirmed_at, id LIMIT ?", [*params, limit]))


def count_contributions(db: sqlite_utils.Database, state: str) -> int:
    """How many contributions are in ``state``."""
    return db.execute("SELECT count(*) FROM contributions WHERE state = ?", [state]).fetchone()[0]


def decide_contribution(db: sqlite_utils.Database, contribution_id: int, state: str, *, by: str,
                        reason: str = "", result_organisation_id: int | None = None) -> bool:
    """Record a moderator's decision on a pending contribution; False if it was not pending
    (decided meanwhile by someone else)."""
    cursor = db.execute("UPDATE contributions SET state = ?, decided_at = ?, decided_by = ?, reason = ?,"
                        " result_organisation_id = ? WHERE id = ? AND state = 'pending'",
                        [state, now(), by, reason, result_organisation_id, contribution_id])
    return cursor.rowcount == 1


def reopen_contribution(db: sqlite_utils.Database, contribution_id: int) -> None:
    """Back into the queue (its decision undone)."""
    db.execute("UPDATE contributions SET state = 'pending', decided_at = NULL, decided_by = NULL, reason = '',"
               " result_organisation_id = NULL WHERE id = ?", [contribution_id])


def purge_unconfirmed(db: sqlite_utils.Database, at: str) -> int:
    """Delete the contributions never confirmed whose link expired before ``at``; how many."""
    return db.execute("DELETE FROM contributions WHERE state = 'unconfirmed' AND token_expires_at < ?",
                      [at]).rowcount


def use_challenge(db: sqlite_utils.Database, signature: str, expires_at: int, at: int) -> bool:
    """Note a proof-of-work answer as used; False if it had been used already."""
    db.execute("DELETE FROM used_challenges WHERE expires_at < ?", [at])
    cursor = db.execute("INSERT OR IGNORE INTO used_challenges VALUES (?, ?)", [signature, expires_at])
    return cursor.rowcount == 1
