"""The fictional demo dataset shipped in ``data/demo/``: loading it into a catalogue, taking
it out again (``remove_demo``, recorded in the audit log) and undoing that."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from .. import catalogue
from ..catalogue import audit
from ..catalogue import demo as demo_rows
from ..config import DATA_DIR

DEMO_DIR = DATA_DIR / "demo"


def load_demo(db: sqlite_utils.Database, directory: Path = DEMO_DIR) -> dict[str, int]:
    """Upsert the demo organisations, projects and visits; return counts per action.

    Idempotent: organisations are keyed by source ``demo`` and their demo
    reference, projects and visits by slug. Runs as one transaction.
    """
    orgs = json.loads((directory / "organisations.json").read_text(encoding="utf-8"))["organisations"]
    extra = json.loads((directory / "projects.json").read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with db.atomic():
        for project in extra["projects"]:
            catalogue.save_project(db, {**project, "source": catalogue.FICTIONAL_SOURCE})
        for visit in extra["visits"]:
            catalogue.save_visit(db, visit)
        for org in orgs:
            record = {k: org.get(k) for k in catalogue.FIELDS if k in org}
            record.update(source=catalogue.FICTIONAL_SOURCE, source_ref=org["ref"],
                          geo_precision="provided", geo_source="demo dataset")
            saved = catalogue.save_organisation(
                db, record, themes=org["themes"], needs=org["needs"], offers=org["offers"],
                descriptions=org["descriptions"],
            )
            counts[saved.action] += 1
            links = extra["membership"].get(org["ref"])
            if links:
                catalogue.link_organisation(db, saved.id, projects=links["projects"],
                                            visits=links["visits"])
    return counts


# -- taking the demo out, and back ------------------------------------------

REMOVED = "remove-demo"  # the audit action of a removal; its ``before`` holds every row it deleted
UNDONE = "undo-remove-demo:"  # followed by the removal's audit entry id


class NothingToRemove(Exception):
    """The catalogue holds no demo data."""


class CannotUndo(Exception):
    """The removal cannot be undone: the message says why."""


def removal_preview(db: sqlite_utils.Database) -> dict[str, int]:
    """What ``remove_demo`` would delete: organisations, projects, visits, and how many
    real organisations would lose their membership of a demo project or visit."""
    return demo_rows.counts(db)


def remove_demo(db: sqlite_utils.Database, user_email: str, *, cache_dir: str | Path | None = None) -> dict[str, int]:
    """Delete the demo's organisations (with their themes, needs, offers, descriptions),
    projects, visits and memberships in one transaction, keeping every row in the audit log
    so that ``undo_removal`` puts them back; then the PDF reports made before (exports and
    the map's columns follow the catalogue's state on their own). Returns the counts;
    ``NothingToRemove`` when there is no demo data."""
    with catalogue.write_transaction(db):
        counts = demo_rows.counts(db)
        if not counts["organisations"] and not counts["projects"]:
            raise NothingToRemove("there is no demo data in this catalogue")
        rows = demo_rows.dump(db)
        demo_rows.delete(db)
        audit.record(db, user_email, REMOVED, None, rows, {"counts": counts})
    if cache_dir:
        # Every report on disk was made from the catalogue before the removal (they are keyed
        # by its version): the demo projects' among them must not be served again.
        for old in (Path(cache_dir) / "reports").glob("v*.pdf"):
            old.unlink(missing_ok=True)
    return counts


def latest_removal(db: sqlite_utils.Database) -> dict | None:
    """The latest removal of the demo, when it has not been undone: its audit entry
    (``id``, ``at``, ``user_email``, ``after["counts"]``), without the rows."""
    found = audit.entries(db, action=REMOVED, limit=1)
    if not found or audit.entries(db, action=f"{UNDONE}{found[0]['id']}", limit=1):
        return None
    return {k: found[0][k] for k in ("id", "at", "user_email", "after")}


def undo_removal(db: sqlite_utils.Database, entry_id: int, user_email: str) -> dict[str, int]:
    """Put back every row a removal deleted, as it was (one transaction); return how many
    organisations, projects and visits came back. ``CannotUndo`` if it was undone already,
    or if a row in the way (an address taken since) stops it."""
    with catalogue.write_transaction(db):
        found = audit.entries(db, entry_id=entry_id, action=REMOVED, limit=1)
        if not found:
            raise CannotUndo(f"change #{entry_id} is not a removal of the demo data")
        if audit.entries(db, action=f"{UNDONE}{entry_id}", limit=1):
            raise CannotUndo("this removal of the demo data has been undone already")
        try:
            counts = demo_rows.restore(db, found[0]["before"])
        except demo_rows.RestoreConflict as e:
            raise CannotUndo(str(e)) from e
        audit.record(db, user_email, f"{UNDONE}{entry_id}", None, None, {"counts": counts})
    return counts
