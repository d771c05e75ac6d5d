"""What the insights read: counts of the organisations a selection holds, grouped by each
of their dimensions, the located needs and offers, and a project's visits."""

from __future__ import annotations

import json

import sqlite_utils

from ..filters import Filters
from .projects import get_project
from .reads import _where

# A dimension: the value it groups by, and the rows it reads (``o``: organisations).
_DIMENSIONS = {
    "country": ("coalesce(o.country, '')", "organisations o"),
    "structure": ("o.structure", "organisations o"),
    "relation": ("o.relation", "organisations o"),
    "month": ("substr(o.created_at, 1, 7)", "organisations o"),
    "theme": ("t.theme", "organisation_themes t JOIN organisations o ON o.id = t.organisation_id"),
}


def counts_by(db: sqlite_utils.Database, filters: Filters, dimension: str,
              statuses: tuple[str, ...] = ("published",)) -> dict[str, int]:
    """How many organisations of the selection have each value of ``dimension`` (country,
    structure, relation, month added, theme)."""
    value, rows = _DIMENSIONS[dimension]
    where, params = _where(filters, statuses)
    return dict(db.execute(f"SELECT {value}, count(*) FROM {rows} WHERE {where} GROUP BY 1",  # nosec B608 # names and ? placeholders come from code; values are bound
                           params).fetchall())


def family_counts(db: sqlite_utils.Database, filters: Filters, families: dict[str, list[str]],
                  statuses: tuple[str, ...] = ("published",)) -> dict[str, int]:
    """``{parent: organisations}``: how many organisations of the selection are filed under
    each parent or any of its children (``families``: a parent's code and its children's),
    each counted once."""
    where, params = _where(filters, statuses)
    out = {}
    for parent, codes in families.items():
        out[parent] = db.execute(
            "SELECT count(DISTINCT t.organisation_id) FROM organisation_themes t"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" JOIN organisations o ON o.id = t.organisation_id WHERE t.theme IN ({', '.join('?' * len(codes))})"
            f" AND {where}", [*codes, *params]).fetchone()[0]
    return out


def total(db: sqlite_utils.Database, filters: Filters, statuses: tuple[str, ...] = ("published",)) -> int:
    """How many organisations the selection holds."""
    where, params = _where(filters, statuses)
    return db.execute(f"SELECT count(*) FROM organisations o WHERE {where}", params).fetchone()[0]  # nosec B608 # names and ? placeholders come from code; values are bound


def resource_counts(db: sqlite_utils.Database, filters: Filters,
                    statuses: tuple[str, ...] = ("published",)) -> dict[tuple[str, str], int]:
    """``{(kind, resource): organisations}``: how many need, how many offer each resource."""
    where, params = _where(filters, statuses)
    return {(kind, code): n for kind, code, n in db.execute(
        "SELECT r.kind, r.resource, count(*) FROM organisation_resources r"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" JOIN organisations o ON o.id = r.organisation_id WHERE {where} GROUP BY 1, 2", params)}


def located_resources(db: sqlite_utils.Database, filters: Filters, statuses: tuple[str, ...] = ("published",)):
    """``(kind, resource, organisation id, lat, lon)`` of every need and offer of the located
    organisations of the selection, by resource (a cursor: read it once)."""
    where, params = _where(filters, statuses)
    return db.conn.execute(
        "SELECT r.kind, r.resource, o.id, o.lat, o.lon FROM organisation_resources r"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" JOIN organisations o ON o.id = r.organisation_id WHERE {where} AND o.lat IS NOT NULL"
        " ORDER BY r.resource, r.kind", params)


def named(db: sqlite_utils.Database, ids: list[int]) -> dict[int, dict]:
    """``{id: {slug, name, city, country, status}}`` of these organisations."""
    out: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for org_id, slug, name, city, country, status in db.execute(
                "SELECT id, slug, name, city, coalesce(country, ''), status FROM organisations"  # nosec B608 # ? placeholders come from code; values are bound
                f" WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
            out[org_id] = {"id": org_id, "slug": slug, "name": name, "city": city, "country": country,
                           "status": status}
    return out


def located_points(db: sqlite_utils.Database, filters: Filters,
                   statuses: tuple[str, ...] = ("published",)) -> list[tuple[float, float]]:
    """``(lat, lon)`` of the located organisations of the selection."""
    where, params = _where(filters, statuses)
    return db.execute(f"SELECT o.lat, o.lon FROM organisations o WHERE {where} AND o.lat IS NOT NULL",  # nosec B608 # names and ? placeholders come from code; values are bound
                      params).fetchall()


def project(db: sqlite_utils.Database, slug: str) -> dict | None:
    """A project: its fields, translated names, descriptions and funding line, links, archive flag."""
    return get_project(db, slug)


def project_members(db: sqlite_utils.Database, project_id: int, statuses: tuple[str, ...] = ("published",),
                    limit: int = 1000) -> list[dict]:
    """A project's member organisations (in ``statuses``) with their relation to it (not their own
    relation in the catalogue), by country then name."""
    return [dict(zip(("slug", "name", "city", "country", "relation", "status"), r)) for r in db.execute(
        "SELECT o.slug, o.name, o.city, coalesce(o.country, ''), po.relation, o.status FROM project_organisations po"  # nosec B608 # ? placeholders come from code; values are bound
        " JOIN organisations o ON o.id = po.organisation_id WHERE po.project_id = ?"
        f" AND o.status IN ({', '.join('?' * len(statuses))}) ORDER BY 4, o.sort_key, o.name LIMIT ?",
        [project_id, *statuses, limit])]


def project_relation_counts(db: sqlite_utils.Database, project_id: int,
                            statuses: tuple[str, ...] = ("published",)) -> dict[str, int]:
    """How many members (in ``statuses``) have each relation to this project (not their own)."""
    return dict(db.execute(
        "SELECT po.relation, count(*) FROM project_organisations po JOIN organisations o ON o.id = po.organisation_id"
        f" WHERE po.project_id = ? AND o.status IN ({', '.join('?' * len(statuses))}) GROUP BY po.relation",  # nosec B608 # ? placeholders only
        [project_id, *statuses]))


def project_visits(db: sqlite_utils.Database, project_id: int,
                   statuses: tuple[str, ...] = ("published",)) -> list[dict]:
    """A project's visits by date, each with the organisations visited (in ``statuses``)."""
    visits = []
    for visit_id, slug, title, titles, city, country, date in db.execute(
            "SELECT id, slug, title, titles, city, coalesce(country, ''), date FROM visits WHERE project_id = ?"
            " ORDER BY date, title", [project_id]):
        organisations = [dict(zip(("slug", "name", "city", "country"), r)) for r in db.execute(
            "SELECT o.slug, o.name, o.city, coalesce(o.country, '') FROM visit_organisations vo"  # nosec B608 # ? placeholders come from code; values are bound
            f" JOIN organisations o ON o.id = vo.organisation_id WHERE vo.visit_id = ?"
            f" AND o.status IN ({', '.join('?' * len(statuses))}) ORDER BY o.sort_key, o.name",
            [visit_id, *statuses])]
        visits.append({"slug": slug, "title": title, "titles": json.loads(titles or "{}"), "city": city,
                       "country": country, "date": date, "organisations": organisations})
    return visits
