"""The request's catalogue connection: opened on first use, closed at teardown."""

from __future__ import annotations

import sqlite3

import sqlite_utils
from flask import Flask, current_app, g, has_app_context

from .. import catalogue, kinds
from ..catalogue import categorytree
from ..catalogue.migrations import SchemaError


def get_db() -> sqlite_utils.Database:
    """The catalogue connection for this request (or CLI command)."""
    if "db" not in g:
        # No migration inside a request: create_app (or `mapapp init`) upgraded the catalogue.
        g.db = catalogue.connect(current_app.config["DATABASE"], upgrade=False)
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Close the connection opened by ``get_db``, if any."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


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
    return db
