"""The sources ``mapapp sync`` pulls organisations from, and what their last run did."""

from __future__ import annotations

import json

import sqlite_utils

from .base import now

_COLUMNS = ("id", "name", "url", "format", "mapping", "project", "status", "created_at", "last_run_at", "last_outcome",
            "running_since")


def _source(row) -> dict:
    found = dict(zip(_COLUMNS, row))
    found["mapping"] = json.loads(found["mapping"]) if found["mapping"] else None
    found["last_outcome"] = json.loads(found["last_outcome"]) if found["last_outcome"] else None
    return found


def save_source(db: sqlite_utils.Database, *, name: str, url: str, fmt: str, mapping: dict | None,
                project: str | None, status: str) -> int:
    """Add a source, or change the one of that name; return its id."""
    db.execute("INSERT INTO sync_sources (name, url, format, mapping, project, status, created_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET url = excluded.url,"
               " format = excluded.format, mapping = excluded.mapping, project = excluded.project,"
               " status = excluded.status",
               [name, url, fmt, json.dumps(mapping) if mapping else None, project, status, now()])
    return db.execute("SELECT id FROM sync_sources WHERE name = ?", [name]).fetchone()[0]


def sources(db: sqlite_utils.Database) -> list[dict]:
    """Every source, by name."""
    return [_source(r) for r in db.execute(f"SELECT {', '.join(_COLUMNS)} FROM sync_sources ORDER BY name")]  # nosec B608 # names come from code


def source(db: sqlite_utils.Database, name: str) -> dict | None:
    """The source of that name."""
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM sync_sources WHERE name = ?", [name]).fetchone()  # nosec B608 # names come from code
    return _source(row) if row else None


def remove_source(db: sqlite_utils.Database, name: str) -> bool:
    """Forget a source (its organisations stay); True if there was one."""
    return db.execute("DELETE FROM sync_sources WHERE name = ?", [name]).rowcount > 0


def record_outcome(db: sqlite_utils.Database, name: str, outcome: dict) -> None:
    """What a run of the source did (or why it changed nothing)."""
    db.execute("UPDATE sync_sources SET last_run_at = ?, last_outcome = ? WHERE name = ?",
               [now(), json.dumps(outcome), name])


def claim_run(db: sqlite_utils.Database, name: str, started: float, stale_before: float) -> bool:
    """Mark the source as being pulled since ``started``, unless a run that started after
    ``stale_before`` still is; True if this run may go on."""
    return db.execute("UPDATE sync_sources SET running_since = ? WHERE name = ?"
                      " AND (running_since IS NULL OR running_since < ?)", [started, name, stale_before]).rowcount > 0


def end_run(db: sqlite_utils.Database, name: str, started: float) -> None:
    """The run that started at ``started`` is over (a later run that took over stays marked)."""
    db.execute("UPDATE sync_sources SET running_since = NULL WHERE name = ? AND running_since = ?", [name, started])


def refs_of_source(db: sqlite_utils.Database, source_name: str) -> list[tuple[str, str, str, str]]:
    """``(slug, name, status, source_ref)`` of every organisation of this source."""
    return db.execute("SELECT slug, name, status, coalesce(source_ref, '') FROM organisations WHERE source = ?"
                      " ORDER BY name COLLATE NOCASE", [source_name]).fetchall()
