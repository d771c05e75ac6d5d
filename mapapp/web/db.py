"""The request's catalogue connection: opened on first use, closed at teardown."""

from __future__ import annotations

import sqlite_utils
from flask import Flask, current_app, g

from .. import catalogue


def get_db() -> sqlite_utils.Database:
    """The catalogue connection for this request (or CLI command)."""
    if "db" not in g:
        g.db = catalogue.connect(current_app.config["DATABASE"])
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Close the connection opened by ``get_db``, if any."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    """Register the teardown with the app."""
    app.teardown_appcontext(close_db)


def take_db() -> sqlite_utils.Database:
    """The request's connection, handed over to an answer streamed after the request has
    ended (which closes it when it is done): teardown no longer closes it."""
    db = get_db()
    g.pop("db", None)
    return db
