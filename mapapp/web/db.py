"""The request's catalogue connection: opened on first use, kept for the thread's next
request.

Opening a connection costs more than most answers: SQLite reads and parses the whole
schema (tables, triggers, the search index) at its first statement, and closing frees its
page cache; 8 ms of each request on a quiet host, 30 ms on a busy one (issue 31). So each
thread of a worker keeps its connection between requests, to the same file: another path,
or another file at the path (a restored backup, a copy over it), opens a new one.
"""

from __future__ import annotations

import sqlite3
import threading

import sqlite_utils
from flask import Flask, current_app, g, has_app_context

from .. import catalogue, kinds
from ..catalogue import categorytree
from ..catalogue.migrations import SchemaError

_kept = threading.local()  # .connection: (the file's identity, connection) of this thread
# A kept connection's page cache (the catalogue's own connections keep 64 MiB, for imports):
# a worker's threads each keep one, and every write elsewhere empties it anyway.
KEPT_CACHE_KIB = 8192


def get_db() -> sqlite_utils.Database:
    """The catalogue connection for this request (or CLI command)."""
    if "db" not in g:
        g.db = _connection(current_app.config["DATABASE"])
    return g.db


def _connection(path: str) -> sqlite_utils.Database:
    """This thread's kept connection to the file at ``path``, or a new one."""
    where = catalogue.file_identity(path)
    kept = getattr(_kept, "connection", None)
    if kept is not None and where is not None and kept[0] == where:
        return kept[1]
    _kept.connection = None
    if kept is not None:
        kept[1].close()
    # No migration inside a request: create_app (or `mapapp init`) upgraded the catalogue.
    db = catalogue.connect(path, upgrade=False)
    db.execute(f"PRAGMA cache_size = -{KEPT_CACHE_KIB}")
    if where is not None:
        _kept.connection = (where, db)
    return db


def close_db(exc: BaseException | None = None) -> None:
    """End the request's use of the connection: anything left uncommitted is rolled back,
    and it is kept for the thread's next request (closed when it is not this thread's kept
    one)."""
    db = g.pop("db", None)
    if db is None:
        return
    kept = getattr(_kept, "connection", None)
    if kept is None or kept[1] is not db:
        db.close()
        return
    try:
        if db.conn.in_transaction:
            db.conn.rollback()
    except sqlite3.Error:
        _kept.connection = None
        db.close()


def close_kept() -> None:
    """Close this thread's kept connection (as a worker's exit does): before a file is copied
    over the catalogue, no connection may hold it open."""
    kept, _kept.connection = getattr(_kept, "connection", None), None
    if kept is not None:
        kept[1].close()


def category_tree() -> categorytree.Tree | None:
    """The request's category tree (read once per catalogue state, kept for the request);
    None outside an app context, or when the catalogue cannot be read (an error page)."""
    if not has_app_context():
        return None
    if "mapapp_categories" not in g:
        try:
            g.mapapp_categories = categorytree.cached(get_db())
        except (catalogue.CatalogueError, SchemaError, sqlite3.Error):
            return None
    return g.mapapp_categories


def init_app(app: Flask, *, upgrade: bool = True) -> None:
    """Register the teardown with the app; with ``upgrade``, bring the catalogue up to date now.
    The ``theme`` filter kind reads the request's category tree."""
    app.teardown_appcontext(close_db)
    kinds.read_categories_with(category_tree)
    if upgrade:
        upgrade_catalogue(app)


def upgrade_catalogue(app: Flask) -> None:
    """Migrate the catalogue at start-up, once for the process. One that cannot be opened or
    upgraded does not stop the app: /healthz answers 503 and the log says why, until the
    operator fixes it and runs ``mapapp init`` (or restarts)."""
    try:
        catalogue.connect(app.config["DATABASE"]).close()
    except (catalogue.CatalogueError, SchemaError, sqlite3.Error) as e:
        app.logger.error("the catalogue was not upgraded at start-up: %s; requests will fail until "
                         "`mapapp init` succeeds", e)


def take_db() -> sqlite_utils.Database:
    """The request's connection, handed over to an answer streamed after the request has
    ended (which closes it when it is done): teardown no longer closes it."""
    db = get_db()
    g.pop("db", None)
    kept = getattr(_kept, "connection", None)
    if kept is not None and kept[1] is db:  # the answer closes it: the thread opens another
        _kept.connection = None
    return db
