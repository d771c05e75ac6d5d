"""The catalogue's connection, transactions and the names shared by its queries."""

from __future__ import annotations

import hashlib
import json
import os
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


def unique_slug(base: str, taken) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first not in ``taken`` (a set, or a
    callable saying whether a slug is in use)."""
    in_use = taken if callable(taken) else taken.__contains__
    slug, n = base, 1
    while in_use(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def slug_in_use(db: sqlite_utils.Database, table: str):
    """A callable for ``unique_slug``: is this slug taken in ``table``?"""
    return lambda slug: db.execute(f"SELECT 1 FROM {table} WHERE slug = ?", [slug]).fetchone() is not None  # nosec B608 # table name from code


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


@dataclass(frozen=True)
class State:
    """Which catalogue this is and how far it has come: what every cache keys on.

    ``lineage`` names the file and its history: its path, device and inode, and SQLite's
    schema cookie (``PRAGMA schema_version``). A file moved or copied into place is another
    inode (the path is there too: a deleted file's inode is soon given to another file);
    ``sqlite3 … ".restore"`` (SQLite's backup API) writes into the same inode but always
    raises the cookie, as a migration or a VACUUM do. Within one lineage ``version`` counts
    every public write, so what changed since an earlier version can be patched in (the
    map's columns are).

    ``key`` changes whenever what the public sees may have: another lineage, another version,
    or the same version reached at another moment (``changed_at``). So a backup restored at
    the same version number is never answered from the caches of the state it replaced,
    even one rewritten byte for byte into the same file. Nothing is stored for it (no
    random id in the catalogue, which would need a schema change): it is one query and one
    ``stat``, cheap enough for every request."""

    lineage: str
    version: int
    changed_at: str

    @property
    def key(self) -> str:
        """The short string every cache (ETags, insights, exports, map columns) keys on."""
        return hashlib.sha1(f"{self.lineage}|{self.version}|{self.changed_at}".encode(),
                            usedforsecurity=False).hexdigest()[:16]


def state(db: sqlite_utils.Database) -> State:
    """The catalogue's current ``State`` (see there)."""
    version, changed_at, cookie, path = db.execute(
        "SELECT version, changed_at, (SELECT schema_version FROM pragma_schema_version),"
        " (SELECT file FROM pragma_database_list WHERE name = 'main')"
        " FROM catalogue_version WHERE id = 1").fetchone()
    try:
        found = os.stat(path) if path else None
        place = f"{path}|{found.st_dev}:{found.st_ino}" if found else f"memory:{id(db.conn)}"
    except OSError:  # gone from under a live connection: still one catalogue until it closes
        place = f"{path}:gone"
    lineage = hashlib.sha1(f"{place}|{cookie}".encode(), usedforsecurity=False).hexdigest()[:12]
    return State(lineage, version, changed_at)


def state_key(db: sqlite_utils.Database) -> str:
    """The one key of the catalogue's state that every cache keys on (``State.key``)."""
    return state(db).key
