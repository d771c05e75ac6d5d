"""Who is in which project and visit, with what relation or role, for imports and the
command line; and the lists of projects and visits the command line prints."""

from __future__ import annotations

import json

import sqlite_utils

from .base import write_transaction


def set_membership(db: sqlite_utils.Database, project_id: int, org_id: int, relation: str | None,
                   role: str | None = None) -> None:
    """Make an organisation a member of a project with ``relation`` and ``role`` (either kept
    as it was when None; a new member's relation is then 'other'). Its own relation, which the
    map filters on, takes this one when it had none or 'other'."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO project_organisations (project_id, organisation_id, relation, role)"
            " VALUES (:project, :org, coalesce(:relation, 'other'), :role)"
            " ON CONFLICT (project_id, organisation_id) DO UPDATE SET"
            " relation = coalesce(:relation, project_organisations.relation),"
            " role = coalesce(:role, project_organisations.role)",
            {"project": project_id, "org": org_id, "relation": relation, "role": role})
        if relation and relation != "other":
            db.execute("UPDATE organisations SET relation = ? WHERE id = ? AND (relation IS NULL OR relation = 'other')",
                       [relation, org_id])


def set_visit_role(db: sqlite_utils.Database, visit_id: int, org_id: int, role: str) -> None:
    """Put an organisation in a visit as host, visited or participant (the role is replaced)."""
    db.execute("INSERT INTO visit_organisations (visit_id, organisation_id, role) VALUES (?, ?, ?)"
               " ON CONFLICT (visit_id, organisation_id) DO UPDATE SET role = excluded.role",
               [visit_id, org_id, role])


def organisation_id(db: sqlite_utils.Database, slug: str) -> int | None:
    """The id of the organisation with this slug, or None."""
    row = db.execute("SELECT id FROM organisations WHERE slug = ?", [slug]).fetchone()
    return row[0] if row else None


def projects_by_name(db: sqlite_utils.Database) -> list[dict]:
    """Every project: id, slug and its names (the default one and each language's)."""
    out = []
    for pid, slug, name, names in db.execute("SELECT id, slug, name, names FROM projects ORDER BY slug"):
        translated = json.loads(names or "{}")
        out.append({"id": pid, "slug": slug, "names": [name, *translated.values()]})
    return out


def visits_of(db: sqlite_utils.Database, project_id: int | None = None) -> list[dict]:
    """Visits (of one project, or all), by date: slug, project, title, titles, kind, dates,
    place, point and how many organisations of each role."""
    where = "WHERE v.project_id = ?" if project_id is not None else ""
    rows = db.execute(
        "SELECT v.id, v.slug, p.slug, v.project_id, v.title, v.titles, v.kind, v.date, v.end_date, v.place, v.lat, v.lon,"
        " v.geo_precision,"
        " (SELECT count(*) FROM visit_organisations vo WHERE vo.visit_id = v.id AND vo.role = 'host'),"
        " (SELECT count(*) FROM visit_organisations vo WHERE vo.visit_id = v.id AND vo.role = 'visited'),"
        " (SELECT count(*) FROM visit_organisations vo WHERE vo.visit_id = v.id AND vo.role = 'participant')"
        f" FROM visits v JOIN projects p ON p.id = v.project_id {where} ORDER BY v.date, v.slug",  # nosec B608 # constant SQL
        [project_id] if project_id is not None else [])
    keys = ("id", "slug", "project", "project_id", "title", "titles", "kind", "date", "end_date", "place", "lat", "lon",
            "geo_precision", "hosts", "visited", "participants")
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["titles"] = json.loads(item["titles"] or "{}")
        out.append(item)
    return out


def project_list(db: sqlite_utils.Database) -> list[dict]:
    """Every project with its dates and how many members (per relation) and visits it has."""
    rows = db.execute(
        "SELECT p.slug, p.name, p.start_date, p.end_date, p.archived,"
        " (SELECT count(*) FROM project_organisations po WHERE po.project_id = p.id),"
        " (SELECT count(*) FROM visits v WHERE v.project_id = p.id)"
        " FROM projects p ORDER BY p.slug")
    keys = ("slug", "name", "start_date", "end_date", "archived", "members", "visits")
    return [dict(zip(keys, r, strict=True)) for r in rows]
