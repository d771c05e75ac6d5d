"""Projects as staff run them (#27): create, edit, archive, delete and undo; members with
their relation to the project and, for partners, their role; the staff search over the
catalogue that picks organisations.

Deleting a project keeps every row it removes (the project, its memberships, its visits and
theirs) in the audit entry's ``before``, so that Undo puts them back as they were, as the
demo's removal does (``catalogue.demo``).
"""

from __future__ import annotations

import json
import re
from datetime import date

import sqlite_utils

from ..translate import N_, Message
from .base import CatalogueError, next_id, write_transaction

RELATIONS = ("visited", "participant", "partner", "other")
ROLES = ("coordinator", "partner")
LINK_KINDS = ("website", "results")
SEARCH_LIMIT = 20
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_FIELDS = ("id", "slug", "name", "names", "description", "descriptions", "website", "links", "funding",
           "show_eu_funding", "archived", "logo_file", "start_date", "end_date", "source")
_JSON = ("names", "descriptions", "links", "funding")
# What a deletion keeps to put back, parents first.
_DUMP_TABLES = ("projects", "visits", "project_organisations", "visit_organisations")


class ProjectError(CatalogueError):
    """A project's fields cannot be stored: the message says which and how to fix it."""


class CannotUndo(CatalogueError):
    """A deletion cannot be undone: the message says why."""


def _check(fields: dict) -> None:
    start, end = fields.get("start_date"), fields.get("end_date")
    for key, value in (("start_date", start), ("end_date", end)):
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ProjectError(Message(N_("%(field)s: '%(value)s' is not a date; write it as YYYY-MM-DD, for example 2025-03-31"),
                                         field=Message(N_('start date') if key == 'start_date' else N_('end date')), value=value)) from None
    if start and end and end < start:
        raise ProjectError(Message(N_("end date: the project ends (%(end)s) before it starts (%(start)s)"), end=end, start=start))
    for kind, url in (fields.get("links") or {}).items():
        if kind not in LINK_KINDS:
            raise ProjectError(f"links: unknown kind '{kind}'; use {', '.join(LINK_KINDS)}")
        if url and not re.match(r"https?://[^\s]+\Z", url):
            raise ProjectError(Message(N_("links: '%(url)s' is not an http(s) address; write it as https://…"), url=url))
    if "name" in fields and not (fields["name"] or "").strip():
        raise ProjectError(Message(N_("name: a project needs a name")))


def _row(db: sqlite_utils.Database, where: str, value) -> dict | None:
    cursor = db.execute(f"SELECT {', '.join(_FIELDS)} FROM projects WHERE {where} = ?", [value])  # nosec B608 # names from code
    row = cursor.fetchone()
    if row is None:
        return None
    found = dict(zip(_FIELDS, row))
    for key in _JSON:
        found[key] = json.loads(found[key] or "{}")
    found["show_eu_funding"], found["archived"] = bool(found["show_eu_funding"]), bool(found["archived"])
    return found


def get_project(db: sqlite_utils.Database, slug: str | None = None, *, project_id: int | None = None) -> dict | None:
    """A project's every field (JSON ones decoded), by slug or id; None if there is none."""
    return _row(db, "id", project_id) if project_id is not None else _row(db, "slug", slug)


def list_projects(db: sqlite_utils.Database, *, include_archived: bool = True,
                  slugs: tuple[str, ...] | None = None) -> list[dict]:
    """Projects by name, each with ``members`` and ``visits`` counts; ``slugs`` narrows to those."""
    clauses, params = [], []
    if not include_archived:
        clauses.append("p.archived = 0")
    if slugs is not None:
        clauses.append(f"p.slug IN ({', '.join('?' * len(slugs))})")
        params += list(slugs)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cursor = db.execute(
        "SELECT p.id, p.slug, p.name, p.names, p.start_date, p.end_date, p.archived,"  # nosec B608 # clauses from code
        " (SELECT count(*) FROM project_organisations po WHERE po.project_id = p.id),"
        " (SELECT count(*) FROM visits v WHERE v.project_id = p.id)"
        f" FROM projects p {where} ORDER BY p.name COLLATE NOCASE", params)
    out = []
    for r in cursor:
        found = dict(zip(("id", "slug", "name", "names", "start_date", "end_date", "archived", "members", "visits"), r))
        found["names"] = json.loads(found["names"] or "{}")
        found["archived"] = bool(found["archived"])
        out.append(found)
    return out


def _values(fields: dict) -> dict:
    out = {}
    for key, value in fields.items():
        if key in _JSON:
            out[key] = json.dumps({k: v for k, v in (value or {}).items() if v}, ensure_ascii=False)
        elif key in ("show_eu_funding", "archived"):
            out[key] = int(bool(value))
        elif key in ("start_date", "end_date", "logo_file"):
            out[key] = value or None
        else:
            out[key] = value if value is not None else ""
    return out


_EDITABLE = ("name", "names", "description", "descriptions", "links", "funding", "show_eu_funding",
             "start_date", "end_date", "source", "archived", "logo_file")


def create_project(db: sqlite_utils.Database, slug: str, name: str, **fields) -> int:
    """Store a new project (``fields``: any of names, descriptions ({lang: text}), description,
    links ({website, results}), funding ({lang: text}), show_eu_funding, start_date, end_date,
    source); return its id. Raises ``ProjectError`` for a bad field or a taken address."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ProjectError(f"unknown project fields: {', '.join(sorted(unknown))}")
    if not SLUG.fullmatch(slug or ""):
        raise ProjectError(Message(N_("address: '%(slug)s' may hold only lower-case letters, digits and hyphens (up to 80)"),
                                  slug=slug or ""))
    fields = {"name": name, **fields}
    _check(fields)
    if db.execute("SELECT 1 FROM projects WHERE slug = ?", [slug]).fetchone():
        raise ProjectError(Message(N_("address: there is already a project at '%(slug)s'; choose another address"), slug=slug))
    values = _values(fields)
    values["website"] = (fields.get("links") or {}).get("website", "")
    values["slug"] = slug
    with write_transaction(db):
        db.execute(f"INSERT INTO projects ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",  # nosec B608 # names from code
                   list(values.values()))
        return db.execute("SELECT id FROM projects WHERE slug = ?", [slug]).fetchone()[0]


def update_project(db: sqlite_utils.Database, project_id: int, **fields) -> dict:
    """Change a project's ``fields`` (as for ``create_project``, plus archived and logo_file);
    return the project as it was, for the audit log."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ProjectError(f"unknown project fields: {', '.join(sorted(unknown))}")
    before = get_project(db, project_id=project_id)
    if before is None:
        raise ProjectError(f"no project {project_id}")
    _check({**{k: before[k] for k in ("start_date", "end_date")}, **fields})
    values = _values(fields)
    if "links" in fields:
        values["website"] = (fields["links"] or {}).get("website", "")
    if values:
        db.execute(f"UPDATE projects SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",  # nosec B608 # names from code
                   [*values.values(), project_id])
    return before


def set_archived(db: sqlite_utils.Database, project_id: int, archived: bool) -> None:
    """Archive a project (gone from public lists, its page still there) or bring it back."""
    update_project(db, project_id, archived=archived)


def members(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """A project's members, every status, by country then name: id, slug, name, city,
    country, status, relation, role."""
    keys = ("id", "slug", "name", "city", "country", "status", "relation", "role")
    return [dict(zip(keys, r)) for r in db.execute(
        "SELECT o.id, o.slug, o.name, o.city, coalesce(o.country, ''), o.status, po.relation, po.role"
        " FROM project_organisations po JOIN organisations o ON o.id = po.organisation_id"
        " WHERE po.project_id = ? ORDER BY 5, o.sort_key, o.name", [project_id])]


def membership(db: sqlite_utils.Database, project_id: int, org_id: int) -> dict | None:
    """An organisation's relation and role in a project, or None if it is not a member."""
    row = db.execute("SELECT relation, role FROM project_organisations WHERE project_id = ? AND organisation_id = ?",
                     [project_id, org_id]).fetchone()
    return {"relation": row[0], "role": row[1]} if row else None


def add_member(db: sqlite_utils.Database, project: int | str, org_id: int, relation: str,
               role: str | None = None) -> dict | None:
    """Make an organisation a member of ``project`` (id or slug) with ``relation`` (and, for a
    partner, ``role``), or change its relation and role; return what it was (None: new)."""
    if relation not in RELATIONS:
        raise ProjectError(f"relation: '{relation}' is not one of {', '.join(RELATIONS)}")
    if role is not None and role not in ROLES:
        raise ProjectError(f"role: '{role}' is not one of {', '.join(ROLES)}")
    if relation != "partner":
        role = None
    project_id = project if isinstance(project, int) else (db.execute(
        "SELECT id FROM projects WHERE slug = ?", [project]).fetchone() or [None])[0]
    if project_id is None:
        raise ProjectError(f"no project '{project}'")
    before = membership(db, project_id, org_id)
    db.execute("INSERT INTO project_organisations (project_id, organisation_id, relation, role) VALUES (?, ?, ?, ?)"
               " ON CONFLICT (project_id, organisation_id) DO UPDATE SET relation = excluded.relation,"
               " role = excluded.role", [project_id, org_id, relation, role])
    return before


def remove_member(db: sqlite_utils.Database, project_id: int, org_id: int) -> dict | None:
    """Take an organisation out of a project; return its membership as it was."""
    before = membership(db, project_id, org_id)
    db.execute("DELETE FROM project_organisations WHERE project_id = ? AND organisation_id = ?", [project_id, org_id])
    return before


def organisation_memberships(db: sqlite_utils.Database, org_id: int) -> list[dict]:
    """The projects an organisation is in: project id, slug, name, relation, role."""
    keys = ("id", "slug", "name", "relation", "role")
    return [dict(zip(keys, r)) for r in db.execute(
        "SELECT p.id, p.slug, p.name, po.relation, po.role FROM project_organisations po"
        " JOIN projects p ON p.id = po.project_id WHERE po.organisation_id = ? ORDER BY p.name COLLATE NOCASE",
        [org_id])]


def search_organisations(db: sqlite_utils.Database, query: str, *, limit: int = SEARCH_LIMIT,
                         scope: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> list[dict]:
    """Organisations (every status) whose name, or city, holds ``query`` (case and accents
    as typed), best first: those whose name starts with it; at most ``limit`` (≤ 20)."""
    query = (query or "").strip()[:100]
    if not query:
        return []
    limit = max(1, min(limit, SEARCH_LIMIT))
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    clauses, params = ["(o.name LIKE :p ESCAPE '\\' OR o.city LIKE :p ESCAPE '\\')"], {"p": pattern}
    countries, projects = scope
    if countries or projects:
        parts = []
        if countries:
            parts.append(f"o.country IN ({', '.join(f':c{i}' for i in range(len(countries)))})")
            params.update({f"c{i}": c for i, c in enumerate(countries)})
        if projects:
            parts.append("o.id IN (SELECT po.organisation_id FROM project_organisations po JOIN projects p"  # nosec B608 # placeholders from code; values are bound
                         f" ON p.id = po.project_id WHERE p.slug IN ({', '.join(f':s{i}' for i in range(len(projects)))}))")
            params.update({f"s{i}": s for i, s in enumerate(projects)})
        clauses.append("(" + " OR ".join(parts) + ")")
    params.update({"start": query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", "limit": limit})
    keys = ("id", "name", "city", "country", "status")
    return [dict(zip(keys, r)) for r in db.execute(
        "SELECT o.id, o.name, o.city, coalesce(o.country, ''), o.status FROM organisations o"  # nosec B608 # clauses from code
        f" WHERE {' AND '.join(clauses)}"
        " ORDER BY (o.name LIKE :start ESCAPE '\\') DESC, o.sort_key, o.name LIMIT :limit", params)]


# -- deleting, and undoing it ---------------------------------------------------------------


def _where(table: str) -> str:
    return {
        "projects": "id = :id",
        "visits": "project_id = :id",
        "project_organisations": "project_id = :id",
        "visit_organisations": "visit_id IN (SELECT id FROM visits WHERE project_id = :id)",
    }[table]


def deletion_counts(db: sqlite_utils.Database, project_id: int) -> dict[str, int]:
    """What deleting a project takes with it: ``members`` and ``visits``."""
    return {
        "members": db.execute("SELECT count(*) FROM project_organisations WHERE project_id = ?", [project_id]).fetchone()[0],
        "visits": db.execute("SELECT count(*) FROM visits WHERE project_id = ?", [project_id]).fetchone()[0],
    }


def delete_project(db: sqlite_utils.Database, project_id: int) -> dict:
    """Delete a project with its memberships and visits (inside the caller's transaction);
    return every row removed, ``{table: {"columns": [...], "rows": [...]}}``, for ``restore``."""
    dump = {}
    for table in _DUMP_TABLES:
        cursor = db.execute(f"SELECT * FROM {table} WHERE {_where(table)} ORDER BY rowid",  # nosec B608 # names from code
                            {"id": project_id})
        dump[table] = {"columns": [d[0] for d in cursor.description], "rows": [list(r) for r in cursor]}
    if not dump["projects"]["rows"]:
        raise ProjectError(f"no project {project_id}")
    db.execute("DELETE FROM projects WHERE id = ?", [project_id])  # visits and memberships cascade
    return dump


def restore(db: sqlite_utils.Database, dump: dict) -> int:
    """Put a deleted project back as it was (inside the caller's transaction); return its id.
    Memberships of organisations deleted since are left out; a project or visit whose address
    is taken now stops the undo (``CannotUndo``)."""
    for table in ("projects", "visits"):
        at_slug = dump[table]["columns"].index("slug")
        for row in dump[table]["rows"]:
            if db.execute(f"SELECT 1 FROM {table} WHERE slug = ?", [row[at_slug]]).fetchone():  # nosec B608 # names from code
                raise CannotUndo(f"the address '{row[at_slug]}' is used by another entry of {table} now")
    renumbered: dict[str, dict[int, int]] = {"projects": {}, "visits": {}}
    for table in _DUMP_TABLES:
        columns = dump[table]["columns"]
        for row in dump[table]["rows"]:
            values = dict(zip(columns, row))
            if table in renumbered and db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [values["id"]]).fetchone():  # nosec B608 # names from code
                renumbered[table][values["id"]] = values["id"] = next_id(db, table)
            for key, parent in (("project_id", "projects"), ("visit_id", "visits")):
                if key in values and values[key] in renumbered[parent]:
                    values[key] = renumbered[parent][values[key]]
            if "organisation_id" in values and not db.execute(
                    "SELECT 1 FROM organisations WHERE id = ?", [values["organisation_id"]]).fetchone():
                continue
            names = list(values)
            db.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",  # nosec B608 # names from the catalogue's own columns
                       list(values.values()))
    first = dump["projects"]["rows"][0][dump["projects"]["columns"].index("id")]
    return renumbered["projects"].get(first, first)


def mark_undone(db: sqlite_utils.Database, entry_id: int) -> None:
    """Mark a deletion's audit entry as undone (``project-delete-undone:<id>``): it stays in
    the history but offers no second Undo."""
    db.execute("UPDATE audit_log SET action = 'project-delete-undone:' || substr(action, 16)"
               " WHERE id = ? AND action LIKE 'project-delete:%'", [entry_id])


def mark_bulk_undone(db: sqlite_utils.Database, entry_id: int) -> None:
    """Mark an "add to the project as…" entry as undone (``project-bulk-undone:<id>``)."""
    db.execute("UPDATE audit_log SET action = 'project-bulk-undone:' || substr(action, 14)"
               " WHERE id = ? AND action LIKE 'project-bulk:%'", [entry_id])
