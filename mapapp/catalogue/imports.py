"""Imports started from the browser (the ``imports`` table) and the saved column mappings."""

from __future__ import annotations

import json
import time

import sqlite_utils

from .base import now, write_transaction

FIELDS = ("id", "user_email", "filename", "stored_path", "source", "project", "status_choice", "mapping",
          "state", "rows_total", "rows_done", "counts", "error", "created_at", "heartbeat_at", "finished_at",
          "file_sha256")
_SELECT = ", ".join(FIELDS)
_SETTABLE = frozenset(("rows_done", "rows_total", "heartbeat_at", "state", "error", "counts", "report_csv"))


class Busy(Exception):
    """The import cannot start: the message says why."""


def create(db: sqlite_utils.Database, *, user_email: str, filename: str, stored_path: str, source: str,
           project: str | None, status_choice: str | None, file_sha256: str) -> int:
    """Record an uploaded file awaiting its preview; return the import's id."""
    cursor = db.execute(
        "INSERT INTO imports (user_email, filename, stored_path, source, project, status_choice, state, created_at,"
        " file_sha256) VALUES (?, ?, ?, ?, ?, ?, 'preview', ?, ?)",
        [user_email, filename, stored_path, source, project or None, status_choice or None, now(), file_sha256])
    return cursor.lastrowid


def record(db: sqlite_utils.Database, import_id: int) -> dict | None:
    """One import's row, ``mapping`` and ``counts`` decoded."""
    row = db.execute(f"SELECT {_SELECT} FROM imports WHERE id = ?", [import_id]).fetchone()  # nosec B608 # column names from code
    if row is None:
        return None
    found = dict(zip(FIELDS, row))
    found["mapping"] = json.loads(found["mapping"]) if found["mapping"] else None
    found["counts"] = json.loads(found["counts"]) if found["counts"] else None
    return found


def latest_ids(db: sqlite_utils.Database, limit: int) -> list[int]:
    """The ids of the latest imports, newest first."""
    return [r[0] for r in db.execute("SELECT id FROM imports ORDER BY id DESC LIMIT ?", [limit])]


def mark_stale(db: sqlite_utils.Database, import_id: int, silent_since: float, error: str) -> bool:
    """Record a running import silent since before ``silent_since`` as failed; True if it was."""
    cursor = db.execute("UPDATE imports SET state = 'failed', finished_at = ?, error = ? WHERE id = ?"
                        " AND state = 'running' AND coalesce(heartbeat_at, 0) < ?",
                        [now(), error, import_id, silent_since])
    return cursor.rowcount == 1


def set_mapping(db: sqlite_utils.Database, import_id: int, mapping: dict) -> None:
    """Remember the column mapping chosen on the preview page."""
    db.execute("UPDATE imports SET mapping = ? WHERE id = ? AND state = 'preview'",
               [json.dumps(mapping, ensure_ascii=False), import_id])


def report_csv(db: sqlite_utils.Database, import_id: int) -> str | None:
    """The row-by-row report of a finished import, as CSV text."""
    row = db.execute("SELECT report_csv FROM imports WHERE id = ?", [import_id]).fetchone()
    return row[0] if row else None


def claim(db: sqlite_utils.Database, import_id: int) -> None:
    """Move an import from its preview to running, unless it runs already or another
    import of the same file or into the same source is running (``Busy``)."""
    with write_transaction(db):
        row = db.execute("SELECT state, file_sha256, source FROM imports WHERE id = ?", [import_id]).fetchone()
        if row is None or row[0] != "preview":
            raise Busy(f"import #{import_id} has already been started")
        other = db.execute(
            "SELECT id, user_email FROM imports WHERE state = 'running' AND id != ? AND (file_sha256 = ? OR source = ?)",
            [import_id, row[1], row[2]]).fetchone()
        if other:
            raise Busy(f"import #{other[0]} by {other[1]} is importing the same file or into the same "
                       "source right now: wait until it has finished")
        db.execute("UPDATE imports SET state = 'running', rows_done = 0, heartbeat_at = ? WHERE id = ?",
                   [time.time(), import_id])


def update_running(db: sqlite_utils.Database, import_id: int, **values) -> bool:
    """Set ``values`` (and the heartbeat) on a running import; False if it is no longer running."""
    values = {**values, "heartbeat_at": time.time()}
    unknown = set(values) - _SETTABLE
    if unknown:
        raise ValueError(f"not import fields: {', '.join(sorted(unknown))}")
    cursor = db.execute(f"UPDATE imports SET {', '.join(f'{k} = ?' for k in values)}"  # nosec B608 # names checked above
                        " WHERE id = ? AND state = 'running'", [*values.values(), import_id])
    return cursor.rowcount == 1


def finish(db: sqlite_utils.Database, import_id: int, state: str, **values) -> None:
    """Record the outcome of a running import (never over a final state)."""
    values = {"state": state, **values}
    unknown = set(values) - _SETTABLE
    if unknown:
        raise ValueError(f"not import fields: {', '.join(sorted(unknown))}")
    db.execute(f"UPDATE imports SET {', '.join(f'{k} = ?' for k in values)}, finished_at = ?"  # nosec B608 # names checked above
               " WHERE id = ? AND state = 'running'", [*values.values(), now(), import_id])


def mark_undone(db: sqlite_utils.Database, import_id: int, note: str) -> None:
    """Record that an import was undone."""
    db.execute("UPDATE imports SET state = 'undone', error = ? WHERE id = ?", [note, import_id])


def save_mapping(db: sqlite_utils.Database, name: str, mapping: dict) -> None:
    """Keep a mapping under a name, for the next file of the same kind."""
    db.execute("INSERT INTO saved_mappings VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
               " mapping = excluded.mapping, updated_at = excluded.updated_at",
               [name, json.dumps(mapping, ensure_ascii=False), now()])


def saved_mappings(db: sqlite_utils.Database) -> dict[str, dict]:
    """The named mappings, by name."""
    return {name: json.loads(m) for name, m in db.execute("SELECT name, mapping FROM saved_mappings ORDER BY name")}
