"""Imports started from the browser: their record, and running them in the background.

A job runs in a thread of the web process with its own catalogue connection and
records its progress in the ``imports`` table, so any page (or worker) can show it.
"""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from . import catalogue, geocode, importer

_FIELDS = ("id", "user_email", "filename", "stored_path", "source", "project", "status_choice", "mapping",
           "state", "rows_total", "rows_done", "counts", "error", "created_at", "heartbeat_at", "finished_at")
# A running import that has not reported progress for this long died with its process.
STALE_SECONDS = 300


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def create(db: sqlite_utils.Database, *, user_email: str, filename: str, stored_path: str, source: str,
           project: str | None, status_choice: str | None) -> int:
    """Record an uploaded file awaiting its preview; return the import's id."""
    cursor = db.execute(
        "INSERT INTO imports (user_email, filename, stored_path, source, project, status_choice, state, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'preview', ?)",
        [user_email, filename, stored_path, source, project or None, status_choice or None, _now()])
    return cursor.lastrowid


def get(db: sqlite_utils.Database, import_id: int) -> dict | None:
    """One import's record (``mapping`` and ``counts`` decoded). A running import whose
    process died (no progress for ``STALE_SECONDS``) is recorded as failed: being one
    transaction, it changed nothing."""
    row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM imports WHERE id = ?", [import_id]).fetchone()
    if row and row[_FIELDS.index("state")] == "running" and \
            (row[_FIELDS.index("heartbeat_at")] or 0) < time.time() - STALE_SECONDS:
        db.execute("UPDATE imports SET state = 'failed', finished_at = ?, error = ? WHERE id = ? AND state = 'running'",
                   [_now(), "interrupted (the server stopped during the import); nothing was changed: "
                            "start it again", import_id])
        row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM imports WHERE id = ?", [import_id]).fetchone()
    if row is None:
        return None
    record = dict(zip(_FIELDS, row))
    record["mapping"] = json.loads(record["mapping"]) if record["mapping"] else None
    record["counts"] = json.loads(record["counts"]) if record["counts"] else None
    return record


def history(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    """The latest imports, newest first."""
    ids = [r[0] for r in db.execute("SELECT id FROM imports ORDER BY id DESC LIMIT ?", [limit])]
    return [get(db, i) for i in ids]


def set_mapping(db: sqlite_utils.Database, import_id: int, mapping: dict) -> None:
    """Remember the column mapping chosen on the preview page."""
    db.execute("UPDATE imports SET mapping = ? WHERE id = ?", [json.dumps(mapping, ensure_ascii=False), import_id])


def report_csv(db: sqlite_utils.Database, import_id: int) -> str | None:
    """The row-by-row report of a finished import, as CSV text."""
    row = db.execute("SELECT report_csv FROM imports WHERE id = ?", [import_id]).fetchone()
    return row[0] if row else None


def save_mapping(db: sqlite_utils.Database, name: str, mapping: dict) -> None:
    """Keep a mapping under a name, for the next file of the same kind."""
    db.execute("INSERT INTO saved_mappings VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
               " mapping = excluded.mapping, updated_at = excluded.updated_at",
               [name, json.dumps(mapping, ensure_ascii=False), _now()])


def saved_mappings(db: sqlite_utils.Database) -> dict[str, dict]:
    """The named mappings, by name."""
    return {name: json.loads(m) for name, m in db.execute("SELECT name, mapping FROM saved_mappings ORDER BY name")}


def options_for(record: dict, *, dry_run: bool) -> importer.Options:
    """The importer options an import record stands for."""
    mapping = record["mapping"]
    return importer.Options(source=record["source"], project=record["project"],
                            status=record["status_choice"], dry_run=dry_run,
                            mapping={"columns": mapping["columns"], "ignore": mapping["ignore"]} if mapping else None)


def start(database: str | Path, import_id: int, settings: dict) -> threading.Thread:
    """Run the import in a background thread; return the thread."""
    db = catalogue.connect(database)
    db.execute("UPDATE imports SET state = 'running', rows_done = 0, heartbeat_at = ? WHERE id = ?",
               [time.time(), import_id])
    db.close()
    thread = threading.Thread(target=run, args=(database, import_id, settings), daemon=True,
                              name=f"import-{import_id}")
    thread.start()
    return thread


def run(database: str | Path, import_id: int, settings: dict) -> None:
    """Do the import and record its outcome (never raises: a failure is recorded)."""
    db = catalogue.connect(database)
    try:
        record = get(db, import_id)
        options = options_for(record, dry_run=False)

        def progress(done: int, total: int) -> None:
            db.execute("UPDATE imports SET rows_done = ?, rows_total = ?, heartbeat_at = ? WHERE id = ?",
                       [done, total, time.time(), import_id])

        options.progress = progress
        chain = geocode.chain_from_settings(settings, db)
        report = importer.import_file(db, record["stored_path"], options, chain)
        _audit_changes(db, record, report.changes)
        out = io.StringIO()
        report.write_csv(out)
        db.execute("UPDATE imports SET state = 'done', counts = ?, report_csv = ?, finished_at = ? WHERE id = ?",
                   [json.dumps(report.counts), out.getvalue(), _now(), import_id])
    except Exception as e:  # recorded for the staff member; the catalogue is unchanged
        db.execute("UPDATE imports SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
                   [str(e) or type(e).__name__, _now(), import_id])
    finally:
        db.close()


def _audit_changes(db: sqlite_utils.Database, record: dict, changes: list) -> None:
    with catalogue.write_transaction(db):
        db.conn.executemany(
            "INSERT INTO audit_log (at, user_email, organisation_id, action, before, after) VALUES (?, ?, ?, ?, ?, NULL)",
            [(_now(), record["user_email"], org_id, f"import:{record['id']}:{action}",
              json.dumps(before, ensure_ascii=False) if before is not None else None)
             for org_id, action, before in changes])


def undo(db: sqlite_utils.Database, import_id: int, user_email: str) -> dict[str, int]:
    """Undo a finished import: delete the organisations it created, restore those it updated
    (as they were before it). One transaction; returns how many of each."""
    counts = {"deleted": 0, "restored": 0}
    with catalogue.write_transaction(db):
        rows = db.execute("SELECT organisation_id, action, before FROM audit_log WHERE action LIKE ?"
                          " ORDER BY id DESC", [f"import:{import_id}:%"]).fetchall()
        for org_id, action, before in rows:
            current = catalogue.organisation_snapshot(db, org_id)
            if current is None:
                continue
            if action.endswith(":created"):
                catalogue.delete_organisation(db, org_id)
                counts["deleted"] += 1
            elif before:
                catalogue.apply_snapshot(db, org_id, {**current, **json.loads(before)})
                counts["restored"] += 1
        db.execute("UPDATE imports SET state = 'undone', error = ? WHERE id = ?",
                   [f"undone by {user_email} at {_now()}", import_id])
        db.execute("INSERT INTO audit_log (at, user_email, organisation_id, action) VALUES (?, ?, NULL, ?)",
                   [_now(), user_email, f"undo-import:{import_id}"])
    return counts
