"""What staff pages change: status, full edits and their undo."""

from __future__ import annotations

import sqlite_utils

from .base import FIELDS, CatalogueError, now, read_related, related_of
from .writes import Stored, update_organisation


def set_status(db: sqlite_utils.Database, org_ids: list[int], status: str) -> list[tuple[int, str]]:
    """Give organisations a status; return ``(id, previous status)`` of those it changed."""
    changed = []
    for org_id in org_ids:
        row = db.execute("SELECT status FROM organisations WHERE id = ?", [org_id]).fetchone()
        if row and row[0] != status:
            db.execute("UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?",
                       [status, now(), org_id])
            changed.append((org_id, row[0]))
    return changed


# -- staff edits -------------------------------------------------------------------------


def organisation_state(db: sqlite_utils.Database, org_id: int) -> dict | None:
    """Everything staff can edit about an organisation, to show, compare and restore."""
    row = db.execute(f"SELECT {', '.join(FIELDS)} FROM organisations WHERE id = ?", [org_id]).fetchone()  # nosec B608 # names and ? placeholders come from code; values are bound
    if row is None:
        return None
    return {
        "values": dict(zip(FIELDS, row)),
        "related": read_related(db, org_id),
        "projects": [r[0] for r in db.execute(
            "SELECT p.slug FROM project_organisations po JOIN projects p ON p.id = po.project_id"
            " WHERE po.organisation_id = ? ORDER BY p.slug", [org_id])],
        "visits": [r[0] for r in db.execute(
            "SELECT v.slug FROM visit_organisations vo JOIN visits v ON v.id = vo.visit_id"
            " WHERE vo.organisation_id = ? ORDER BY v.slug", [org_id])],
    }


def restore_state(db: sqlite_utils.Database, org_id: int, snapshot: dict) -> bool:
    """Make an organisation match ``snapshot`` (call inside a transaction); True if it changed."""
    current = organisation_state(db, org_id)
    if current is None:
        raise CatalogueError(f"organisation {org_id} no longer exists")
    slug = db.execute("SELECT slug FROM organisations WHERE id = ?", [org_id]).fetchone()[0]
    stored = Stored(org_id, slug, current["values"], current["related"])
    action = update_organisation(db, stored, snapshot["values"], related_of(**snapshot["related"]))
    changed = action == "updated"
    for table, key, slugs, current_slugs in (
            ("project_organisations", "projects", snapshot["projects"], current["projects"]),
            ("visit_organisations", "visits", snapshot["visits"], current["visits"])):
        if sorted(slugs) != sorted(current_slugs):
            parent = "projects" if key == "projects" else "visits"
            column = "project_id" if key == "projects" else "visit_id"
            db.execute(f"DELETE FROM {table} WHERE organisation_id = ?", [org_id])  # nosec B608 # names and ? placeholders come from code; values are bound
            for slug_ in slugs:
                db.execute(f"INSERT OR IGNORE INTO {table} ({column}, organisation_id)"  # nosec B608 # names and ? placeholders come from code; values are bound
                           f" SELECT id, ? FROM {parent} WHERE slug = ?", [org_id, slug_])
            changed = True
    return changed


def organisation_by_id(db: sqlite_utils.Database, org_id: int) -> dict | None:
    """``id``, ``slug``, ``name`` and ``status`` of an organisation."""
    row = db.execute("SELECT id, slug, name, status FROM organisations WHERE id = ?", [org_id]).fetchone()
    return dict(zip(("id", "slug", "name", "status"), row)) if row else None


def country_codes_in_use(db: sqlite_utils.Database) -> set[str]:
    """Countries of the organisations in the catalogue."""
    return {r[0] for r in db.execute("SELECT DISTINCT country FROM organisations WHERE country IS NOT NULL")}
