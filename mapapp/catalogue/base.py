"""The catalogue's connection, transactions and the names shared by its queries."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

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
FICTIONAL_SOURCE = "demo"


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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _unique_slug(db: sqlite_utils.Database, table: str, base: str) -> str:
    slug, n = base, 1
    while db.execute(f"SELECT 1 FROM {table} WHERE slug = ?", [slug]).fetchone():  # nosec B608 # names and ? placeholders come from code; values are bound
        n += 1
        slug = f"{base}-{n}"
    return slug
