"""What staff pages change: status, full edits and their undo."""

from __future__ import annotations

import sqlite_utils

from . import fields as field_store
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


# What a bulk status change concerns: the statuses it turns into the new one. The others are
# kept (unpublishing turns published ones into drafts; an archived one stays archived).
STATUS_CHANGES_FROM = {"published": ("draft",), "draft": ("published",), "archived": ("draft", "published")}


def statuses_of(db: sqlite_utils.Database, org_ids: list[int]) -> dict[int, str]:
    """``{id: status}`` of these organisations (those that still exist)."""
    found: dict[int, str] = {}
    for start in range(0, len(org_ids), 500):
        part = org_ids[start:start + 500]
        found.update(db.execute(f"SELECT id, status FROM organisations WHERE id IN ({', '.join('?' * len(part))})",  # nosec B608 # ? placeholders only
                                part).fetchall())
    return found


def change_statuses(db: sqlite_utils.Database, org_ids: list[int], status: str) -> dict[int, str]:
    """A bulk status change: give ``status`` to those of these organisations whose status it
    concerns (``STATUS_CHANGES_FROM``); return ``{id: previous status}`` of those it changed."""
    concerned = {i: s for i, s in statuses_of(db, org_ids).items() if s in STATUS_CHANGES_FROM[status]}
    stamp = now()
    db.conn.executemany("UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?",
                        [(status, stamp, i) for i in concerned])
    return concerned


def restore_statuses(db: sqlite_utils.Database, previous: dict[int, str], status: str) -> int:
    """Take a bulk status change back: each organisation still at ``status`` gets its
    previous one again (one changed since is left as it is). Returns how many."""
    current = statuses_of(db, list(previous))
    back = [(previous[i], now(), i) for i, s in current.items() if s == status and previous[i] != status]
    db.conn.executemany("UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?", back)
    return len(back)


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
        # Its relation to each project and, as a partner, its role: what an undo must put back.
        "memberships": {slug: [relation, role] for slug, relation, role in db.execute(
            "SELECT p.slug, po.relation, po.role FROM project_organisations po JOIN projects p ON p.id = po.project_id"
            " WHERE po.organisation_id = ? ORDER BY p.slug", [org_id])},
        # Every field, empty ones too, so that restoring a snapshot clears values added since.
        "fields": {f.slug: [] for f in field_store.list_fields(db, retired=True)} | field_store.values_of(db, org_id),
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
    # Snapshots from before relations per project (and forms that send slugs only) keep the
    # relation and role of the memberships that stay; new ones take the organisation's relation.
    wanted = snapshot.get("memberships")
    if wanted is None:
        wanted = {slug_: current["memberships"].get(slug_, [snapshot["values"].get("relation") or "other", None])
                  for slug_ in snapshot["projects"]}
    if wanted != current["memberships"]:
        db.execute("DELETE FROM project_organisations WHERE organisation_id = ?", [org_id])
        for slug_, (relation, role) in wanted.items():
            db.execute("INSERT OR IGNORE INTO project_organisations (project_id, organisation_id, relation, role)"
                       " SELECT id, ?, ?, ? FROM projects WHERE slug = ?", [org_id, relation, role, slug_])
        changed = True
    if sorted(snapshot["visits"]) != sorted(current["visits"]):
        # Only those that change: the visits it stays in keep its role in them.
        for slug_ in set(current["visits"]) - set(snapshot["visits"]):
            db.execute("DELETE FROM visit_organisations WHERE organisation_id = ?"
                       " AND visit_id = (SELECT id FROM visits WHERE slug = ?)", [org_id, slug_])
        for slug_ in set(snapshot["visits"]) - set(current["visits"]):
            db.execute("INSERT OR IGNORE INTO visit_organisations (visit_id, organisation_id)"
                       " SELECT id, ? FROM visits WHERE slug = ?", [org_id, slug_])
        changed = True
    # Snapshots from before the network's fields (migration 30) leave the values as they are.
    if "fields" in snapshot:
        changed = field_store.set_values(db, org_id, snapshot["fields"]) or changed
    return changed


def organisation_by_id(db: sqlite_utils.Database, org_id: int) -> dict | None:
    """``id``, ``slug``, ``name`` and ``status`` of an organisation."""
    row = db.execute("SELECT id, slug, name, status FROM organisations WHERE id = ?", [org_id]).fetchone()
    return dict(zip(("id", "slug", "name", "status"), row)) if row else None


def country_codes_in_use(db: sqlite_utils.Database) -> set[str]:
    """Countries of the organisations in the catalogue."""
    return {r[0] for r in db.execute("SELECT DISTINCT country FROM organisations WHERE country IS NOT NULL")}
