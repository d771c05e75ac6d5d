"""The catalogue's connection, transactions and the names shared by its queries."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from ..text import fold_text, mailbox
from .migrations import migrate

FIELDS = (
    "name", "description", "relation", "structure", "legal_form",
    "street", "postcode", "city", "region", "country",
    "lat", "lon", "geo_precision", "geo_source",
    "website", "email", "phone", "status", "source", "source_ref",
)
PUBLIC_FIELDS = (
    "slug", "name", "description", "relation", "structure", "legal_form",
    "street", "postcode", "city", "region", "country", "lat", "lon", "geo_precision",
    "website", "email", "phone",
)


class CatalogueError(Exception):
    """The catalogue file cannot be opened or used."""


@dataclass(frozen=True)
class Saved:
    """Outcome of saving one organisation: its id, slug and what happened."""

    id: int
    slug: str
    action: str  # "created", "updated" or "unchanged"


@contextmanager
def write_transaction(db: sqlite_utils.Database):
    """A transaction that takes the write lock at once (``BEGIN IMMEDIATE``), for
    multi-step writes that read before they write; rolled back on any exception."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the catalogue at ``path`` and bring its schema up to date."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        # The search index's triggers fold text with it (see migration 8).
        db.conn.create_function("mapapp_fold", 1, fold_text, deterministic=True)
        # Limits per recipient count addresses by the mailbox they reach (see text.mailbox).
        db.conn.create_function("mapapp_mailbox", 1, mailbox, deterministic=True)
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        # 64 MiB of page cache keeps a large import's index pages in memory;
        # NORMAL is the durable-enough setting for WAL (no fsync at every commit).
        db.execute("PRAGMA cache_size = -65536")
        db.execute("PRAGMA synchronous = NORMAL")
    except (OSError, sqlite3.Error) as e:
        raise CatalogueError(
            f"cannot open the catalogue at {path}: {e}; check MAPAPP_DATABASE and the "
            "folder's permissions"
        ) from e
    migrate(db)
    return db


def now() -> str:
    """The current UTC time, as stored in the catalogue."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def next_id(db: sqlite_utils.Database, table: str) -> int:
    """The id SQLite would give the next row of ``table``: past every id it ever gave
    (``sqlite_sequence``, see migration 21), for writers that number rows themselves."""
    return db.execute(
        f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0),"  # nosec B608 # table name from code
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)) + 1", [table]).fetchone()[0]


def related_of(themes=(), needs=None, offers=None, descriptions=None) -> dict:
    """Themes, needs, offers and translations in the one order used for comparing."""
    return {
        "themes": sorted(set(themes)),
        "needs": dict(sorted((needs or {}).items())),
        "offers": dict(sorted((offers or {}).items())),
        "descriptions": dict(sorted((descriptions or {}).items())),
    }


def read_related(db: sqlite_utils.Database, org_id: int) -> dict:
    """An organisation's themes, needs, offers and translated descriptions."""
    related = related_of()
    related["themes"] = [r[0] for r in db.execute(
        "SELECT theme FROM organisation_themes WHERE organisation_id = ? ORDER BY theme", [org_id])]
    for kind, resource, detail in db.execute(
        "SELECT kind, resource, detail FROM organisation_resources WHERE organisation_id = ?"
        " ORDER BY resource", [org_id],
    ):
        related[f"{kind}s"][resource] = detail
    related["descriptions"] = dict(db.execute(
        "SELECT lang, description FROM organisation_descriptions WHERE organisation_id = ?"
        " ORDER BY lang", [org_id]).fetchall())
    return related


def dict_rows(cursor) -> list[dict]:
    """A cursor's rows as dicts, with ``themes`` (a JSON array) decoded."""
    columns = [d[0] for d in cursor.description]
    out = []
    for values in cursor:
        row = dict(zip(columns, values))
        if "themes" in row:
            row["themes"] = json.loads(row["themes"])
        out.append(row)
    return out
