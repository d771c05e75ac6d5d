"""Imports started from the browser: their record, and running one (``run``).

The web claims an import and queues it; the job worker (``mapapp.jobs``) runs it with its own
catalogue connection, recording its progress in the ``imports`` table, so any page can show it.
It commits in batches (staff can keep editing meanwhile); each batch writes its
audit rows in its own transaction, so whatever was committed can be undone.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import sqlite_utils

from .. import catalogue, fetch
from ..catalogue import audit, users
from ..catalogue import imports as records
from ..mapdata import geocode
from ..vocab import DEFAULT_LANGUAGE
from . import importer, pictures

# A running import reports progress at least every few seconds in every phase; one
# silent for this long died with its process (the worker was stopped or killed).
STALE_SECONDS = 300
HEARTBEAT_SECONDS = 2.0
BATCH_SIZE = 1000
ImportBusy = records.Busy


class ImportStopped(Exception):
    """The import's record left the running state (declared interrupted): it stops and
    takes back what it wrote, so that the record's final state stays true."""


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
    return records.create(db, user_email=user_email, filename=filename, stored_path=stored_path, source=source,
                          project=project, status_choice=status_choice, file_sha256=file_hash(stored_path))


def _actions(import_id: int) -> str:
    return f"import:{import_id}:"


def get(db: sqlite_utils.Database, import_id: int) -> dict | None:
    """One import's record. A running import whose process died (no progress for
    ``STALE_SECONDS``) is recorded as failed, saying how many of its changes were
    committed (they can be undone)."""
    record = records.record(db, import_id)
    if record and record["state"] == "running" and (record["heartbeat_at"] or 0) < time.time() - STALE_SECONDS:
        written = audit.count(db, _actions(import_id))
        error = ("interrupted (the job worker stopped during the import, or was not running: start it with "
                 "`mapapp worker`); nothing was changed: start the import again"
                 if not written else
                 f"interrupted (the job worker stopped during the import) after {written} organisations were "
                 "written: undo them, then start it again")
        records.mark_stale(db, import_id, time.time() - STALE_SECONDS, error)
        record = records.record(db, import_id)
    if record is None:
        return None
    record["can_undo"] = record["state"] in ("done", "failed") and audit.any_of(db, _actions(import_id))
    return record


def history(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    """The latest imports, newest first."""
    return [get(db, i) for i in records.latest_ids(db, limit)]


set_mapping = records.set_mapping
report_csv = records.report_csv
save_mapping = records.save_mapping
saved_mappings = records.saved_mappings


def options_for(record: dict, *, dry_run: bool) -> importer.Options:
    """The importer options an import record stands for."""
    mapping = record["mapping"]
    chosen = (mapping or {}).get("links") or {}
    duplicates = (mapping or {}).get("duplicates") or {}
    return importer.Options(source=record["source"], project=chosen["project"] if "project" in chosen else record["project"],
                            relation=chosen.get("relation"), visit=chosen.get("visit"),
                            status=record["status_choice"], dry_run=dry_run, where="browser",
                            country=(mapping or {}).get("country") or None,
                            mapping={"columns": mapping["columns"], "ignore": mapping["ignore"]} if mapping else None,
                            duplicates=duplicates.get("default") or "skip",
                            duplicate_choices={int(row): choice for row, choice in (duplicates.get("rows") or {}).items()})


def claim(database: str | Path, import_id: int) -> None:
    """Claim the import before it is queued (``ImportBusy`` if it cannot run now): a second
    click, or the same file uploaded again, is refused at once rather than in the worker."""
    db = catalogue.connect(database)
    try:
        records.claim(db, import_id)
    finally:
        db.close()


def run_now(database: str | Path, import_id: int, settings: dict, *, keep_hand_edits: bool = False):
    """Claim the import and do it in this thread (``mapapp sync``); its report, or None."""
    claim(database, import_id)
    return run(database, import_id, settings, keep_hand_edits=keep_hand_edits)


def run(database: str | Path, import_id: int, settings: dict, *, keep_hand_edits: bool = False):
    """Do the import and record its outcome (never raises: a failure is recorded); return
    its report (None when it failed). ``keep_hand_edits``: a sync (see ``Options``)."""
    db = catalogue.connect(database)
    try:
        record = get(db, import_id)
        options = options_for(record, dry_run=False)
        options.keep_hand_edits = keep_hand_edits
        last_beat = [0.0]

        def beat(db_: sqlite_utils.Database, **values) -> None:
            if not records.update_running(db_, import_id, **values):
                raise ImportStopped("the import was declared interrupted while it ran; what it wrote "
                                    "was taken back")

        def progress(done: int, total: int) -> None:
            if time.time() - last_beat[0] >= HEARTBEAT_SECONDS or done == total:
                last_beat[0] = time.time()
                beat(db, rows_done=done, rows_total=total)

        def audit_batch(db_: sqlite_utils.Database, changes: list) -> None:
            audit_import_changes(db_, record, changes)
            beat(db_)

        def phase(name: str) -> None:
            # What the import is doing now, for its page ("Reading the file", "Locating"…); the
            # record's counts hold it while the import runs (they hold the outcome once done).
            beat(db, counts=json.dumps({"phase": name}))

        options.progress, options.batch_size, options.on_phase = progress, BATCH_SIZE, phase
        options.on_commit = audit_batch
        options.on_revert = lambda db_: audit.forget(db_, _actions(import_id))
        chain = geocode.chain_from_settings(settings, db)
        report = importer.import_file(db, record["stored_path"], options, chain)
    except Exception as e:  # recorded for the staff member; committed batches were reverted
        records.finish(db, import_id, "failed", error=str(e) or type(e).__name__)
        db.close()
        return None
    if report.pictures:
        _fetch_pictures(db, report, record, settings)
    try:
        out = io.StringIO()
        report.write_csv(out)
        records.finish(db, import_id, "done", counts=json.dumps({**report.counts, "problems": report.problems_data()}),
                       report_csv=out.getvalue())
    except Exception as e:  # the organisations are written and audited: say so, keep undo possible
        records.finish(db, import_id, "failed",
                       error=f"the organisations were imported but the report could not be saved ({e}); "
                             "undo the import or keep it")
    finally:
        db.close()
    return report


def _fetch_pictures(db: sqlite_utils.Database, report, record: dict, settings: dict) -> None:
    """The logos and photos the file names by address, once its rows are written; a picture that
    cannot be had is a warning on its row (as is an unexpected failure: the import stays done)."""
    row = users.user_row(db, email=record["user_email"]) if record.get("user_email") else None
    lang = dict(zip(users.USER_COLUMNS, row))["lang"] if row else DEFAULT_LANGUAGE
    try:
        pictures.fetch_pictures(db, report, allow=fetch.allow_list(settings.get("FETCH_ALLOW_HOSTS", "")),
                                max_bytes=int(settings.get("IMAGE_MAX_MB") or 8) * 1024 * 1024,
                                lang=lang or DEFAULT_LANGUAGE,
                                created_by=record.get("user_email") or "")
    except Exception as e:  # the organisations are written: say what went wrong with the pictures
        report.add(None, "photos", "warning", f"pictures not fetched: {e}")


def audit_import_changes(db: sqlite_utils.Database, record: dict, changes: list) -> None:
    """One audit entry per organisation an import created or updated (inside the caller's
    transaction), with what it was before."""
    audit.record_many(db, record["user_email"],
                      [(org_id, f"{_actions(record['id'])}{action}", before) for org_id, action, before in changes])


def undo_preview(db: sqlite_utils.Database, import_id: int) -> dict[str, int]:
    """What undoing the import would do: how many organisations go, how many come back."""
    return {"to_delete": audit.count(db, f"{_actions(import_id)}created"),
            "to_restore": audit.count(db, f"{_actions(import_id)}updated")}


def undo(db: sqlite_utils.Database, import_id: int, user_email: str) -> dict[str, int]:
    """Undo an import: delete the organisations it created, restore those it updated
    (as they were before it). One transaction; returns how many of each."""
    entries = audit.entries(db, action_prefix=_actions(import_id), limit=-1, oldest_first=True)
    changes = [(e["organisation_id"], e["action"].rsplit(":", 1)[1], e["before"]) for e in entries]
    with catalogue.write_transaction(db):
        counts = importer.revert(db, changes, in_transaction=True)
        records.mark_undone(db, import_id, f"undone by {user_email} at {catalogue.now()}")
        audit.record(db, user_email, f"undo-import:{import_id}", None)
    return counts
