"""Visits and events of a project (study visits, seminars, online meetings, public events),
run by staff: each with its titles, dates, place and point, descriptions, links, and the
organisations that hosted it, were visited or took part.

Every change is one transaction with its audit entry (action ``visit:<id>``, the visit
before and after, organisations included), so a deleted visit can be put back as it was.
The triggers of migrations 3 and 12 move the catalogue's version on with every write to
``visits`` and ``visit_organisations``: the map's visit filter and caches follow.
"""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

from ..text import slugify
from ..vocab import is_country
from . import audit
from .base import write_transaction
from .reads import fts_query
from .scope import clause as scope_clause
from .slugs import MAX_LENGTH, first_free

KINDS = ("study-visit", "seminar", "online", "event")
ROLES = ("host", "visited", "participant")
LINK_KINDS = ("programme", "report", "photos")


class VisitError(ValueError):
    """A visit cannot be written as asked (its project or the visit is gone)."""


def _action(visit_id: int) -> str:
    return f"visit:{visit_id}"


_COLUMNS = ("v.id, v.slug, p.slug AS project, v.kind, v.title, v.titles, v.date, v.end_date, v.place,"
            " v.city, v.country, v.lat, v.lon, v.geo_precision, v.descriptions, v.links")


def _visits(db: sqlite_utils.Database, where: str, params: list) -> list[dict]:
    cursor = db.execute(f"SELECT {_COLUMNS} FROM visits v JOIN projects p ON p.id = v.project_id"  # nosec B608 # clauses from code
                        f" WHERE {where} ORDER BY v.date DESC, v.id DESC", params)
    columns = [d[0] for d in cursor.description]
    out = []
    for row in cursor:
        visit = dict(zip(columns, row))
        for key in ("titles", "descriptions", "links"):
            visit[key] = json.loads(visit[key] or "{}")
        visit["organisations"] = []
        out.append(visit)
    by_id = {v["id"]: v for v in out}
    if by_id:
        for visit_id, org_id, slug, name, country, role in db.execute(
                "SELECT vo.visit_id, o.id, o.slug, o.name, o.country, vo.role FROM visit_organisations vo"
                " JOIN organisations o ON o.id = vo.organisation_id"
                " WHERE vo.visit_id IN (SELECT value FROM json_each(?)) ORDER BY o.sort_key, o.name, o.id",
                [json.dumps(list(by_id))]):
            by_id[visit_id]["organisations"].append(
                {"id": org_id, "slug": slug, "name": name, "country": country, "role": role})
    return out


def visits_of_project(db: sqlite_utils.Database, project_slug: str) -> list[dict]:
    """The project's visits, latest first, each with ``organisations`` (id, slug, name,
    country, role)."""
    return _visits(db, "p.slug = ?", [project_slug])


def get_visit(db: sqlite_utils.Database, slug: str) -> dict | None:
    """One visit by slug, as ``visits_of_project`` gives it; None when there is none."""
    found = _visits(db, "v.slug = ?", [slug])
    return found[0] if found else None


def in_text(texts: dict, lang: str, fallback: str = "") -> str:
    """The text of ``texts`` ({lang: text}) in ``lang``, else English, else ``fallback``."""
    return texts.get(lang) or texts.get("en") or fallback


def new_slug(db: sqlite_utils.Database, project_slug: str, date: str | None, place: str, kind: str) -> str:
    """A free slug: the project's, the date and the place (or the kind, for an online
    meeting): ``erasmus-2025-05-12-poznan-pl``, then ``…-2``, ``…-3``."""
    base = slugify(" ".join(p for p in (project_slug, date or "", place or kind) if p), fallback="visit")
    base = base[:MAX_LENGTH - 4].rstrip("-")

    def taken(slug: str) -> bool:
        return db.execute("SELECT 1 FROM visits WHERE slug = ?", [slug]).fetchone() is not None

    return first_free((base, base), taken)


_FIELDS = ("kind", "title", "titles", "date", "end_date", "place", "city", "country", "lat", "lon", "geo_precision",
           "descriptions", "links")


def place_parts(place: str) -> tuple[str, str | None]:
    """The town and country code of a place written ``Poznań, PL`` (else the place, None)."""
    city, _sep, country = (place or "").strip().rpartition(",")
    country = country.strip().upper()
    if not city.strip() or not is_country(country):
        return (place or "").strip(), None
    return city.strip(), country


def _row(values: dict) -> list:
    """The stored columns of ``values``; a visit given no city and country takes them from its
    place (``Poznań, PL``), so that it counts in the country where it took place."""
    derived = dict(zip(("city", "country"), place_parts(values.get("place") or "")))
    out = []
    for key in _FIELDS:
        value = values.get(key) if key in values or key not in derived else derived[key]
        if key in ("titles", "descriptions", "links"):
            value = json.dumps(value or {}, ensure_ascii=False, sort_keys=True)
        elif key in ("place", "city"):
            value = value or ""
        elif key == "country":
            value = value or None
        out.append(value)
    return out


def _state(visit: dict) -> dict:
    """What the audit log keeps of a visit: enough to put it back."""
    return {"slug": visit["slug"], "project": visit["project"], **{k: visit[k] for k in _FIELDS},
            "organisations": [[o["id"], o["role"]] for o in visit["organisations"]]}


def _link(db: sqlite_utils.Database, visit_id: int, organisations: list[tuple[int, str]]) -> None:
    db.execute("DELETE FROM visit_organisations WHERE visit_id = ?", [visit_id])
    seen = set()
    for org_id, role in organisations:
        if org_id in seen:  # one role per organisation and visit: the first given
            continue
        seen.add(org_id)
        db.execute("INSERT INTO visit_organisations (visit_id, organisation_id, role)"
                   " SELECT ?, id, ? FROM organisations WHERE id = ?", [visit_id, role, org_id])


def create_visit(db: sqlite_utils.Database, project_slug: str, values: dict, organisations: list[tuple[int, str]],
                 *, user_email: str) -> str:
    """A new visit of the project (``values``: the fields of ``_FIELDS``, checked by the
    caller; ``organisations``: (id, role) pairs); its slug."""
    with write_transaction(db):
        project = db.execute("SELECT id FROM projects WHERE slug = ?", [project_slug]).fetchone()
        if project is None:
            raise VisitError(project_slug)
        slug = new_slug(db, project_slug, values.get("date"), values.get("place") or "", values["kind"])
        cursor = db.execute(f"INSERT INTO visits (slug, project_id, {', '.join(_FIELDS)})"  # nosec B608 # names from code
                            f" VALUES (?, ?, {', '.join('?' * len(_FIELDS))})", [slug, project[0], *_row(values)])
        _link(db, cursor.lastrowid, organisations)
        visit = _visits(db, "v.id = ?", [cursor.lastrowid])[0]
        audit.record(db, user_email, _action(visit["id"]), None, None, _state(visit))
    return slug


def update_visit(db: sqlite_utils.Database, slug: str, values: dict, organisations: list[tuple[int, str]],
                 *, user_email: str) -> bool:
    """Change a visit (its slug stays); True when something changed."""
    with write_transaction(db):
        found = _visits(db, "v.slug = ?", [slug])
        if not found:
            raise VisitError(slug)
        before = _state(found[0])
        if "city" not in values and (values.get("place") or "") == (before["place"] or ""):
            values = {**values, "city": before["city"], "country": before["country"]}  # the place stays: so does its country
        wanted = {o: r for o, r in reversed(organisations)}  # the first role given wins
        if _row(before) == _row(values) and {o: r for o, r in before["organisations"]} == wanted:
            return False  # nothing written: the catalogue's version stays
        db.execute(f"UPDATE visits SET {', '.join(f'{k} = ?' for k in _FIELDS)} WHERE id = ?",  # nosec B608 # names from code
                   [*_row(values), found[0]["id"]])
        _link(db, found[0]["id"], organisations)
        after = _state(_visits(db, "v.id = ?", [found[0]["id"]])[0])
        audit.record(db, user_email, _action(found[0]["id"]), None, before, after)
    return True


def delete_visit(db: sqlite_utils.Database, slug: str, *, user_email: str) -> int | None:
    """Remove a visit and its organisations' links (kept in the audit entry); the entry's id,
    for undoing it, or None when there was no such visit."""
    with write_transaction(db):
        found = _visits(db, "v.slug = ?", [slug])
        if not found:
            return None
        db.execute("DELETE FROM visits WHERE id = ?", [found[0]["id"]])
        audit.record(db, user_email, _action(found[0]["id"]), None, _state(found[0]), None)
        return db.execute("SELECT last_insert_rowid()").fetchone()[0]


def undo_delete(db: sqlite_utils.Database, entry_id: int, *, user_email: str) -> str:
    """Put back the visit an audit entry deleted, with the same slug and its organisations
    still in the catalogue; its slug. Raises ``VisitError`` when the entry is no visit's
    deletion, the project is gone, or the visit is back already."""
    with write_transaction(db):
        found = audit.entries(db, entry_id=entry_id, limit=1)
        if not found or not found[0]["action"].startswith("visit:") or found[0]["after"] is not None \
                or not found[0]["before"]:
            raise VisitError(entry_id)
        state = found[0]["before"]
        visit_id = int(found[0]["action"].split(":", 1)[1])
        project = db.execute("SELECT id FROM projects WHERE slug = ?", [state["project"]]).fetchone()
        if project is None:
            raise VisitError(state["project"])
        try:
            db.execute(f"INSERT INTO visits (id, slug, project_id, {', '.join(_FIELDS)})"  # nosec B608 # names from code
                       f" VALUES (?, ?, ?, {', '.join('?' * len(_FIELDS))})",
                       [visit_id, state["slug"], project[0], *_row(state)])
        except sqlite3.IntegrityError as e:  # back already, or its slug given again
            raise VisitError(state["slug"]) from e
        _link(db, visit_id, [(org_id, role) for org_id, role in state["organisations"]])
        audit.record(db, user_email, _action(visit_id), None, None, _state(_visits(db, "v.id = ?", [visit_id])[0]))
    return state["slug"]


def history(db: sqlite_utils.Database, project_slug: str, limit: int = 20) -> list[dict]:
    """The latest audit entries of the project's visits, deleted ones included."""
    return [e for e in audit.entries(db, action_prefix="visit:", limit=500)
            if (e["after"] or e["before"] or {}).get("project") == project_slug][:limit]


def pickable_organisations(db: sqlite_utils.Database, q: str, *, scope: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
                           limit: int = 20) -> list[dict]:
    """Organisations whose name, city or slug holds ``q`` (at least two characters), for the
    search boxes: id, slug, name, city, country; within a partner editor's ``scope``."""
    q = q.strip()
    if len(q) < 2:
        return []
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    clause, params = scope_clause("o.id", *scope)
    cursor = db.execute(
        "SELECT o.id, o.slug, o.name, o.city, o.country FROM organisations o"  # nosec B608 # clause from code
        " WHERE (o.name LIKE ? ESCAPE '\\' OR o.city LIKE ? ESCAPE '\\' OR o.slug LIKE ? ESCAPE '\\'"
        f" OR o.id IN (SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?)) AND {clause}"
        " ORDER BY o.sort_key, o.name, o.id LIMIT ?", [pattern, pattern, pattern, _fts(q), *params, limit])
    return [dict(zip(("id", "slug", "name", "city", "country"), r)) for r in cursor]


def _fts(q: str) -> str:
    # The index's own folding and word prefixes: "Pozn" finds "Poznań".
    return fts_query(q) or '""'


def organisations_in_scope(db: sqlite_utils.Database, org_ids: list[int],
                           scope: tuple[tuple[str, ...], tuple[str, ...]]) -> set[int]:
    """Which of ``org_ids`` exist and lie in ``scope``."""
    clause, params = scope_clause("o.id", *scope)
    return {r[0] for r in db.execute(
        f"SELECT o.id FROM organisations o WHERE o.id IN (SELECT value FROM json_each(?)) AND {clause}",  # nosec B608 # clause from code
        [json.dumps(org_ids), *params])}


def organisations_by_id(db: sqlite_utils.Database, org_ids: list[int]) -> list[dict]:
    """id, slug, name, city, country of each of ``org_ids`` that exists."""
    return [dict(zip(("id", "slug", "name", "city", "country"), r)) for r in db.execute(
        "SELECT id, slug, name, city, country FROM organisations WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(org_ids)])]


def project(db: sqlite_utils.Database, slug: str, lang: str) -> dict | None:
    """A project's slug and name in ``lang`` (falling back as ``in_text`` does); None when there is none."""
    row = db.execute("SELECT slug, name, names FROM projects WHERE slug = ?", [slug]).fetchone()
    return None if row is None else {"slug": row[0], "name": in_text(json.loads(row[2]), lang, row[1])}


def deletion(db: sqlite_utils.Database, entry_id: int) -> dict | None:
    """The visit an audit entry deleted, as it was (slug, project…); None when the entry is
    no visit's deletion."""
    found = audit.entries(db, entry_id=entry_id, limit=1)
    if not found or not found[0]["action"].startswith("visit:") or found[0]["after"] is not None:
        return None
    return found[0]["before"]
