"""What changed on the public map since a moment: organisations new or changed (by their
``updated_at``), and those withdrawn from it (unpublished, archived, deleted)."""

from __future__ import annotations

import sqlite_utils

from ..filters import Filters
from .base import dict_rows
from .reads import _LIST_COLUMNS, _where


def changed_since(db: sqlite_utils.Database, filters: Filters, since: str, after_id: int, limit: int) -> list[dict]:
    """Published organisations matching ``filters`` changed after ``(since, after_id)``, oldest
    first (a cursor: the last row's ``updated_at`` and ``id`` give the next page)."""
    where, params = _where(filters)
    return dict_rows(db.execute(
        f"SELECT {_LIST_COLUMNS}, o.created_at, o.updated_at FROM organisations o"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" WHERE {where} AND (o.updated_at > ? OR (o.updated_at = ? AND o.id > ?))"
        " ORDER BY o.updated_at, o.id LIMIT ?", [*params, since, since, after_id, limit]))


def latest(db: sqlite_utils.Database, filters: Filters, limit: int, lang: str) -> list[dict]:
    """The published organisations matching ``filters`` changed last, newest first, with
    their description in ``lang`` where one was given (``description_in_lang``)."""
    where, params = _where(filters)
    return dict_rows(db.execute(
        f"SELECT {_LIST_COLUMNS}, o.created_at, o.updated_at, coalesce((SELECT d.description"  # nosec B608 # names and ? placeholders come from code; values are bound
        " FROM organisation_descriptions d WHERE d.organisation_id = o.id AND d.lang = ?), o.description)"
        f" AS description_in_lang FROM organisations o WHERE {where} ORDER BY o.updated_at DESC, o.id DESC LIMIT ?",
        [lang, *params, limit]))


def withdrawn_since(db: sqlite_utils.Database, since: str, limit: int) -> list[dict]:
    """Organisations withdrawn from the public map after ``since``, oldest first."""
    return [dict(zip(("id", "slug", "at"), r)) for r in db.execute(
        "SELECT organisation_id, slug, at FROM withdrawn_organisations WHERE at > ? ORDER BY at, id LIMIT ?",
        [since, limit])]


def published_needs_and_offers(db: sqlite_utils.Database):
    """``(slug, kind, resource)`` of every published organisation (``kind`` None: it has no
    need or offer), by slug: what the network's profiles are made of."""
    return db.conn.execute(
        "SELECT o.slug, r.kind, r.resource FROM organisations o"
        " LEFT JOIN organisation_resources r ON r.organisation_id = o.id"
        " WHERE o.status = 'published' ORDER BY o.slug, r.kind, r.resource")
