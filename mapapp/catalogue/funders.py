"""What a funder's report reads about a project: each visit or event with its kind, dates,
place, point and the role of each organisation in it, and each member's relation to the
project (``project_organisations.relation``, not the organisation's own)."""

from __future__ import annotations

import json

import sqlite_utils


def _marks(statuses: tuple[str, ...]) -> str:
    return ", ".join("?" * len(statuses))


def report_visits(db: sqlite_utils.Database, project_id: int,
                  statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """A project's visits and events by date, each with its organisations (in ``statuses``)
    and their role in it (host, visited, participant)."""
    keys = ("id", "slug", "kind", "title", "titles", "descriptions", "date", "end_date", "place", "city", "country",
            "lat", "lon")
    visits = [dict(zip(keys, row)) for row in db.execute(
        "SELECT id, slug, kind, title, titles, descriptions, date, end_date, place, city, coalesce(country, ''),"
        " lat, lon FROM visits WHERE project_id = ? ORDER BY date IS NULL, date, title", [project_id])]
    for visit in visits:
        visit["titles"] = json.loads(visit["titles"] or "{}")
        visit["descriptions"] = json.loads(visit["descriptions"] or "{}")
        visit["organisations"] = [dict(zip(("id", "slug", "name", "country", "role"), r)) for r in db.execute(
            "SELECT o.id, o.slug, o.name, coalesce(o.country, ''), vo.role FROM visit_organisations vo"  # nosec B608 # ? placeholders come from code; values are bound
            " JOIN organisations o ON o.id = vo.organisation_id WHERE vo.visit_id = ?"
            f" AND o.status IN ({_marks(statuses)}) ORDER BY o.sort_key, o.name",
            [visit["id"], *statuses])]
    return visits


def report_members(db: sqlite_utils.Database, project_id: int,
                   statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """A project's members (in ``statuses``) with their relation to it, by country then name."""
    return [dict(zip(("id", "slug", "name", "city", "country", "relation"), r)) for r in db.execute(
        "SELECT o.id, o.slug, o.name, o.city, coalesce(o.country, ''), po.relation FROM project_organisations po"  # nosec B608 # ? placeholders come from code; values are bound
        " JOIN organisations o ON o.id = po.organisation_id WHERE po.project_id = ?"
        f" AND o.status IN ({_marks(statuses)}) ORDER BY 5, o.sort_key, o.name", [project_id, *statuses])]


def project_descriptions(db: sqlite_utils.Database, project_id: int) -> tuple[dict[str, str], str]:
    """A project's descriptions per language, and its description as first written."""
    row = db.execute("SELECT descriptions, description FROM projects WHERE id = ?", [project_id]).fetchone()
    return (json.loads(row[0] or "{}"), row[1] or "") if row else ({}, "")
