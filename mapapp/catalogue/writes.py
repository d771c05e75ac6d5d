"""Writing organisations, projects and visits: one at a time, or in bulk for imports."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import sqlite_utils

from ..text import fold, fold_text, slugify, sort_key
from . import slugs
from .base import (
    FIELDS,
    TRIGGERS_SWAPPED,
    CatalogueError,
    Saved,
    lineage_cookie,
    next_id,
    now,
    related_of,
    write_transaction,
)

# -- organisations: writes -------------------------------------------------


@dataclass
class Stored:
    """An organisation as stored, for comparing with an incoming record."""

    id: int
    slug: str
    values: dict
    related: dict


def save_organisation(
    db: sqlite_utils.Database,
    record: dict,
    *,
    themes: list[str] | tuple[str, ...] = (),
    needs: dict[str, str] | None = None,
    offers: dict[str, str] | None = None,
    descriptions: dict[str, str] | None = None,
) -> Saved:
    """Insert or update one organisation with its themes, needs, offers and translations.

    An organisation is the same one when ``source`` and ``source_ref`` match.
    Nothing is written when every value is as stored (``action == "unchanged"``).
    """
    values = {k: record.get(k) for k in FIELDS if k in record}
    values.setdefault("source", "")
    related = related_of(themes, needs, offers, descriptions)
    with write_transaction(db):
        stored = None
        if values.get("source_ref") is not None:
            stored = stored_by_source(db, values["source"], refs=[values["source_ref"]]).get(
                values["source_ref"])
        if stored is None:
            org_id, slug = insert_organisation(db, values, related, slug_hint=record.get("slug"))
            return Saved(org_id, slug, "created")
        action = update_organisation(db, stored, values, related)
        return Saved(stored.id, stored.slug, action)


def stored_by_source(
    db: sqlite_utils.Database, source: str, *, refs: list[str] | None = None,
) -> dict[str, Stored]:
    """Every organisation of ``source`` that has a reference (or only ``refs``), by reference."""
    where, params = "source = ? AND source_ref IS NOT NULL", [source]
    if refs is not None:
        where += f" AND source_ref IN ({', '.join('?' * len(refs))})"
        params += list(refs)
    return {s.values["source_ref"]: s for s in _stored_where(db, where, params)}


def stored_by_id(db: sqlite_utils.Database, org_id: int) -> Stored | None:
    """One organisation as stored (an import updating a likely duplicate of one of its rows)."""
    found = _stored_where(db, "id = ?", [org_id])
    return found[0] if found else None


def _stored_where(db: sqlite_utils.Database, where: str, params: list) -> list[Stored]:
    cursor = db.execute(f"SELECT * FROM organisations WHERE {where}", params)  # nosec B608 # names and ? placeholders come from code; values are bound
    columns = [d[0] for d in cursor.description]
    by_id: dict[int, Stored] = {}
    for row in cursor:
        data = dict(zip(columns, row))
        by_id[data["id"]] = Stored(data["id"], data["slug"], {k: data[k] for k in FIELDS},
                                   related_of())
    if not by_id:
        return []
    subset = f"SELECT id FROM organisations WHERE {where}"  # nosec B608 # names and ? placeholders come from code; values are bound
    for org_id, theme in db.execute(
            f"SELECT organisation_id, theme FROM organisation_themes WHERE organisation_id IN ({subset})"  # nosec B608 # names and ? placeholders come from code; values are bound
            " ORDER BY rank, theme", params):
        by_id[org_id].related["themes"].append(theme)
    for org_id, kind, resource, detail in db.execute(
            "SELECT organisation_id, kind, resource, detail FROM organisation_resources"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" WHERE organisation_id IN ({subset}) ORDER BY resource", params):
        by_id[org_id].related[f"{kind}s"][resource] = detail
    for org_id, lang, text in db.execute(
            "SELECT organisation_id, lang, description FROM organisation_descriptions"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" WHERE organisation_id IN ({subset}) ORDER BY lang", params):
        by_id[org_id].related["descriptions"][lang] = text
    return list(by_id.values())


def insert_organisation(
    db: sqlite_utils.Database, values: dict, related: dict, *, slug_hint: str | None = None,
) -> tuple[int, str]:
    """Insert a new organisation; return its id and its slug (``slug_hint``'s, or its name's;
    when taken, the next free form: see ``slugs``)."""
    stamp = now()
    slug = slugs.first_free(slugs.slug_forms(slugify(slug_hint or values["name"]), values.get("city")),
                            slugs.in_use(db))
    row = {**values, "slug": slug, "created_at": stamp, "updated_at": stamp}
    _check_columns(row)
    cursor = db.execute(
        f"INSERT INTO organisations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",  # nosec B608 # names and ? placeholders come from code; values are bound
        list(row.values()),
    )
    _write_related(db, cursor.lastrowid, related, replace=False)
    return cursor.lastrowid, slug


# Per-row triggers that bulk_insert replaces by set-based statements, or needs not: it gives
# the sort key itself. Issue 31: while any trigger on organisations' inserts remained, even one
# whose WHEN is false, SQLite journalled every page each row's insert touched to a temporary
# file (the statement journal a trigger's possible writes need), 18 writes a row.
_BULK_TRIGGERS = ("organisations_fts_insert", "organisations_rtree_insert", "organisations_sort_key_insert",
                  "organisations_version_insert", "organisation_themes_version_insert",
                  "organisation_resources_version_insert", "organisation_descriptions_version_insert",
                  "organisations_changes_insert", "organisation_themes_changes_insert",
                  "organisation_resources_changes_insert")


def new_row_text(values: dict) -> tuple[tuple[str, str], str, str, str, str]:
    """What a new organisation's row derives from its text: the forms of its slug
    (``slugs.slug_forms``), its sort key (migration 32) and the folded name, description and
    city that the search index holds (the trigger's mapapp_fold). Pure, so that the process
    reading a large import works it out (see bulk_insert)."""
    name, description, city = values["name"], values.get("description"), values.get("city")
    return (slugs.slug_forms(slugify(name), city), sort_key(name), fold(name),
            fold_text(description) if description else "", fold(city) if city else "")


def bulk_insert(db: sqlite_utils.Database, items: list[tuple], also_avoid=(), *, picker: slugs.Picker | None = None,
                spatial: bool = True) -> list[tuple[int, str]]:
    """Insert many new organisations ``(values, related)`` at once, or ``(values, related,
    new_row_text(values))`` when that is known already; return (id, slug) each.

    Each gets a free slug (see ``slugs``), none of ``also_avoid``; a caller adding many
    chunks passes its one ``picker`` (it remembers the numbers given).

    Call inside ``write_transaction``. The full-text and spatial indexes are filled for
    the new rows by two statements instead of one trigger call per row; the triggers are
    dropped and re-created inside the same transaction, so a failure rolls them back with
    everything else, and no other connection ever sees them missing (an import committed
    in batches swaps them in each batch's transaction: a staff edit between two batches
    fires them as usual; its connection prepares its statements again for the schema
    cookie the swap raised, as SQLite does by itself). A caller that adds many chunks in
    one transaction may leave the spatial index to one ``spatial.index_new_points`` call
    at the end, before its transaction commits (``spatial=False``).
    """
    if not items:
        return []
    stamp = now()
    first_id = next_id(db, "organisations")  # never a deleted organisation's id (migration 21)
    columns = list(dict.fromkeys(itertools.chain.from_iterable(item[0] for item in items)))
    _check_columns(dict.fromkeys(columns))
    texts = [item[2] if len(item) > 2 else new_row_text(item[0]) for item in items]
    picker = picker or slugs.Picker(db, also_avoid)
    given = picker.pick([text[0] for text in texts])
    # The import's new organisations so far (a caller adding many chunks passes one picker).
    picker.organisations_added += len(items)
    rows, searched, out = [], [], []
    themes, resources, descriptions = [], [], []
    # Appends, not a list made and extended per row and kind: 3.8 → 2.1-2.9 µs a row (issue 31).
    for org_id, item, (_, key, name, description, city), slug in zip(itertools.count(first_id), items, texts, given):
        values, related = item[0], item[1]
        rows.append((org_id, slug, stamp, stamp, key, *map(values.get, columns)))
        searched.append((org_id, name, description, city))
        for rank, theme in enumerate(related["themes"]):
            themes.append((org_id, theme, rank))
        for code, detail in related["needs"].items():
            resources.append((org_id, "need", code, detail or ""))
        for code, detail in related["offers"].items():
            resources.append((org_id, "offer", code, detail or ""))
        if related["descriptions"]:
            descriptions.extend([(org_id, lang, text) for lang, text in related["descriptions"].items()])
        out.append((org_id, slug))
    cookie_before = db.execute("PRAGMA schema_version").fetchone()[0]
    triggers = dict(db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "  # nosec B608 # names and ? placeholders come from code; values are bound
        f"({', '.join('?' * len(_BULK_TRIGGERS))})", list(_BULK_TRIGGERS)).fetchall())
    for name in triggers:
        db.execute(f"DROP TRIGGER {name}")
    # The sort key given here, not by its trigger's second write of every row (migration 32).
    names = ["id", "slug", "created_at", "updated_at", "sort_key", *columns]
    db.conn.executemany(
        f"INSERT INTO organisations ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)  # nosec B608 # names and ? placeholders come from code; values are bound
    db.conn.executemany("INSERT INTO organisation_themes (organisation_id, theme, rank) VALUES (?, ?, ?)", themes)
    db.conn.executemany("INSERT INTO organisation_resources VALUES (?, ?, ?, ?)", resources)
    db.conn.executemany("INSERT INTO organisation_descriptions VALUES (?, ?, ?)", descriptions)
    db.conn.executemany("INSERT INTO organisations_fts (rowid, name, description, city) VALUES (?, ?, ?, ?)",
                        searched)
    if spatial:
        db.execute("INSERT INTO organisations_rtree SELECT id, lat, lat, lon, lon FROM organisations"
                   " WHERE id >= ? AND lat IS NOT NULL", [first_id])
    db.execute("UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1")
    _note_inserted(db, first_id, picker.organisations_added)
    for sql in triggers.values():
        db.execute(sql)
    if triggers:
        _note_swap(db, cookie_before)
    return out


# A load of at least this many new organisations, and of at least as many as are stored, builds
# the organisations' own indexes once at its end (``set_indexes_aside``).
LARGE_LOAD_ROWS = 50_000


def is_large_load(db: sqlite_utils.Database, new_rows: int) -> bool:
    """Whether adding ``new_rows`` organisations is a large load: at least LARGE_LOAD_ROWS, and
    at least as many as are stored (rebuilding an index would sort more stored keys than the
    load inserts; holding every stored slug would hold more than the load gives)."""
    return new_rows >= LARGE_LOAD_ROWS and new_rows >= db.execute("SELECT count(*) FROM organisations").fetchone()[0]


def set_indexes_aside(db: sqlite_utils.Database, new_rows: int) -> list[str]:
    """When ``new_rows`` is a large load (see LARGE_LOAD_ROWS), drop the organisations' own
    indexes inside the caller's transaction and return what makes them again, for
    ``rebuild_indexes`` before that transaction commits; else drop nothing and return [].

    Issue 31: a million new rows put their keys (slugs aside, kept for their constraint) into
    five indexes one by one, in the random order of names, statuses and sources: 34 of an
    import's 104 s; sorting them once at the end takes 6 s. Other connections never see the
    indexes missing (the transaction commits with them rebuilt; a failure rolls back to them)."""
    if not is_large_load(db, new_rows):
        return []
    cookie_before = db.execute("PRAGMA schema_version").fetchone()[0]
    found = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'organisations'"
                       " AND sql IS NOT NULL ORDER BY name").fetchall()
    for name, _ in found:
        db.execute(f'DROP INDEX "{name}"')  # nosec B608 # a name read from sqlite_master
    _note_swap(db, cookie_before)
    return [sql for _, sql in found]


def rebuild_indexes(db: sqlite_utils.Database, made_by: list[str]) -> None:
    """Make again the indexes ``set_indexes_aside`` dropped (inside the same transaction)."""
    if not made_by:
        return
    cookie_before = db.execute("PRAGMA schema_version").fetchone()[0]
    for sql in made_by:
        db.execute(sql)
    _note_swap(db, cookie_before)


def _note_swap(db: sqlite_utils.Database, cookie_before: int) -> None:
    """Record that the schema cookie moved only by this import's own trigger swap, or by the
    indexes it set aside and rebuilt (see ``base.TRIGGERS_SWAPPED``), so that the catalogue
    keeps its lineage."""
    swapped = db.execute("SELECT value FROM catalogue_meta WHERE key = ?", [TRIGGERS_SWAPPED]).fetchone()
    base = lineage_cookie(cookie_before, swapped[0] if swapped else None)
    after = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("INSERT INTO catalogue_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               [TRIGGERS_SWAPPED, f"{base}:{after}"])


# Up to this many new organisations of one import are noted one by one (the map patches them
# in like an edit: mapdata.MAX_CHANGES); past it, as organisation 0 (the map reads them all again).
NOTED_ONE_BY_ONE = 5_000


def _note_inserted(db: sqlite_utils.Database, first_id: int, added: int) -> None:
    """Note the organisations ``bulk_insert`` just added (ids from ``first_id``) for the map
    snapshot, in place of the per-row triggers it dropped: one by one while the import has
    added at most ``NOTED_ONE_BY_ONE`` (``added``: with its earlier chunks; a one-row import
    at a million is patched in, not a reason to read a million rows), else as organisation 0.

    One by one at the version before this chunk's: columns read before it see them, and
    columns read after it (at a later version) do not count them among their changes (a
    large import's first chunk would otherwise make every later patch a full read)."""
    version = db.execute("SELECT version FROM catalogue_version WHERE id = 1").fetchone()[0]
    if added <= NOTED_ONE_BY_ONE:
        db.execute("INSERT INTO organisation_changes SELECT id, ? FROM organisations WHERE id >= ?"
                   " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version", [version - 1, first_id])
    else:
        db.execute("INSERT INTO organisation_changes VALUES (0, ?)"
                   " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version", [version])


_WRITABLE = frozenset((*FIELDS, "slug", "created_at", "updated_at", "sort_key"))


def _check_columns(values: dict) -> None:
    """Column names are put into SQL text: only the organisation's own columns may be."""
    unknown = set(values) - _WRITABLE
    if unknown:
        raise ValueError(f"not organisation fields: {', '.join(sorted(map(str, unknown)))}")


def update_organisation(db: sqlite_utils.Database, stored: Stored, values: dict, related: dict) -> str:
    """Write what differs from ``stored``; return "updated" or "unchanged"."""
    changed = {k: v for k, v in values.items() if stored.values.get(k) != v}
    related_changed = stored.related != related
    if not changed and not related_changed:
        return "unchanged"
    changed["updated_at"] = now()
    _check_columns(changed)
    db.execute(
        f"UPDATE organisations SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",  # nosec B608 # names and ? placeholders come from code; values are bound
        [*changed.values(), stored.id],
    )
    if related_changed:
        _write_related(db, stored.id, related)
    return "updated"


def _write_related(db: sqlite_utils.Database, org_id: int, related: dict, *, replace: bool = True) -> None:
    # Called inside db.atomic(): executemany joins the open transaction.
    if replace:
        db.execute("DELETE FROM organisation_themes WHERE organisation_id = ?", [org_id])
        db.execute("DELETE FROM organisation_resources WHERE organisation_id = ?", [org_id])
        db.execute("DELETE FROM organisation_descriptions WHERE organisation_id = ?", [org_id])
    # The first category listed is the organisation's main one (its marker's colour and icon).
    if related["themes"]:  # no statement without any (the migration tests write to older schemas)
        db.conn.executemany("INSERT INTO organisation_themes (organisation_id, theme, rank) VALUES (?, ?, ?)",
                            [(org_id, theme, rank) for rank, theme in enumerate(related["themes"])])
    db.conn.executemany(
        "INSERT INTO organisation_resources VALUES (?, ?, ?, ?)",
        [(org_id, kind, resource, detail or "")
         for kind in ("need", "offer") for resource, detail in related[f"{kind}s"].items()])
    db.conn.executemany("INSERT INTO organisation_descriptions VALUES (?, ?, ?)",
                        [(org_id, lang, text) for lang, text in related["descriptions"].items()])


def all_slugs(db: sqlite_utils.Database) -> set[str]:
    """Every organisation slug in use."""
    return {row[0] for row in db.execute("SELECT slug FROM organisations")}


def set_location(
    db: sqlite_utils.Database, org_id: int, lat: float | None, lon: float | None,
    precision: str | None, source: str | None,
) -> None:
    """Store (or clear, with ``None``) an organisation's point."""
    db.execute(
        "UPDATE organisations SET lat = ?, lon = ?, geo_precision = ?, geo_source = ?,"
        " updated_at = ? WHERE id = ?",
        [lat, lon, precision, source, now(), org_id],
    )


def delete_organisation(db: sqlite_utils.Database, org_id: int) -> None:
    """Delete an organisation and everything attached to it."""
    db.execute("DELETE FROM organisations WHERE id = ?", [org_id])


# -- projects and visits ---------------------------------------------------


def save_project(db: sqlite_utils.Database, project: dict) -> int:
    """Insert or update a project by slug; return its id."""
    row = {k: project.get(k) for k in (
        "slug", "name", "description", "website", "start_date", "end_date", "source")}
    row = {k: ("" if v is None and k in ("description", "website", "source") else v)
           for k, v in row.items()}
    row["names"] = json.dumps(project.get("names") or {}, ensure_ascii=False)
    with write_transaction(db):
        db.execute(
            "INSERT INTO projects (slug, name, description, website, start_date, end_date, source, names)"
            " VALUES (:slug, :name, :description, :website, :start_date, :end_date, :source, :names)"
            " ON CONFLICT (slug) DO UPDATE SET name = excluded.name, names = excluded.names,"
            " description = excluded.description, website = excluded.website,"
            " start_date = excluded.start_date, end_date = excluded.end_date",
            row,
        )
        return db.execute("SELECT id FROM projects WHERE slug = ?", [row["slug"]]).fetchone()[0]


def save_visit(db: sqlite_utils.Database, visit: dict) -> int:
    """Insert or update a visit by slug (``project`` is the project's slug); return its id."""
    with write_transaction(db):
        project = db.execute("SELECT id FROM projects WHERE slug = ?", [visit["project"]]).fetchone()
        if project is None:
            raise CatalogueError(f"visit {visit['slug']!r}: no project {visit['project']!r}")
        db.execute(
            "INSERT INTO visits (slug, project_id, title, city, country, date, titles)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO UPDATE SET"
            " project_id = excluded.project_id, title = excluded.title, city = excluded.city,"
            " country = excluded.country, date = excluded.date, titles = excluded.titles",
            [visit["slug"], project[0], visit["title"], visit.get("city", ""),
             visit.get("country"), visit.get("date"), json.dumps(visit.get("titles") or {}, ensure_ascii=False)],
        )
        return db.execute("SELECT id FROM visits WHERE slug = ?", [visit["slug"]]).fetchone()[0]


def link_organisation(
    db: sqlite_utils.Database, org_id: int, *, projects: list[str] = (), visits: list[str] = (),
) -> None:
    """Add an organisation to projects and visits, given by slug (existing links are kept)."""
    with write_transaction(db):
        for slug in projects:
            db.execute(
                "INSERT OR IGNORE INTO project_organisations (project_id, organisation_id) SELECT id, ? FROM projects WHERE slug = ?",
                [org_id, slug],
            )
        for slug in visits:
            db.execute(
                "INSERT OR IGNORE INTO visit_organisations (visit_id, organisation_id) SELECT id, ? FROM visits WHERE slug = ?",
                [org_id, slug],
            )


def add_to_project(db: sqlite_utils.Database, project_id: int, org_id: int) -> None:
    """Make an organisation a member of a project (no-op if it already is)."""
    db.execute("INSERT OR IGNORE INTO project_organisations (project_id, organisation_id) VALUES (?, ?)",
               [project_id, org_id])
