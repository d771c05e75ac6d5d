"""The SQLite catalogue: the connection and every query, as named functions.

Nothing outside this module writes SQL. Writes that touch several tables run
inside ``db.atomic()`` so that a failure leaves the catalogue as it was.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from . import geo
from .filters import Filters
from .migrations import migrate

FIELDS = (
    "name", "description", "relation", "structure", "legal_form",
    "street", "postcode", "city", "region", "country",
    "lat", "lon", "geo_precision", "geo_source",
    "website", "email", "phone", "status", "source", "source_ref",
)
PUBLIC_FIELDS = (
    "slug", "name", "description", "relation", "structure", "legal_form",
    "street", "postcode", "city", "region", "country", "lat", "lon", "geo_precision",
    "website", "email", "phone",
)
FICTIONAL_SOURCE = "demo"


class CatalogueError(Exception):
    """The catalogue file cannot be opened or used."""


@dataclass(frozen=True)
class Saved:
    """Outcome of saving one organisation: its id, slug and what happened."""

    id: int
    slug: str
    action: str  # "created", "updated" or "unchanged"


@contextmanager
def write_transaction(db: sqlite_utils.Database):
    """A transaction that takes the write lock at once (``BEGIN IMMEDIATE``), for
    multi-step writes that read before they write; rolled back on any exception."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the catalogue at ``path`` and bring its schema up to date."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        # 64 MiB of page cache keeps a large import's index pages in memory;
        # NORMAL is the durable-enough setting for WAL (no fsync at every commit).
        db.execute("PRAGMA cache_size = -65536")
        db.execute("PRAGMA synchronous = NORMAL")
    except (OSError, sqlite3.Error) as e:
        raise CatalogueError(
            f"cannot open the catalogue at {path}: {e}; check MAPAPP_DATABASE and the "
            "folder's permissions"
        ) from e
    migrate(db)
    return db


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# Letters that Unicode decomposition does not reduce to ASCII, and Greek
# (simplified ELOT 743), so that Łódź and Λευκωσία get readable slugs.
_TRANSLITERATION = str.maketrans({
    "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE",
    "œ": "oe", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i",
    **dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", [
        "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r",
        "s", "s", "t", "y", "f", "ch", "ps", "o"])),
})


_COMBINING = re.compile("[\u0300-\u036f]")


def slugify(text: str) -> str:
    """A URL slug: ASCII letters and digits joined by hyphens (``Poznań`` → ``poznan``)."""
    if text.isascii():
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].rstrip("-") or "organisation"
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower())).replace("ου", "ou")
    text = text.translate(_TRANSLITERATION)
    ascii_text = text.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:80].rstrip("-") or "organisation"


def _unique_slug(db: sqlite_utils.Database, table: str, base: str) -> str:
    slug, n = base, 1
    while db.execute(f"SELECT 1 FROM {table} WHERE slug = ?", [slug]).fetchone():
        n += 1
        slug = f"{base}-{n}"
    return slug


# -- organisations: writes -------------------------------------------------


@dataclass
class Stored:
    """An organisation as stored, for comparing with an incoming record."""

    id: int
    slug: str
    values: dict
    related: dict


def related_of(themes=(), needs=None, offers=None, descriptions=None) -> dict:
    """Themes, needs, offers and translations in the one order used for comparing."""
    return {
        "themes": sorted(set(themes)),
        "needs": dict(sorted((needs or {}).items())),
        "offers": dict(sorted((offers or {}).items())),
        "descriptions": dict(sorted((descriptions or {}).items())),
    }


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
    with db.atomic():
        stored = None
        if values.get("source_ref") is not None:
            stored = snapshot_source(db, values["source"], refs=[values["source_ref"]]).get(
                values["source_ref"])
        if stored is None:
            org_id, slug = insert_organisation(db, values, related, slug_hint=record.get("slug"))
            return Saved(org_id, slug, "created")
        action = update_organisation(db, stored, values, related)
        return Saved(stored.id, stored.slug, action)


def snapshot_source(
    db: sqlite_utils.Database, source: str, *, refs: list[str] | None = None,
) -> dict[str, Stored]:
    """Every organisation of ``source`` that has a reference (or only ``refs``), by reference."""
    where, params = "source = ? AND source_ref IS NOT NULL", [source]
    if refs is not None:
        where += f" AND source_ref IN ({', '.join('?' * len(refs))})"
        params += list(refs)
    cursor = db.execute(f"SELECT * FROM organisations WHERE {where}", params)
    columns = [d[0] for d in cursor.description]
    by_id: dict[int, Stored] = {}
    for row in cursor:
        data = dict(zip(columns, row))
        by_id[data["id"]] = Stored(data["id"], data["slug"], {k: data[k] for k in FIELDS},
                                   related_of())
    if not by_id:
        return {}
    subset = f"SELECT id FROM organisations WHERE {where}"
    for org_id, theme in db.execute(
            f"SELECT organisation_id, theme FROM organisation_themes WHERE organisation_id IN ({subset})"
            " ORDER BY theme", params):
        by_id[org_id].related["themes"].append(theme)
    for org_id, kind, resource, detail in db.execute(
            "SELECT organisation_id, kind, resource, detail FROM organisation_resources"
            f" WHERE organisation_id IN ({subset}) ORDER BY resource", params):
        by_id[org_id].related[f"{kind}s"][resource] = detail
    for org_id, lang, text in db.execute(
            "SELECT organisation_id, lang, description FROM organisation_descriptions"
            f" WHERE organisation_id IN ({subset}) ORDER BY lang", params):
        by_id[org_id].related["descriptions"][lang] = text
    return {s.values["source_ref"]: s for s in by_id.values()}


def insert_organisation(
    db: sqlite_utils.Database, values: dict, related: dict, *, slug_hint: str | None = None,
    taken_slugs: set[str] | None = None,
) -> tuple[int, str]:
    """Insert a new organisation; return its id and (unique) slug.

    ``taken_slugs``, when given, is the set of slugs in use; it saves one query per
    row in bulk imports and is kept up to date.
    """
    now = _now()
    base = slugify(slug_hint or values["name"])
    if taken_slugs is None:
        slug = _unique_slug(db, "organisations", base)
    else:
        slug, n = base, 1
        while slug in taken_slugs:
            n += 1
            slug = f"{base}-{n}"
        taken_slugs.add(slug)
    row = {**values, "slug": slug, "created_at": now, "updated_at": now}
    cursor = db.execute(
        f"INSERT INTO organisations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    _write_related(db, cursor.lastrowid, related, replace=False)
    return cursor.lastrowid, slug


# Per-row triggers that bulk_insert replaces by set-based statements.
_BULK_TRIGGERS = ("organisations_fts_insert", "organisations_rtree_insert",
                  "organisations_version_insert", "organisation_themes_version_insert",
                  "organisation_resources_version_insert", "organisation_descriptions_version_insert")


def bulk_insert(db: sqlite_utils.Database, items: list[tuple[dict, dict]],
                taken_slugs: set[str]) -> list[tuple[int, str]]:
    """Insert many new organisations ``(values, related)`` at once; return (id, slug) each.

    Call inside ``write_transaction``. The full-text and spatial indexes are filled for
    the new rows by two statements instead of one trigger call per row; the
    triggers are dropped and re-created inside the same transaction, so a failure
    rolls them back with everything else.
    """
    if not items:
        return []
    now = _now()
    first_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM organisations").fetchone()[0]
    columns = list(dict.fromkeys(k for values, _ in items for k in values))
    rows, related_rows, out = [], {"themes": [], "resources": [], "descriptions": []}, []
    for offset, (values, related) in enumerate(items):
        org_id = first_id + offset
        base = slugify(values["name"])
        slug, n = base, 1
        while slug in taken_slugs:
            n += 1
            slug = f"{base}-{n}"
        taken_slugs.add(slug)
        rows.append([org_id, slug, now, now, *(values.get(k) for k in columns)])
        related_rows["themes"] += [(org_id, t) for t in related["themes"]]
        related_rows["resources"] += [(org_id, kind, code, detail or "") for kind in ("need", "offer")
                                      for code, detail in related[f"{kind}s"].items()]
        related_rows["descriptions"] += [(org_id, lang, text) for lang, text in related["descriptions"].items()]
        out.append((org_id, slug))
    triggers = dict(db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
        f"({', '.join('?' * len(_BULK_TRIGGERS))})", list(_BULK_TRIGGERS)).fetchall())
    for name in triggers:
        db.execute(f"DROP TRIGGER {name}")
    names = ["id", "slug", "created_at", "updated_at", *columns]
    db.conn.executemany(
        f"INSERT INTO organisations ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)
    db.conn.executemany("INSERT INTO organisation_themes VALUES (?, ?)", related_rows["themes"])
    db.conn.executemany("INSERT INTO organisation_resources VALUES (?, ?, ?, ?)", related_rows["resources"])
    db.conn.executemany("INSERT INTO organisation_descriptions VALUES (?, ?, ?)", related_rows["descriptions"])
    db.execute("INSERT INTO organisations_fts (rowid, name, description, city)"
               " SELECT id, name, description, city FROM organisations WHERE id >= ?", [first_id])
    db.execute("INSERT INTO organisations_rtree SELECT id, lat, lat, lon, lon FROM organisations"
               " WHERE id >= ? AND lat IS NOT NULL", [first_id])
    db.execute("UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1")
    for sql in triggers.values():
        db.execute(sql)
    return out


def update_organisation(db: sqlite_utils.Database, stored: Stored, values: dict, related: dict) -> str:
    """Write what differs from ``stored``; return "updated" or "unchanged"."""
    changed = {k: v for k, v in values.items() if stored.values.get(k) != v}
    related_changed = stored.related != related
    if not changed and not related_changed:
        return "unchanged"
    changed["updated_at"] = _now()
    db.execute(
        f"UPDATE organisations SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
        [*changed.values(), stored.id],
    )
    if related_changed:
        _write_related(db, stored.id, related)
    return "updated"


def _read_related(db: sqlite_utils.Database, org_id: int) -> dict:
    related = related_of()
    related["themes"] = [r[0] for r in db.execute(
        "SELECT theme FROM organisation_themes WHERE organisation_id = ? ORDER BY theme", [org_id])]
    for kind, resource, detail in db.execute(
        "SELECT kind, resource, detail FROM organisation_resources WHERE organisation_id = ?"
        " ORDER BY resource", [org_id],
    ):
        related[f"{kind}s"][resource] = detail
    related["descriptions"] = dict(db.execute(
        "SELECT lang, description FROM organisation_descriptions WHERE organisation_id = ?"
        " ORDER BY lang", [org_id]).fetchall())
    return related


def _write_related(db: sqlite_utils.Database, org_id: int, related: dict, *, replace: bool = True) -> None:
    # Called inside db.atomic(): executemany joins the open transaction.
    if replace:
        db.execute("DELETE FROM organisation_themes WHERE organisation_id = ?", [org_id])
        db.execute("DELETE FROM organisation_resources WHERE organisation_id = ?", [org_id])
        db.execute("DELETE FROM organisation_descriptions WHERE organisation_id = ?", [org_id])
    db.conn.executemany("INSERT INTO organisation_themes VALUES (?, ?)",
                        [(org_id, theme) for theme in related["themes"]])
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
        [lat, lon, precision, source, _now(), org_id],
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
    with db.atomic():
        db.execute(
            "INSERT INTO projects (slug, name, description, website, start_date, end_date, source)"
            " VALUES (:slug, :name, :description, :website, :start_date, :end_date, :source)"
            " ON CONFLICT (slug) DO UPDATE SET name = excluded.name,"
            " description = excluded.description, website = excluded.website,"
            " start_date = excluded.start_date, end_date = excluded.end_date",
            row,
        )
        return db.execute("SELECT id FROM projects WHERE slug = ?", [row["slug"]]).fetchone()[0]


def save_visit(db: sqlite_utils.Database, visit: dict) -> int:
    """Insert or update a visit by slug (``project`` is the project's slug); return its id."""
    with db.atomic():
        project = db.execute("SELECT id FROM projects WHERE slug = ?", [visit["project"]]).fetchone()
        if project is None:
            raise CatalogueError(f"visit {visit['slug']!r}: no project {visit['project']!r}")
        db.execute(
            "INSERT INTO visits (slug, project_id, title, city, country, date)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO UPDATE SET"
            " project_id = excluded.project_id, title = excluded.title, city = excluded.city,"
            " country = excluded.country, date = excluded.date",
            [visit["slug"], project[0], visit["title"], visit.get("city", ""),
             visit.get("country"), visit.get("date")],
        )
        return db.execute("SELECT id FROM visits WHERE slug = ?", [visit["slug"]]).fetchone()[0]


def link_organisation(
    db: sqlite_utils.Database, org_id: int, *, projects: list[str] = (), visits: list[str] = (),
) -> None:
    """Add an organisation to projects and visits, given by slug (existing links are kept)."""
    with db.atomic():
        for slug in projects:
            db.execute(
                "INSERT OR IGNORE INTO project_organisations SELECT id, ? FROM projects WHERE slug = ?",
                [org_id, slug],
            )
        for slug in visits:
            db.execute(
                "INSERT OR IGNORE INTO visit_organisations SELECT id, ? FROM visits WHERE slug = ?",
                [org_id, slug],
            )


# -- organisations: reads --------------------------------------------------


def _where(filters: Filters, statuses: tuple[str, ...] = ("published",)) -> tuple[str, list]:
    """The WHERE clause (organisations in ``statuses`` matching ``filters``) and its parameters."""
    clauses = [f"o.status IN ({', '.join('?' * len(statuses))})"]
    params: list = list(statuses)

    def among(column: str, values: tuple[str, ...]) -> None:
        clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    if filters.country:
        among("o.country", filters.country)
    if filters.relation:
        among("o.relation", filters.relation)
    if filters.theme:
        clauses.append(
            "o.id IN (SELECT organisation_id FROM organisation_themes WHERE theme IN "
            f"({', '.join('?' * len(filters.theme))}))")
        params.extend(filters.theme)
    for kind in ("need", "offer"):
        codes = getattr(filters, kind)
        if codes:
            clauses.append(
                "o.id IN (SELECT organisation_id FROM organisation_resources WHERE kind = ?"
                f" AND resource IN ({', '.join('?' * len(codes))}))")
            params.extend([kind, *codes])
    if filters.project:
        clauses.append(
            "o.id IN (SELECT po.organisation_id FROM project_organisations po"
            " JOIN projects p ON p.id = po.project_id"
            f" WHERE p.slug IN ({', '.join('?' * len(filters.project))}))")
        params.extend(filters.project)
    if filters.visit:
        clauses.append(
            "o.id IN (SELECT vo.organisation_id FROM visit_organisations vo"
            " JOIN visits v ON v.id = vo.visit_id"
            f" WHERE v.slug IN ({', '.join('?' * len(filters.visit))}))")
        params.extend(filters.visit)
    if filters.q:
        match = fts_query(filters.q)
        if match:
            clauses.append(
                "o.id IN (SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?)")
            params.append(match)
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
                   source: str | None) -> tuple[str, list]:
    if unlocated_only:
        where += " AND o.lat IS NULL"
    if precision:
        where += " AND o.geo_precision = ?"
        params = [*params, precision]
    if source:
        where += " AND o.source = ?"
        params = [*params, source]
    return where, params


def sources(db: sqlite_utils.Database) -> list[str]:
    """The data sources organisations came from."""
    return [r[0] for r in db.execute("SELECT DISTINCT source FROM organisations ORDER BY source")]


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: every word must occur, as a word prefix."""
    words = re.findall(r"\w+", text)
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words[:20])


_LIST_COLUMNS = (
    "o.id, o.slug, o.name, o.description, o.relation, o.structure, o.legal_form, o.street,"
    " o.postcode, o.city, o.region, o.country, o.lat, o.lon, o.geo_precision, o.website,"
    " o.email, o.phone, o.source, o.status,"
    " (SELECT json_group_array(theme) FROM (SELECT theme FROM organisation_themes t"
    "   WHERE t.organisation_id = o.id ORDER BY theme)) AS themes"
)


def _rows(cursor) -> list[dict]:
    columns = [d[0] for d in cursor.description]
    out = []
    for values in cursor:
        row = dict(zip(columns, values))
        if "themes" in row:
            row["themes"] = json.loads(row["themes"])
        out.append(row)
    return out


def find_organisations(
    db: sqlite_utils.Database, filters: Filters, *, located_only: bool = False,
    limit: int | None = None, offset: int = 0, statuses: tuple[str, ...] = ("published",),
    unlocated_only: bool = False, precision: str | None = None, source: str | None = None,
) -> list[dict]:
    """Organisations (published unless ``statuses`` says otherwise) matching ``filters``,
    by name, with their theme codes; staff pages narrow by precision and source too."""
    where, params = _where(filters, statuses)
    if located_only:
        where += " AND o.lat IS NOT NULL"
    where, params = _staff_clauses(where, params, unlocated_only, precision, source)
    sql = f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE {where} ORDER BY o.name COLLATE NOCASE, o.id"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    return _rows(db.execute(sql, params))


def count_organisations(db: sqlite_utils.Database, filters: Filters,
                        statuses: tuple[str, ...] = ("published",), *, unlocated_only: bool = False,
                        precision: str | None = None, source: str | None = None) -> int:
    """How many organisations (published unless ``statuses`` says otherwise) match ``filters``."""
    where, params = _where(filters, statuses)
    where, params = _staff_clauses(where, params, unlocated_only, precision, source)
    return db.execute(f"SELECT count(*) FROM organisations o WHERE {where}", params).fetchone()[0]


def get_organisation(
    db: sqlite_utils.Database, slug: str, *, published_only: bool = True,
) -> dict | None:
    """One organisation by slug with themes, needs, offers, translations, projects and visits."""
    status = "AND o.status = 'published'" if published_only else ""
    rows = _rows(db.execute(
        f"SELECT {_LIST_COLUMNS}, o.geo_source, o.created_at, o.updated_at FROM organisations o"
        f" WHERE o.slug = ? {status}", [slug]))
    if not rows:
        return None
    org = rows[0]
    related = _read_related(db, org["id"])
    org.update(needs=related["needs"], offers=related["offers"],
               descriptions=related["descriptions"])
    org["projects"] = _rows(db.execute(
        "SELECT p.slug, p.name, p.website, p.start_date, p.end_date FROM projects p"
        " JOIN project_organisations po ON po.project_id = p.id WHERE po.organisation_id = ?"
        " ORDER BY p.name", [org["id"]]))
    org["visits"] = _rows(db.execute(
        "SELECT v.slug, v.title, v.city, v.country, v.date, p.slug AS project FROM visits v"
        " JOIN visit_organisations vo ON vo.visit_id = v.id JOIN projects p ON p.id = v.project_id"
        " WHERE vo.organisation_id = ? ORDER BY v.date, v.title", [org["id"]]))
    return org


def organisation_count(db: sqlite_utils.Database) -> int:
    """How many organisations the catalogue holds, in any status."""
    return db.execute("SELECT count(*) FROM organisations").fetchone()[0]


def has_fictional(db: sqlite_utils.Database) -> bool:
    """True when published organisations come from the fictional demo dataset."""
    return db.execute(
        "SELECT 1 FROM organisations WHERE source = ? AND status = 'published' LIMIT 1",
        [FICTIONAL_SOURCE]).fetchone() is not None


def stats(db: sqlite_utils.Database) -> dict:
    """Counts for ``mapapp stats`` and the health check."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    by_status = dict(db.execute("SELECT status, count(*) FROM organisations GROUP BY status").fetchall())
    return {
        "organisations": one("SELECT count(*) FROM organisations"),
        "by_status": {s: by_status.get(s, 0) for s in ("published", "draft", "archived")},
        "located": one("SELECT count(*) FROM organisations WHERE lat IS NOT NULL"),
        "not_located": one("SELECT count(*) FROM organisations WHERE lat IS NULL"),
        "by_country": dict(db.execute(
            "SELECT coalesce(country, '?'), count(*) FROM organisations GROUP BY 1"
            " ORDER BY 2 DESC, 1").fetchall()),
        "projects": one("SELECT count(*) FROM projects"),
        "visits": one("SELECT count(*) FROM visits"),
    }


# -- geocoding -------------------------------------------------------------------


def cached_geocode(db: sqlite_utils.Database, provider: str, query: str) -> tuple | None:
    """``(lat, lon, precision)`` stored for this provider and query (all None when the
    provider found nothing), or None when it was never asked."""
    row = db.execute("SELECT lat, lon, precision FROM geocode_cache WHERE provider = ? AND query = ?",
                     [provider, query]).fetchone()
    return tuple(row) if row else None


def best_cached_geocode(db: sqlite_utils.Database, query: str, providers: list[str]) -> tuple | None:
    """The most precise cached answer for ``query`` among ``providers``:
    ``(lat, lon, precision, provider)``, or None."""
    if not providers:
        return None
    rank = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(
        ("address", "street", "postcode", "locality", "region", "country")))
    return db.execute(
        "SELECT lat, lon, precision, provider FROM geocode_cache WHERE query = ? AND lat IS NOT NULL"
        f" AND provider IN ({', '.join('?' * len(providers))})"
        f" ORDER BY CASE precision {rank} ELSE 9 END LIMIT 1",
        [query, *providers]).fetchone()


def has_cached_geocodes(db: sqlite_utils.Database) -> bool:
    """True when any online geocoder's answer has been cached."""
    return db.execute("SELECT 1 FROM geocode_cache LIMIT 1").fetchone() is not None


def store_geocode(db: sqlite_utils.Database, provider: str, query: str, lat: float | None,
                  lon: float | None, precision: str | None) -> None:
    """Remember a provider's answer (or that it found nothing)."""
    db.execute(
        "INSERT INTO geocode_cache (provider, query, lat, lon, precision, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, query) DO UPDATE SET"
        " lat = excluded.lat, lon = excluded.lon, precision = excluded.precision,"
        " created_at = excluded.created_at",
        [provider, query, lat, lon, precision, _now()])


def organisations_to_locate(db: sqlite_utils.Database, *, pending_only: bool) -> list[dict]:
    """Organisations for ``mapapp geocode``: every one, or only those with no point.
    Manually placed ones are never included."""
    where = "(geo_precision IS NULL OR geo_precision != 'manual')"
    if pending_only:
        where += " AND lat IS NULL"
    return _rows(db.execute(
        "SELECT id, slug, name, street, postcode, city, region, country, lat, lon, geo_precision,"
        f" status FROM organisations WHERE {where} ORDER BY id"))


def duplicate_candidates(db: sqlite_utils.Database) -> list[dict]:
    """Name, place and website of every organisation, to spot likely duplicates."""
    return _rows(db.execute(
        "SELECT id, slug, name, city, country, lat, lon, website, source, source_ref FROM organisations"))


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


def add_to_project(db: sqlite_utils.Database, project_id: int, org_id: int) -> None:
    """Make an organisation a member of a project (no-op if it already is)."""
    db.execute("INSERT OR IGNORE INTO project_organisations VALUES (?, ?)", [project_id, org_id])


def version(db: sqlite_utils.Database) -> int:
    """A number that changes whenever anything the public sees may have changed."""
    return db.execute("SELECT version FROM catalogue_version WHERE id = 1").fetchone()[0]


def last_change(db: sqlite_utils.Database) -> tuple[int, str]:
    """``(version, changed_at)``: the catalogue's version and when it last changed (UTC ISO)."""
    return tuple(db.execute("SELECT version, changed_at FROM catalogue_version WHERE id = 1").fetchone())


# -- the map index's snapshot --------------------------------------------------------


def map_rows(db: sqlite_utils.Database) -> list[tuple]:
    """``(id, lat, lon, country, relation)`` of every published organisation, by id."""
    return db.execute(
        "SELECT id, lat, lon, coalesce(country, ''), relation FROM organisations"
        " WHERE status = 'published' ORDER BY id").fetchall()


def map_memberships(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    """``(kind, value, organisation id)`` for themes, needs, offers, projects and visits
    of published organisations."""
    published = "SELECT id FROM organisations WHERE status = 'published'"
    return db.execute(
        f"SELECT 'theme', theme, organisation_id FROM organisation_themes WHERE organisation_id IN ({published})"
        " UNION ALL SELECT kind, resource, organisation_id FROM organisation_resources"
        f" WHERE organisation_id IN ({published})"
        " UNION ALL SELECT 'project', p.slug, po.organisation_id FROM project_organisations po"
        f" JOIN projects p ON p.id = po.project_id WHERE po.organisation_id IN ({published})"
        " UNION ALL SELECT 'visit', v.slug, vo.organisation_id FROM visit_organisations vo"
        f" JOIN visits v ON v.id = vo.visit_id WHERE vo.organisation_id IN ({published})").fetchall()


def search_ids(db: sqlite_utils.Database, text: str) -> list[int]:
    """Ids of the organisations whose name, description or city match ``text``."""
    match = fts_query(text)
    if not match:
        return []
    return [r[0] for r in db.execute(
        "SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?", [match])]


def map_points(db: sqlite_utils.Database, ids: list[int]) -> list[tuple]:
    """``(id, slug, name, lat, lon)`` of the given organisations."""
    out: list[tuple] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += db.execute(
            f"SELECT id, slug, name, lat, lon FROM organisations WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk).fetchall()
    return out


def project_and_visit_names(db: sqlite_utils.Database) -> dict[str, list[tuple[str, str]]]:
    """``{"project": [(slug, name)], "visit": [(slug, title)]}`` for the filter lists."""
    return {
        "project": db.execute("SELECT slug, name FROM projects ORDER BY name").fetchall(),
        "visit": db.execute("SELECT slug, title || coalesce(' (' || date || ')', '') FROM visits"
                            " ORDER BY date, title").fetchall(),
    }


def matches(db: sqlite_utils.Database, org_id: int, *, limit: int = 8) -> dict[str, list[dict]]:
    """Published organisations that offer what ``org_id`` needs ("offering") and that need
    what it offers ("needing"), with the shared resources, nearest first."""
    out = {}
    for name, mine, theirs in (("offering", "need", "offer"), ("needing", "offer", "need")):
        rows = db.execute(
            "SELECT o.id, o.slug, o.name, o.city, o.country, o.lat, o.lon, group_concat(r.resource, ',')"
            " FROM organisation_resources m"
            " JOIN organisation_resources r ON r.resource = m.resource AND r.kind = ?"
            " JOIN organisations o ON o.id = r.organisation_id"
            " WHERE m.organisation_id = ? AND m.kind = ? AND o.id != ? AND o.status = 'published'"
            " GROUP BY o.id", [theirs, org_id, mine, org_id]).fetchall()
        out[name] = [{"id": r[0], "slug": r[1], "name": r[2], "city": r[3], "country": r[4],
                      "lat": r[5], "lon": r[6], "shared": sorted(r[7].split(","))} for r in rows]
    here = db.execute("SELECT lat, lon FROM organisations WHERE id = ?", [org_id]).fetchone()
    for name, found in out.items():
        for m in found:
            m["km"] = (geo.distance_km(here, (m["lat"], m["lon"]))
                       if here and here[0] is not None and m["lat"] is not None else None)
        found.sort(key=lambda m: (m["km"] is None, m["km"] or 0, -len(m["shared"]), m["name"]))
        out[name] = found[:limit]
    return out


def export_organisations(db: sqlite_utils.Database, filters: Filters) -> list[dict]:
    """Published organisations matching ``filters`` with everything an export needs:
    needs and offers as ``code: detail`` lists and project slugs."""
    orgs = find_organisations(db, filters)
    if not orgs:
        return orgs
    by_id = {o["id"]: o for o in orgs}
    for o in orgs:
        o.update(needs={}, offers={}, projects=[])
    for start in range(0, len(orgs), 500):
        ids = [o["id"] for o in orgs[start:start + 500]]
        marks = ", ".join("?" * len(ids))
        for org_id, kind, code, detail in db.execute(
                "SELECT organisation_id, kind, resource, detail FROM organisation_resources"
                f" WHERE organisation_id IN ({marks}) ORDER BY resource", ids):
            by_id[org_id][f"{kind}s"][code] = detail
        for org_id, slug in db.execute(
                "SELECT po.organisation_id, p.slug FROM project_organisations po JOIN projects p"
                f" ON p.id = po.project_id WHERE po.organisation_id IN ({marks}) ORDER BY p.slug", ids):
            by_id[org_id]["projects"].append(slug)
    return orgs


def set_status(db: sqlite_utils.Database, org_ids: list[int], status: str) -> list[tuple[int, str]]:
    """Give organisations a status; return ``(id, previous status)`` of those it changed."""
    changed = []
    for org_id in org_ids:
        row = db.execute("SELECT status FROM organisations WHERE id = ?", [org_id]).fetchone()
        if row and row[0] != status:
            db.execute("UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?",
                       [status, _now(), org_id])
            changed.append((org_id, row[0]))
    return changed


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Organisations per status, and how many have no location."""
    counts = dict(db.execute("SELECT status, count(*) FROM organisations GROUP BY status").fetchall())
    counts["not_located"] = db.execute("SELECT count(*) FROM organisations WHERE lat IS NULL").fetchone()[0]
    return counts


# -- staff edits -------------------------------------------------------------------------


def organisation_snapshot(db: sqlite_utils.Database, org_id: int) -> dict | None:
    """Everything staff can edit about an organisation, to show, compare and restore."""
    row = db.execute(f"SELECT {', '.join(FIELDS)} FROM organisations WHERE id = ?", [org_id]).fetchone()
    if row is None:
        return None
    return {
        "values": dict(zip(FIELDS, row)),
        "related": _read_related(db, org_id),
        "projects": [r[0] for r in db.execute(
            "SELECT p.slug FROM project_organisations po JOIN projects p ON p.id = po.project_id"
            " WHERE po.organisation_id = ? ORDER BY p.slug", [org_id])],
        "visits": [r[0] for r in db.execute(
            "SELECT v.slug FROM visit_organisations vo JOIN visits v ON v.id = vo.visit_id"
            " WHERE vo.organisation_id = ? ORDER BY v.slug", [org_id])],
    }


def apply_snapshot(db: sqlite_utils.Database, org_id: int, snapshot: dict) -> bool:
    """Make an organisation match ``snapshot`` (call inside a transaction); True if it changed."""
    current = organisation_snapshot(db, org_id)
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
            db.execute(f"DELETE FROM {table} WHERE organisation_id = ?", [org_id])
            for slug_ in slugs:
                db.execute(f"INSERT OR IGNORE INTO {table} ({column}, organisation_id)"
                           f" SELECT id, ? FROM {parent} WHERE slug = ?", [org_id, slug_])
            changed = True
    return changed


def organisation_by_id(db: sqlite_utils.Database, org_id: int) -> dict | None:
    """``id``, ``slug``, ``name`` and ``status`` of an organisation."""
    row = db.execute("SELECT id, slug, name, status FROM organisations WHERE id = ?", [org_id]).fetchone()
    return dict(zip(("id", "slug", "name", "status"), row)) if row else None


def visit_slugs(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """``(slug, title)`` of every visit."""
    return db.execute("SELECT slug, title FROM visits ORDER BY date, title").fetchall()


def country_codes_in_use(db: sqlite_utils.Database) -> set[str]:
    """Countries of the organisations in the catalogue."""
    return {r[0] for r in db.execute("SELECT DISTINCT country FROM organisations WHERE country IS NOT NULL")}
