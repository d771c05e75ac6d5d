"""Imports started from the browser: their record, and running them in the background.

A job runs in a thread of the web process with its own catalogue connection and
records its progress in the ``imports`` table, so any page (or worker) can show it.
It commits in batches (staff can keep editing meanwhile); each batch writes its
audit rows in its own transaction, so whatever was committed can be undone.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .. import catalogue
from ..mapdata import geocode
from . import importer

_FIELDS = ("id", "user_email", "filename", "stored_path", "source", "project", "status_choice", "mapping",
           "state", "rows_total", "rows_done", "counts", "error", "created_at", "heartbeat_at", "finished_at",
           "file_sha256")
FINAL_STATES = ("done", "failed", "undone")
# A running import reports progress at least every few seconds in every phase; one
# silent for this long died with its process.
STALE_SECONDS = 300
HEARTBEAT_SECONDS = 2.0
BATCH_SIZE = 1000


class ImportBusy(Exception):
    """The same file (or the same source) is being imported already."""


class ImportStopped(Exception):
    """The import's record left the running state (declared interrupted): it stops and
    takes back what it wrote, so that the record's final state stays true."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def file_hash(path: str | Path) -> str:
    """The SHA-256 of a stored upload."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def create(db: sqlite_utils.Database, *, user_email: str, filename: str, stored_path: str, source: str,
           project: str | None, status_choice: str | None) -> int:
    """Record an uploaded file awaiting its preview; return the import's id."""
    cursor = db.execute(
        "INSERT INTO imports (user_email, filename, stored_path, source, project, status_choice, state, created_at,"
        " file_sha256) VALUES (?, ?, ?, ?, ?, ?, 'preview', ?, ?)",
        [user_email, filename, stored_path, source, project or None, status_choice or None, _now(),
         file_hash(stored_path)])
    return cursor.lastrowid


def _changes_recorded(db: sqlite_utils.Database, import_id: int) -> int:
    return db.execute("SELECT count(*) FROM audit_log WHERE action LIKE ?", [f"import:{import_id}:%"]).fetchone()[0]


def get(db: sqlite_utils.Database, import_id: int) -> dict | None:
    """One import's record (``mapping`` and ``counts`` decoded). A running import whose
    process died (no progress for ``STALE_SECONDS``) is recorded as failed, saying how
    many of its changes were committed (they can be undone)."""
    row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM imports WHERE id = ?", [import_id]).fetchone()  # nosec B608 # names and ? placeholders come from code; values are bound
    if row and row[_FIELDS.index("state")] == "running" and \
            (row[_FIELDS.index("heartbeat_at")] or 0) < time.time() - STALE_SECONDS:
        written = _changes_recorded(db, import_id)
        error = ("interrupted (the server stopped during the import); nothing was changed: start it again"
                 if not written else
                 f"interrupted (the server stopped during the import) after {written} organisations were "
                 "written: undo them, then start it again")
        db.execute("UPDATE imports SET state = 'failed', finished_at = ?, error = ? WHERE id = ? AND state = 'running'",
                   [_now(), error, import_id])
        row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM imports WHERE id = ?", [import_id]).fetchone()  # nosec B608 # names and ? placeholders come from code; values are bound
    if row is None:
        return None
    record = dict(zip(_FIELDS, row))
    record["mapping"] = json.loads(record["mapping"]) if record["mapping"] else None
    record["counts"] = json.loads(record["counts"]) if record["counts"] else None
    record["can_undo"] = record["state"] in ("done", "failed") and _changes_recorded(db, import_id) > 0
    return record


def history(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    """The latest imports, newest first."""
    ids = [r[0] for r in db.execute("SELECT id FROM imports ORDER BY id DESC LIMIT ?", [limit])]
    return [get(db, i) for i in ids]


def set_mapping(db: sqlite_utils.Database, import_id: int, mapping: dict) -> None:
    """Remember the column mapping chosen on the preview page."""
    db.execute("UPDATE imports SET mapping = ? WHERE id = ? AND state = 'preview'",
               [json.dumps(mapping, ensure_ascii=False), import_id])


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


def claim(db: sqlite_utils.Database, import_id: int) -> None:
    """Move an import from its preview to running, unless it runs already or another
    import of the same file or into the same source is running (``ImportBusy``)."""
    with catalogue.write_transaction(db):
        row = db.execute("SELECT state, file_sha256, source FROM imports WHERE id = ?", [import_id]).fetchone()
        if row is None or row[0] != "preview":
            raise ImportBusy(f"import #{import_id} has already been started")
        other = db.execute(
            "SELECT id, user_email FROM imports WHERE state = 'running' AND id != ? AND (file_sha256 = ? OR source = ?)",
            [import_id, row[1], row[2]]).fetchone()
        if other:
            raise ImportBusy(f"import #{other[0]} by {other[1]} is importing the same file or into the same "
                             "source right now: wait until it has finished")
        db.execute("UPDATE imports SET state = 'running', rows_done = 0, heartbeat_at = ? WHERE id = ?",
                   [time.time(), import_id])


def start(database: str | Path, import_id: int, settings: dict) -> threading.Thread:
    """Claim the import (``ImportBusy`` if it cannot run now) and run it in a background
    thread; return the thread."""
    db = catalogue.connect(database)
    try:
        claim(db, import_id)
    finally:
        db.close()
    thread = threading.Thread(target=run, args=(database, import_id, settings), daemon=True,
                              name=f"import-{import_id}")
    thread.start()
    return thread


def _finish(db: sqlite_utils.Database, import_id: int, **values) -> None:
    """Record the outcome, unless the import already has a final state."""
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE imports SET {sets}, finished_at = ? WHERE id = ? AND state = 'running'",  # nosec B608 # names and ? placeholders come from code; values are bound
               [*values.values(), _now(), import_id])


def run(database: str | Path, import_id: int, settings: dict) -> None:
    """Do the import and record its outcome (never raises: a failure is recorded)."""
    db = catalogue.connect(database)
    try:
        record = get(db, import_id)
        options = options_for(record, dry_run=False)
        last_beat = [0.0]

        def beat(db_: sqlite_utils.Database, values: dict) -> None:
            values = {**values, "heartbeat_at": time.time()}
            cursor = db_.execute(f"UPDATE imports SET {', '.join(f'{k} = ?' for k in values)}"  # nosec B608 # names and ? placeholders come from code; values are bound
                                 " WHERE id = ? AND state = 'running'", [*values.values(), import_id])
            if cursor.rowcount == 0:
                raise ImportStopped("the import was declared interrupted while it ran; what it wrote "
                                    "was taken back")

        def progress(done: int, total: int) -> None:
            if time.time() - last_beat[0] >= HEARTBEAT_SECONDS or done == total:
                last_beat[0] = time.time()
                beat(db, {"rows_done": done, "rows_total": total})

        def audit_batch(db_: sqlite_utils.Database, changes: list) -> None:
            audit_import_changes(db_, record, changes)
            beat(db_, {})

        def forget_batches(db_: sqlite_utils.Database) -> None:
            db_.execute("DELETE FROM audit_log WHERE action LIKE ?", [f"import:{import_id}:%"])

        options.progress, options.batch_size = progress, BATCH_SIZE
        options.on_commit, options.on_revert = audit_batch, forget_batches
        chain = geocode.chain_from_settings(settings, db)
        report = importer.import_file(db, record["stored_path"], options, chain)
    except Exception as e:  # recorded for the staff member; committed batches were reverted
        _finish(db, import_id, state="failed", error=str(e) or type(e).__name__)
        db.close()
        return
    try:
        out = io.StringIO()
        report.write_csv(out)
        _finish(db, import_id, state="done", counts=json.dumps(report.counts), report_csv=out.getvalue())
    except Exception as e:  # the organisations are written and audited: say so, keep undo possible
        _finish(db, import_id, state="failed",
                error=f"the organisations were imported but the report could not be saved ({e}); "
                      "undo the import or keep it")
    finally:
        db.close()


def audit_import_changes(db: sqlite_utils.Database, record: dict, changes: list) -> None:
    """Write one audit row per organisation an import created or updated (inside the
    caller's transaction), with what it was before."""
    db.conn.executemany(
        "INSERT INTO audit_log (at, user_email, organisation_id, action, before, after) VALUES (?, ?, ?, ?, ?, NULL)",
        [(_now(), record["user_email"], org_id, f"import:{record['id']}:{action}",
          json.dumps(before, ensure_ascii=False) if before is not None else None)
         for org_id, action, before in changes])


def undo(db: sqlite_utils.Database, import_id: int, user_email: str) -> dict[str, int]:
    """Undo an import: delete the organisations it created, restore those it updated
    (as they were before it). One transaction; returns how many of each."""
    rows = db.execute("SELECT organisation_id, action, before FROM audit_log WHERE action LIKE ?"
                      " ORDER BY id", [f"import:{import_id}:%"]).fetchall()
    changes = [(org_id, action.rsplit(":", 1)[1], json.loads(before) if before else None)
               for org_id, action, before in rows]
    with catalogue.write_transaction(db):
        counts = importer.revert(db, changes, in_transaction=True)
        db.execute("UPDATE imports SET state = 'undone', error = ? WHERE id = ?",
                   [f"undone by {user_email} at {_now()}", import_id])
        db.execute("INSERT INTO audit_log (at, user_email, organisation_id, action) VALUES (?, ?, NULL, ?)",
                   [_now(), user_email, f"undo-import:{import_id}"])
    return counts
