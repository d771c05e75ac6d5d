"""Load the fictional demo dataset shipped in ``data/demo/`` into a catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from .. import catalogue
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
