"""Public reads of projects' visits and events (#27): a project's timeline, an organisation's
visits with its role in each, the located visits for the map's events layer and the API, and
the index of projects. Only published organisations are named unless ``statuses`` says more."""

from __future__ import annotations

import json

import sqlite_utils

_VISIT = ("id", "slug", "project", "project_name", "project_names", "title", "titles", "kind", "date", "end_date",
          "place", "city", "country", "lat", "lon", "descriptions", "links")
_SELECT = ("SELECT v.id, v.slug, p.slug, p.name, p.names, v.title, v.titles, v.kind, v.date, v.end_date, v.place,"
           " v.city, coalesce(v.country, ''), v.lat, v.lon, v.descriptions, v.links FROM visits v"
           " JOIN projects p ON p.id = v.project_id")
_ORDER = " ORDER BY v.date IS NULL, v.date, v.end_date, v.title COLLATE NOCASE"


def _in(statuses: tuple[str, ...]) -> str:
    return ", ".join("?" * len(statuses))


def _visit(row) -> dict:
    visit = dict(zip(_VISIT, row))
    for key in ("project_names", "titles", "descriptions", "links"):
        visit[key] = json.loads(visit[key] or "{}")
    return visit


def _organisations(db: sqlite_utils.Database, visits: list[dict], statuses: tuple[str, ...]) -> list[dict]:
    """Each visit with its ``organisations`` (slug, name, city, country, role), by role then name."""
    for visit in visits:
        visit["organisations"] = [dict(zip(("slug", "name", "city", "country", "role"), r)) for r in db.execute(
            "SELECT o.slug, o.name, o.city, coalesce(o.country, ''), vo.role FROM visit_organisations vo"  # nosec B608 # ? placeholders come from code; values are bound
            f" JOIN organisations o ON o.id = vo.organisation_id WHERE vo.visit_id = ? AND o.status IN ({_in(statuses)})"
            " ORDER BY CASE vo.role WHEN 'host' THEN 0 WHEN 'visited' THEN 1 ELSE 2 END, o.sort_key, o.name",
            [visit["id"], *statuses])]
    return visits


def visits_of_project(db: sqlite_utils.Database, project_id: int,
                      statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """A project's visits and events by date (undated last), each with its organisations."""
    return _organisations(db, [_visit(r) for r in db.execute(f"{_SELECT} WHERE v.project_id = ?{_ORDER}",  # nosec B608 # constant SQL
                                                              [project_id])], statuses)


def visits_of_projects(db: sqlite_utils.Database, slugs: tuple[str, ...] = (),
                       statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """The visits of the projects ``slugs`` (of every project not archived when empty), by date."""
    if slugs:
        where, params = f" WHERE p.slug IN ({_in(slugs)})", list(slugs)
    else:
        where, params = " WHERE p.archived = 0", []
    return _organisations(db, [_visit(r) for r in db.execute(f"{_SELECT}{where}{_ORDER}", params)], statuses)  # nosec B608 # ? placeholders come from code


def visits_of_organisation(db: sqlite_utils.Database, org_id: int) -> list[dict]:
    """The visits an organisation hosted, was visited during or took part in, with its ``role``."""
    visits = []
    for row in db.execute(f"{_SELECT} JOIN visit_organisations vo ON vo.visit_id = v.id"  # nosec B608 # constant SQL
                          f" WHERE vo.organisation_id = ?{_ORDER}", [org_id]):
        visits.append(_visit(row))
    roles = dict(db.execute("SELECT visit_id, role FROM visit_organisations WHERE organisation_id = ?", [org_id]).fetchall())
    for visit in visits:
        visit["role"] = roles.get(visit["id"], "visited")
    return visits


def projects_of_organisation(db: sqlite_utils.Database, org_id: int) -> list[dict]:
    """An organisation's projects with its relation (and role) in each, by name."""
    return [dict(zip(("slug", "name", "relation", "role"), r)) for r in db.execute(
        "SELECT p.slug, p.name, po.relation, po.role FROM project_organisations po JOIN projects p ON p.id = po.project_id"
        " WHERE po.organisation_id = ? ORDER BY p.name COLLATE NOCASE", [org_id])]


def public_projects(db: sqlite_utils.Database, statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """The projects not archived, by start date then name, each with its count of members."""
    rows = db.execute(
        "SELECT p.slug, p.name, p.names, p.start_date, p.end_date, (SELECT count(*) FROM project_organisations po"  # nosec B608 # ? placeholders come from code; values are bound
        f" JOIN organisations o ON o.id = po.organisation_id WHERE po.project_id = p.id AND o.status IN ({_in(statuses)})),"
        " (SELECT count(*) FROM visits v WHERE v.project_id = p.id)"
        " FROM projects p WHERE p.archived = 0 ORDER BY p.start_date IS NULL, p.start_date DESC, p.name COLLATE NOCASE",
        list(statuses))
    return [{**dict(zip(("slug", "name", "names", "start_date", "end_date", "members", "visits"), r)),
             "names": json.loads(r[2] or "{}")} for r in rows]


def record_links(db: sqlite_utils.Database, org_id: int, statuses: tuple[str, ...] = ("published",)) -> dict:
    """What an organisation's public record adds from its projects and visits:
    ``project_relations`` (slug → relation) and ``visit_records`` (its visits with its role and
    each visit's published organisations): merge into the row given to ``Record.of``."""
    visits = _organisations(db, visits_of_organisation(db, org_id), statuses)
    return {"project_relations": {p["slug"]: p["relation"] for p in projects_of_organisation(db, org_id)},
            "visit_records": visits}


def export_links(db: sqlite_utils.Database, by_id: dict[int, dict], chosen: str, params: list) -> None:
    """Each exported organisation of ``by_id`` given its ``project_relations`` and its
    ``visit_records`` (slug and role), read in one pass each for the selection ``chosen`` (SQL
    of the organisations' ids, with ``params``)."""
    for org in by_id.values():
        org.setdefault("project_relations", {})
        org.setdefault("visit_records", [])
    for org_id, slug, relation in db.execute(
            "SELECT po.organisation_id, p.slug, po.relation FROM project_organisations po JOIN projects p"  # nosec B608 # clauses from code; values bound
            f" ON p.id = po.project_id WHERE po.organisation_id IN ({chosen})", params):
        if org_id in by_id:
            by_id[org_id]["project_relations"][slug] = relation
    for org_id, slug, role in db.execute(
            "SELECT vo.organisation_id, v.slug, vo.role FROM visit_organisations vo JOIN visits v"  # nosec B608 # clauses from code; values bound
            f" ON v.id = vo.visit_id WHERE vo.organisation_id IN ({chosen}) ORDER BY v.date, v.slug", params):
        if org_id in by_id:
            by_id[org_id]["visit_records"].append({"slug": slug, "title": slug, "role": role})
