"""The catalogue's connection, transactions and the names shared by its queries."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .. import text
from ..text import fold_text, mailbox
from . import migrations
from .migrations import SchemaError, applied, migrate

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

logger = logging.getLogger(__name__)

FIELDS = (
    "name", "description", "relation", "structure", "legal_form",
    "street", "postcode", "city", "region", "country",
    "lat", "lon", "geo_precision", "geo_source",
    "website", "email", "phone", "status", "source", "source_ref",
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
    multi-step writes that read before they write; rolled back on any exception. Inside an
    open transaction, a savepoint of it.

    A deferred transaction (``db.atomic()``) that reads first and then writes cannot wait
    for an import's batch: SQLite refuses it at once ("database is locked") when another
    writer committed after its read. This one waits (``BUSY_TIMEOUT_SECONDS``)."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _announced(db):
        db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:  # an I/O error or an interrupt may have rolled it back already
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def _writers_file(db: sqlite_utils.Database) -> int | None:
    """The catalogue's ``-writers`` file, opened (None: a catalogue opened without ``connect``,
    or a read-only folder, whose imports pause after every batch instead)."""
    path = getattr(db, "_mapapp_writers", None)
    if path is None:
        return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    except OSError:
        return None


@contextmanager
def _announced(db: sqlite_utils.Database):
    """While waiting for the write lock, hold a shared lock on the catalogue's ``-writers``
    file, so that an import committing in batches knows someone waits (``writers_waiting``)."""
    fd = _writers_file(db)
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def writers_waiting(db: sqlite_utils.Database) -> bool | None:
    """Whether a ``write_transaction`` of another connection waits for the write lock now
    (None: this catalogue cannot tell, see ``_writers_file``)."""
    fd = _writers_file(db)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# How long a write waits for another's transaction (an import's batch, a sync, a migration)
# before "database is locked": a staff edit or a contribution made during an import waits
# for the batch being written, and succeeds. Readers never wait (WAL).
BUSY_TIMEOUT_SECONDS = 60


def connect(path: str | Path, *, upgrade: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the catalogue at ``path``.

    With ``upgrade`` (the command line, jobs, tests) its schema and search index are brought
    up to date first. A web request's connection passes ``upgrade=False``: ``create_app``
    upgraded the catalogue at start-up, so the request only checks that it is current and
    raises ``CatalogueError`` saying to run ``mapapp init`` if it is not.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        # The search index's triggers fold text with it (see migration 8 and text.FOLD_VERSION).
        db.conn.create_function("mapapp_fold", 1, fold_text, deterministic=True)
        # Limits per recipient count addresses by the mailbox they reach (see text.mailbox).
        db.conn.create_function("mapapp_mailbox", 1, mailbox, deterministic=True)
        # The lists' order: organisations.sort_key (see migration 32 and text.SORT_VERSION).
        db.conn.create_function("mapapp_sort_key", 1, text.sort_key, deterministic=True)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        # 64 MiB of page cache keeps a large import's index pages in memory;
        # NORMAL is the durable-enough setting for WAL (no fsync at every commit).
        db.execute("PRAGMA cache_size = -65536")
        db.execute("PRAGMA synchronous = NORMAL")
        db._mapapp_writers = f"{path}-writers"  # see write_transaction
    except (OSError, sqlite3.Error) as e:
        raise CatalogueError(
            f"cannot open the catalogue at {path}: {e}; check MAPAPP_DATABASE and the "
            "folder's permissions"
        ) from e
    try:
        if upgrade:
            _upgrade(db, path)
        else:
            _require_current(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _state(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """The newest migration applied and the fold the search index was built with."""
    try:
        version, fold = db.execute(
            "SELECT (SELECT max(version) FROM _migrations),"
            " (SELECT value FROM catalogue_meta WHERE key = 'fold_version')").fetchone()
    except sqlite3.OperationalError:  # no such table: a new file, or older than migration 25
        return max(applied(db), default=0), None
    return version or 0, fold


def _sort_version(db: sqlite_utils.Database) -> str | None:
    """The text.SORT_VERSION the organisations' sort keys were computed with."""
    try:
        found = db.execute("SELECT value FROM catalogue_meta WHERE key = 'sort_version'").fetchone()
    except sqlite3.OperationalError:  # older than migration 25
        return None
    return found[0] if found else None


def _is_current(db: sqlite_utils.Database) -> bool:
    return (_state(db) == (migrations.MIGRATIONS[-1][0], str(text.FOLD_VERSION))
            and _sort_version(db) == str(text.SORT_VERSION))


def _require_current(db: sqlite_utils.Database, path: Path) -> None:
    if _is_current(db):
        return
    version, fold = _state(db)
    newest = migrations.MIGRATIONS[-1][0]
    if version > newest:
        raise SchemaError(
            f"the catalogue at {path} is at schema version {version}, newer than this mapapp "
            f"knows ({newest}); upgrade mapapp or point MAPAPP_DATABASE at another file")
    raise CatalogueError(
        f"the catalogue at {path} is at schema version {version} with search fold {fold or 'unknown'}; "
        f"this mapapp needs {newest} and fold {text.FOLD_VERSION}: run `mapapp init` (or restart the app) "
        "to upgrade it")


@contextmanager
def _upgrade_lock(path: Path):
    """Held by one process at a time while it upgrades the catalogue at ``path``: workers
    starting together wait here rather than time out on SQLite's lock behind a long migration.
    A file of its own, because a second descriptor on the database file would release
    SQLite's own locks when closed."""
    if fcntl is None:  # no flock (Windows): BEGIN IMMEDIATE in migrate still applies each migration once
        yield
        return
    with open(path.with_name(path.name + "-upgrade.lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _upgrade(db: sqlite_utils.Database, path: Path) -> None:
    if _is_current(db):
        return
    with _upgrade_lock(path):
        done = migrate(db)
        if done:
            logger.info("catalogue %s: applied migrations %s", path, ", ".join(done))
        _refold(db, path)
        _resort(db, path)
        if db["categories"].exists():  # (a test's catalogue of an older schema has none)
            from .categories import seed_default
            seed_default(db)


def _refold(db: sqlite_utils.Database, path: Path) -> None:
    """Rebuild the search index when it was built with another fold than text.fold_text's:
    its triggers delete a row by folding the old text again, so tokens folded differently
    would stay in the index for ever and the index would drift from the organisations."""
    if not db["catalogue_meta"].exists():  # a catalogue held before migration 25 (tests)
        return
    with write_transaction(db):
        stored = _state(db)[1]
        if stored == str(text.FOLD_VERSION):
            return
        if db.execute("SELECT EXISTS (SELECT 1 FROM organisations)").fetchone()[0]:  # a new catalogue: nothing to say
            logger.warning("catalogue %s: the search index was built with fold version %s, this mapapp folds "
                           "with version %s; rebuilding it", path, stored or "unknown", text.FOLD_VERSION)
        db.execute("INSERT INTO organisations_fts (organisations_fts) VALUES ('delete-all')")
        db.execute("INSERT INTO organisations_fts (rowid, name, description, city)"
                   " SELECT id, mapapp_fold(name), mapapp_fold(description), mapapp_fold(city) FROM organisations")
        db.execute("INSERT INTO catalogue_meta (key, value) VALUES ('fold_version', ?)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [str(text.FOLD_VERSION)])


def _resort(db: sqlite_utils.Database, path: Path) -> None:
    """Compute every organisation's sort key again when they were computed by another
    text.sort_key than this one (as ``_refold`` does for the search index); the map's
    columns read before are read again (organisation 0 noted as changed)."""
    if not db["organisations"].exists() or "sort_key" not in db["organisations"].columns_dict:
        return  # a test's catalogue of an older schema
    with write_transaction(db):
        if _sort_version(db) == str(text.SORT_VERSION):
            return
        logger.warning("catalogue %s: the lists' sort keys were computed with version %s, this mapapp "
                       "sorts with version %s; computing them again", path, _sort_version(db), text.SORT_VERSION)
        db.execute("UPDATE organisations SET sort_key = mapapp_sort_key(name)"
                   " WHERE sort_key IS NOT mapapp_sort_key(name)")
        db.execute("INSERT INTO organisation_changes VALUES (0, (SELECT version FROM catalogue_version WHERE id = 1))"
                   " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version")
        db.execute("INSERT INTO catalogue_meta (key, value) VALUES ('sort_version', ?)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [str(text.SORT_VERSION)])


def rows_for_ids(db, sql: str, ids: list[int], size: int = 500):
    """The rows of ``sql`` for ``ids``, asked ``size`` at a time (SQLite limits bound
    parameters): ``sql`` holds ``{marks}`` where the chunk's ``?`` go."""
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        yield from db.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk)

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
    """Themes, needs, offers and translations in the one order used for comparing. Themes
    keep the order given (the first is the main category, its rank 0), without repeats."""
    return {
        "themes": list(dict.fromkeys(themes)),
        "needs": dict(sorted((needs or {}).items())),
        "offers": dict(sorted((offers or {}).items())),
        "descriptions": dict(sorted((descriptions or {}).items())),
    }


def read_related(db: sqlite_utils.Database, org_id: int) -> dict:
    """An organisation's themes, needs, offers and translated descriptions."""
    related = related_of()
    related["themes"] = [r[0] for r in db.execute(
        "SELECT theme FROM organisation_themes WHERE organisation_id = ? ORDER BY rank, theme", [org_id])]
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


# In ``catalogue_meta``: "<cookie before>:<cookie after>" of the last time an import dropped
# and re-created its triggers (``writes.bulk_insert``). That raises the schema cookie as a
# migration or a restore does, but the catalogue is the same one: its lineage, and so the
# map's columns patched forward, must stay (a one-row import at a million organisations
# read them all again: 20 s).
TRIGGERS_SWAPPED = "triggers_swapped"


def lineage_cookie(cookie: int, swapped: str | None) -> int:
    """The schema cookie the lineage is made of: the one before an import's trigger swap
    when nothing changed the schema since that swap (else the cookie itself)."""
    before, _, after = (swapped or "").partition(":")
    if before.isdigit() and after.isdigit() and int(after) == cookie:
        return int(before)
    return cookie


def file_identity(path: str) -> tuple | None:
    """What tells one catalogue file at ``path`` from another put there (a restored backup, a
    file copied over it) for a connection kept open: its device, inode and modification time
    (the main file changes on a checkpoint or a copy, not at each write, which goes to the
    WAL). None when there is no file."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (str(path), found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size)


def state(db: sqlite_utils.Database) -> State:
    """The catalogue's current ``State`` (see there)."""
    version, changed_at, cookie, path, swapped = db.execute(
        "SELECT version, changed_at, (SELECT schema_version FROM pragma_schema_version),"
        " (SELECT file FROM pragma_database_list WHERE name = 'main'),"
        " (SELECT value FROM catalogue_meta WHERE key = ?)"
        " FROM catalogue_version WHERE id = 1", [TRIGGERS_SWAPPED]).fetchone()
    cookie = lineage_cookie(cookie, swapped)
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
