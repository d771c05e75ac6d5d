"""Reading published organisations: filters, lists, pages, matches, exports."""

from __future__ import annotations

import json
import math

import sqlite_utils

from .. import geo, multilingual
from ..filters import Filters
from ..kinds import BY_NAME, REGISTRY, Column
from ..records import FICTIONAL_SOURCE
from ..text import fold_text
from ..vocab import STATUSES
from . import images, visitreads
from .base import dict_rows, read_related
from .kinds import entry_choices, member_clause
from .scope import clause as scope_clause

# A partner editor's part of the catalogue: (countries, projects); both empty for all of it.
Scope = tuple[tuple[str, ...], tuple[str, ...]]

# -- organisations: reads --------------------------------------------------


def _where(filters: Filters, statuses: tuple[str, ...] = ("published",),
           db: sqlite_utils.Database | None = None) -> tuple[str, list]:
    """The WHERE clause (organisations in ``statuses`` matching ``filters``) and its
    parameters; given ``db``, a search matches the catalogue's own category labels too."""
    clauses = [f"o.status IN ({', '.join('?' * len(statuses))})"]
    params: list = list(statuses)

    # The conditions on an organisation's own columns first, then the link tables'
    # subqueries: the order the queries were written and measured in.
    for kind in sorted(REGISTRY, key=lambda k: not isinstance(k.stored, Column)):
        values = getattr(filters, kind.name)
        if values:
            clause, values_params = member_clause(kind, values)
            clauses.append(clause)
            params.extend(values_params)
    for kind, values in filters.extra:  # the catalogue's filter fields
        clause, values_params = member_clause(kind, values)
        clauses.append(clause)
        params.extend(values_params)
    if filters.q:
        clause, search_params = search_clause(filters.q, db)
        if clause:
            clauses.append(clause)
            params.extend(search_params)
    if filters.bbox:
        b = filters.bbox
        # The R*Tree stores 32-bit floats, rounded outwards: it narrows the
        # candidates, the exact comparison decides.
        clauses.append(
            "o.id IN (SELECT id FROM organisations_rtree WHERE max_lat >= ? AND min_lat <= ?"
            " AND max_lon >= ? AND min_lon <= ?)"
            " AND o.lat BETWEEN ? AND ? AND o.lon BETWEEN ? AND ?")
        params.extend([b.min_lat, b.max_lat, b.min_lon, b.max_lon,
                       b.min_lat, b.max_lat, b.min_lon, b.max_lon])
    return " AND ".join(clauses), params


def _staff_clauses(where: str, params: list, unlocated_only: bool, precision: str | None,
                   source: str | None, import_id: int | None = None,
                   checked_before: str | None = None, scope: Scope = ((), ())) -> tuple[str, list]:
    if scope[0] or scope[1]:  # a partner editor's part: countries or projects
        clause, scope_params = scope_clause("o.id", *scope)
        where += f" AND {clause}"
        params = [*params, *scope_params]
    if checked_before:  # not confirmed by their owner (nor changed) since then
        where += (" AND coalesce((SELECT w.checked_at FROM organisation_owners w WHERE w.organisation_id = o.id),"
                  " o.updated_at) < ?")
        params = [*params, checked_before]
    if unlocated_only:
        where += " AND o.lat IS NULL"
    if precision:
        where += " AND o.geo_precision = ?"
        params = [*params, precision]
    if source:
        where += " AND o.source = ?"
        params = [*params, source]
    if import_id is not None:  # what one import created or changed, from its audit entries
        where += " AND o.id IN (SELECT organisation_id FROM audit_log WHERE action >= ? AND action < ?)"
        params = [*params, f"import:{import_id}:", f"import:{import_id};"]
    return where, params


def sources(db: sqlite_utils.Database) -> list[str]:
    """The data sources organisations came from."""
    return [r[0] for r in db.execute("SELECT DISTINCT source FROM organisations ORDER BY source")]


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: every word must occur, as a word prefix."""
    words = fold_text(text).split()  # folded as the index is
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words[:20])


_FTS = "o.id IN (SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?)"


_CATEGORY_INDEXES: dict[tuple, dict] = {}


def _category_index(db: sqlite_utils.Database) -> dict:
    """The catalogue's own categories as ``multilingual.term_index`` reads them (their labels
    and aliases, which staff change), read again when a category changes."""
    stamp = tuple(db.execute("SELECT count(*), max(updated_at) FROM categories WHERE retired_at IS NULL").fetchone())
    index = _CATEGORY_INDEXES.get(stamp)
    if index is None:
        rows = db.execute("SELECT code, labels, aliases FROM categories WHERE retired_at IS NULL").fetchall()
        index = multilingual.term_index(("themes", code, json.loads(labels or "{}"), tuple(a for a in (aliases or "").split("|") if a))
                                        for code, labels, aliases in rows)
        _CATEGORY_INDEXES.clear()
        _CATEGORY_INDEXES[stamp] = index
    return index


def search_clause(text: str, db: sqlite_utils.Database | None = None) -> tuple[str, list]:
    """A condition on ``o`` (organisations): every word of ``text`` occurs in the name,
    description or city, in any of its forms (its stems in the six languages as word
    prefixes, a place's other names: "Varsovie" finds Warszawa), or names in any language a
    theme, need or offer the organisation has ("réparation": AM120); given ``db``, the
    catalogue's own categories too. ``("", [])`` for a search without words."""
    meanings = multilingual.meanings(text)
    categories = _category_index(db) if db is not None and meanings else {}
    themes = {m: tuple(sorted(set(m.themes) | {code for _kind, code in multilingual.terms_of(m, categories)}))
              for m in meanings}
    plain = [m for m in meanings if not (themes[m] or m.resources)]
    clauses, params = [], []
    if plain:  # one MATCH for every word that is only text: the fast path of a long index
        clauses.append(_FTS)
        params.append(" AND ".join(m.fts() for m in plain))
    for m in meanings:
        if m in plain:
            continue
        either, either_params = [_FTS], [m.fts()]
        if themes[m]:
            clause, values = member_clause(BY_NAME["theme"], themes[m])
            either.append(clause)
            either_params += values
        if m.resources:
            either.append(f"o.id IN (SELECT organisation_id FROM organisation_resources WHERE resource IN ({', '.join('?' * len(m.resources))}))")  # nosec B608 # ? placeholders come from code; values are bound
            either_params += m.resources
        clauses.append("(" + " OR ".join(either) + ")")
        params += either_params
    return " AND ".join(clauses), params


_LIST_COLUMNS = (
    "o.id, o.slug, o.name, o.description, o.relation, o.structure, o.legal_form, o.street,"
    " o.postcode, o.city, o.region, o.country, o.lat, o.lon, o.geo_precision, o.website,"
    " o.email, o.phone, o.source, o.status,"
    " (SELECT json_group_array(theme) FROM (SELECT theme FROM organisation_themes t"
    "   WHERE t.organisation_id = o.id ORDER BY rank, theme)) AS themes"
)


def find_organisations(
    db: sqlite_utils.Database, filters: Filters, *, located_only: bool = False,
    limit: int | None = None, offset: int = 0, statuses: tuple[str, ...] = ("published",),
    unlocated_only: bool = False, precision: str | None = None, source: str | None = None,
    import_id: int | None = None, checked_before: str | None = None, scope: Scope = ((), ()),
) -> list[dict]:
    """Organisations (published unless ``statuses`` says otherwise) matching ``filters``,
    by name, with their theme codes; staff pages narrow by precision and source too."""
    where, params = _where(filters, statuses, db)
    if located_only:
        where += " AND o.lat IS NOT NULL"
    where, params = _staff_clauses(where, params, unlocated_only, precision, source, import_id, checked_before, scope)
    sql = f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE {where} ORDER BY o.sort_key, o.name, o.id"  # nosec B608 # names and ? placeholders come from code; values are bound
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    return dict_rows(db.execute(sql, params))


def count_organisations(db: sqlite_utils.Database, filters: Filters,
                        statuses: tuple[str, ...] = ("published",), *, located_only: bool = False,
                        unlocated_only: bool = False, precision: str | None = None,
                        source: str | None = None, import_id: int | None = None,
                        checked_before: str | None = None, scope: Scope = ((), ())) -> int:
    """How many organisations (published unless ``statuses`` says otherwise) match ``filters``."""
    where, params = _where(filters, statuses, db)
    if located_only:
        where += " AND o.lat IS NOT NULL"
    where, params = _staff_clauses(where, params, unlocated_only, precision, source, import_id, checked_before, scope)
    return db.execute(f"SELECT count(*) FROM organisations o WHERE {where}", params).fetchone()[0]  # nosec B608 # names and ? placeholders come from code; values are bound


def matching_ids(db: sqlite_utils.Database, filters: Filters, statuses: tuple[str, ...], *,
                 unlocated_only: bool = False, precision: str | None = None, source: str | None = None,
                 import_id: int | None = None, checked_before: str | None = None,
                 scope: Scope = ((), ())) -> list[int]:
    """The ids of every organisation the staff list shows for these filters (all its pages)."""
    where, params = _where(filters, statuses, db)
    where, params = _staff_clauses(where, params, unlocated_only, precision, source, import_id, checked_before, scope)
    return [r[0] for r in db.execute(f"SELECT o.id FROM organisations o WHERE {where}", params)]  # nosec B608 # names and ? placeholders come from code; values are bound


def get_organisation(
    db: sqlite_utils.Database, slug: str, *, published_only: bool = True,
) -> dict | None:
    """One organisation by slug with themes, needs, offers, translations, projects and visits."""
    status = "AND o.status = 'published'" if published_only else ""
    rows = dict_rows(db.execute(
        f"SELECT {_LIST_COLUMNS}, o.geo_source, o.created_at, o.updated_at FROM organisations o"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" WHERE o.slug = ? {status}", [slug]))
    if not rows:
        return None
    org = rows[0]
    related = read_related(db, org["id"])
    org.update(needs=related["needs"], offers=related["offers"],
               descriptions=related["descriptions"])
    org["projects"] = [{**p, "names": json.loads(p["names"])} for p in dict_rows(db.execute(
        "SELECT p.slug, p.name, p.names, p.website, p.start_date, p.end_date FROM projects p"
        " JOIN project_organisations po ON po.project_id = p.id WHERE po.organisation_id = ?"
        " ORDER BY p.name", [org["id"]]))]
    org["visits"] = [{**v, "titles": json.loads(v["titles"])} for v in dict_rows(db.execute(
        "SELECT v.slug, v.title, v.titles, v.city, v.country, v.date, p.slug AS project FROM visits v"
        " JOIN visit_organisations vo ON vo.visit_id = v.id JOIN projects p ON p.id = v.project_id"
        " WHERE vo.organisation_id = ? ORDER BY v.date, v.title", [org["id"]]))]
    return org


def organisation_count(db: sqlite_utils.Database) -> int:
    """How many organisations the catalogue holds, in any status."""
    return db.execute("SELECT count(*) FROM organisations").fetchone()[0]


def has_fictional(db: sqlite_utils.Database) -> bool:
    """True when published organisations come from the fictional demo dataset."""
    return db.execute(
        "SELECT 1 FROM organisations INDEXED BY organisations_source_status"
        " WHERE source = ? AND status = 'published' LIMIT 1",
        [FICTIONAL_SOURCE]).fetchone() is not None


def stats(db: sqlite_utils.Database) -> dict:
    """Counts for ``mapapp stats`` and the health check."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    by_status = dict(db.execute("SELECT status, count(*) FROM organisations GROUP BY status").fetchall())
    return {
        "organisations": one("SELECT count(*) FROM organisations"),
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "located": one("SELECT count(*) FROM organisations WHERE lat IS NOT NULL"),
        "not_located": one("SELECT count(*) FROM organisations WHERE lat IS NULL"),
        "by_country": dict(db.execute(
            "SELECT coalesce(country, '?'), count(*) FROM organisations GROUP BY 1"
            " ORDER BY 2 DESC, 1").fetchall()),
        "projects": one("SELECT count(*) FROM projects"),
        "visits": one("SELECT count(*) FROM visits"),
    }


def duplicate_candidates(db: sqlite_utils.Database, ids: list[int] | None = None) -> list[dict]:
    """Name, place and website of every organisation (or of those with these ids), to
    spot likely duplicates."""
    sql = "SELECT id, slug, name, city, country, lat, lon, website, source, source_ref FROM organisations"
    if ids is None:
        return dict_rows(db.execute(sql))
    if not ids:
        return []
    return dict_rows(db.execute(f"{sql} WHERE id IN ({', '.join('?' * len(ids))})", list(ids)))  # nosec B608 # ? placeholders only


def names_and_websites(db: sqlite_utils.Database):
    """``(id, name, website)`` of every organisation, row by row."""
    return db.execute("SELECT id, name, website FROM organisations")


def source_has_refs(db: sqlite_utils.Database, source: str) -> bool:
    """True when some organisation of ``source`` has a reference an import can match."""
    return db.execute("SELECT 1 FROM organisations WHERE source = ? AND source_ref IS NOT NULL LIMIT 1",
                      [source]).fetchone() is not None


def project_exists(db: sqlite_utils.Database, slug: str) -> bool:
    """True when a project has this slug."""
    return project_id(db, slug) is not None


def project_id(db: sqlite_utils.Database, slug: str) -> int | None:
    """The id of the project with this slug, or None."""
    row = db.execute("SELECT id FROM projects WHERE slug = ?", [slug]).fetchone()
    return row[0] if row else None


def project_slugs(db: sqlite_utils.Database) -> list[str]:
    """Every project's slug, sorted."""
    return [r[0] for r in db.execute("SELECT slug FROM projects ORDER BY slug")]


def version(db: sqlite_utils.Database) -> int:
    """A number that changes whenever anything the public sees may have changed."""
    return db.execute("SELECT version FROM catalogue_version WHERE id = 1").fetchone()[0]


def last_change(db: sqlite_utils.Database) -> tuple[int, str]:
    """``(version, changed_at)``: the catalogue's version and when it last changed (UTC ISO)."""
    return tuple(db.execute("SELECT version, changed_at FROM catalogue_version WHERE id = 1").fetchone())


def project_and_visit_names(db: sqlite_utils.Database, lang: str = "en") -> dict[str, list[tuple[str, str]]]:
    """``{"project": [(slug, name)], "visit": [(slug, title (date))]}`` for the filter lists, in
    ``lang`` where a translation was given."""
    return {name: entry_choices(db, BY_NAME[name], lang) for name in ("project", "visit")}


_MATCH_SQL = (
    "SELECT o.id, o.slug, o.name, o.city, o.country, o.lat, o.lon, group_concat(r.resource, ',')"
    " FROM organisation_resources m"
    " JOIN organisation_resources r ON r.resource = m.resource AND r.kind = ?"
    " JOIN organisations o ON o.id = r.organisation_id"
    " WHERE m.organisation_id = ? AND m.kind = ? AND o.id != ? AND o.status = 'published'"
    " GROUP BY o.id")
# Driven by the box (the R*Tree gives the few organisations in it), then their resources.
_WINDOW_SQL = (
    "SELECT o.id, o.slug, o.name, o.city, o.country, o.lat, o.lon, group_concat(r.resource, ',')"
    " FROM organisations_rtree w CROSS JOIN organisation_resources r CROSS JOIN organisations o"
    " WHERE w.min_lat >= ? AND w.max_lat <= ? AND w.min_lon >= ? AND w.max_lon <= ?"
    " AND r.organisation_id = w.id AND r.kind = ?"
    " AND r.resource IN (SELECT resource FROM organisation_resources WHERE organisation_id = ? AND kind = ?)"
    " AND o.id = w.id AND o.id != ? AND o.status = 'published'"
    " GROUP BY o.id")
MATCH_RADII = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 45.0)  # degrees of arc around the organisation, in turn


def matches(db: sqlite_utils.Database, org_id: int, *, limit: int = 8) -> dict[str, list[dict]]:
    """Published organisations that offer what ``org_id`` needs ("offering") and that need
    what it offers ("needing"), with the shared resources, ranked by ``geo.rank_partners``.

    Among a million organisations thousands offer the same thing: the search starts with
    the small boxes (the R*Tree) around the organisation that hold every point within a
    short distance of it, and widens the distance until ``limit`` matches lie within it,
    so that they are the nearest of all."""
    here = db.execute("SELECT lat, lon FROM organisations WHERE id = ?", [org_id]).fetchone()
    located = here is not None and here[0] is not None
    out = {}
    kinds = {kind for (kind,) in db.execute(
        "SELECT DISTINCT kind FROM organisation_resources WHERE organisation_id = ?", [org_id])}
    for name, mine, theirs in (("offering", "need", "offer"), ("needing", "offer", "need")):
        found: list[dict] = []
        if mine not in kinds:  # it needs (or offers) nothing: no one to match
            out[name] = []
            continue
        for radius in (MATCH_RADII if located else ()) + (None,):
            if radius is None:
                rows = db.execute(_MATCH_SQL, [theirs, org_id, mine, org_id]).fetchall()
            else:
                rows = list({r[0]: r for box in geo.boxes_around(here, radius)
                             for r in db.execute(_WINDOW_SQL, [*box, theirs, org_id, mine, org_id])}.values())
            found = _ranked(rows, here if located else None)
            if radius is None:
                break
            # Sure to be the nearest: within the distance every point of the boxes is. The
            # margin is far wider than the R*Tree's rounding of points near a box's edge.
            sure_km = 0.99 * math.radians(radius) * geo.EARTH_RADIUS_KM
            if sum(1 for m in found if m["km"] is not None and m["km"] <= sure_km) >= limit:
                break
        out[name] = found[:limit]
    return out


def _ranked(rows: list[tuple], here: tuple | None) -> list[dict]:
    return geo.rank_partners([{"id": r[0], "slug": r[1], "name": r[2], "city": r[3], "country": r[4], "lat": r[5],
                               "lon": r[6], "shared": sorted(r[7].split(","))} for r in rows], here)


def export_organisations(db: sqlite_utils.Database, filters: Filters) -> list[dict]:
    """Published organisations matching ``filters`` with everything an export needs:
    needs and offers as ``code: detail`` lists and project slugs."""
    orgs = find_organisations(db, filters)
    if not orgs:
        return orgs
    by_id = {o["id"]: o for o in orgs}
    for o in orgs:
        o.update(needs={}, offers={}, projects=[])
    # One pass over each related table for the whole selection (not a query per batch
    # of ids): an export of 250,000 organisations reads them in a few seconds.
    where, params = _where(filters, db=db)
    chosen = f"SELECT o.id FROM organisations o WHERE {where}"  # nosec B608 # clauses from code; values bound
    for org_id, kind, code, detail in db.execute(
            "SELECT organisation_id, kind, resource, detail FROM organisation_resources"  # nosec B608 # clauses from code; values bound
            f" WHERE organisation_id IN ({chosen}) ORDER BY resource", params):
        by_id[org_id][f"{kind}s"][code] = detail
    for org_id, slug in db.execute(
            "SELECT po.organisation_id, p.slug FROM project_organisations po JOIN projects p"  # nosec B608 # clauses from code; values bound
            f" ON p.id = po.project_id WHERE po.organisation_id IN ({chosen}) ORDER BY p.slug", params):
        by_id[org_id]["projects"].append(slug)
    visitreads.export_links(db, by_id, chosen, params)
    images.add_pictures_to(db, by_id, chosen, params)
    return orgs


def status_counts(db: sqlite_utils.Database, scope: Scope = ((), ())) -> dict[str, int]:
    """Organisations per status, and how many have no location (in a partner's ``scope``)."""
    where, params = scope_clause("id", *scope)
    counts = dict(db.execute(f"SELECT status, count(*) FROM organisations WHERE {where} GROUP BY status",  # nosec B608 # clause from code; values bound
                             params).fetchall())
    counts["not_located"] = db.execute(f"SELECT count(*) FROM organisations WHERE lat IS NULL AND {where}",  # nosec B608 # clause from code; values bound
                                       params).fetchone()[0]
    return counts


def likely_duplicates(db: sqlite_utils.Database, name: str, website: str, limit: int = 5) -> list[dict]:
    """Published organisations with this name (case aside) or this website."""
    cursor = db.execute("SELECT slug, name, city FROM organisations WHERE status = 'published'"
                        " AND (name = ? COLLATE NOCASE OR (? <> '' AND website = ?)) ORDER BY name LIMIT ?",
                        [name.strip(), website, website, limit])
    return [dict(zip(("slug", "name", "city"), r)) for r in cursor]
