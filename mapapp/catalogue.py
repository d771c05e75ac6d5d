"""The SQLite catalogue: the connection and every query, as named functions.

Nothing outside this module writes SQL. Writes that touch several tables run
inside ``db.atomic()`` so that a failure leaves the catalogue as it was.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

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


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the catalogue at ``path`` and bring its schema up to date."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
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


def slugify(text: str) -> str:
    """A URL slug: ASCII letters and digits joined by hyphens (``Poznań`` → ``poznan``)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ου", "ou")
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
    related = {
        "themes": sorted(set(themes)),
        "needs": dict(sorted((needs or {}).items())),
        "offers": dict(sorted((offers or {}).items())),
        "descriptions": dict(sorted((descriptions or {}).items())),
    }
    with db.atomic():
        existing = None
        if values.get("source_ref") is not None:
            existing = db.execute(
                "SELECT * FROM organisations WHERE source = ? AND source_ref = ?",
                [values["source"], values["source_ref"]],
            ).fetchone()
        if existing is None:
            now = _now()
            slug = _unique_slug(db, "organisations", slugify(record.get("slug") or values["name"]))
            row = {**values, "slug": slug, "created_at": now, "updated_at": now}
            cursor = db.execute(
                f"INSERT INTO organisations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            org_id = cursor.lastrowid
            _write_related(db, org_id, related)
            return Saved(org_id, slug, "created")
        columns = [d[0] for d in db.execute("SELECT * FROM organisations LIMIT 0").description]
        stored = dict(zip(columns, existing))
        org_id = stored["id"]
        changed = {k: v for k, v in values.items() if stored.get(k) != v}
        related_changed = _read_related(db, org_id) != related
        if not changed and not related_changed:
            return Saved(org_id, stored["slug"], "unchanged")
        changed["updated_at"] = _now()
        db.execute(
            f"UPDATE organisations SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
            [*changed.values(), org_id],
        )
        if related_changed:
            _write_related(db, org_id, related)
        return Saved(org_id, stored["slug"], "updated")


def _read_related(db: sqlite_utils.Database, org_id: int) -> dict:
    themes = [r[0] for r in db.execute(
        "SELECT theme FROM organisation_themes WHERE organisation_id = ? ORDER BY theme", [org_id])]
    resources: dict[str, dict[str, str]] = {"need": {}, "offer": {}}
    for kind, resource, detail in db.execute(
        "SELECT kind, resource, detail FROM organisation_resources WHERE organisation_id = ?"
        " ORDER BY resource", [org_id],
    ):
        resources[kind][resource] = detail
    descriptions = dict(db.execute(
        "SELECT lang, description FROM organisation_descriptions WHERE organisation_id = ?"
        " ORDER BY lang", [org_id]).fetchall())
    return {"themes": themes, "needs": resources["need"], "offers": resources["offer"],
            "descriptions": descriptions}


def _write_related(db: sqlite_utils.Database, org_id: int, related: dict) -> None:
    db.execute("DELETE FROM organisation_themes WHERE organisation_id = ?", [org_id])
    db.execute("DELETE FROM organisation_resources WHERE organisation_id = ?", [org_id])
    db.execute("DELETE FROM organisation_descriptions WHERE organisation_id = ?", [org_id])
    for theme in related["themes"]:
        db.execute("INSERT INTO organisation_themes VALUES (?, ?)", [org_id, theme])
    for kind in ("need", "offer"):
        for resource, detail in related[f"{kind}s"].items():
            db.execute(
                "INSERT INTO organisation_resources VALUES (?, ?, ?, ?)",
                [org_id, kind, resource, detail or ""],
            )
    for lang, text in related["descriptions"].items():
        db.execute("INSERT INTO organisation_descriptions VALUES (?, ?, ?)", [org_id, lang, text])


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


def _where(filters: Filters) -> tuple[str, list]:
    """The WHERE clause (published organisations matching ``filters``) and its parameters."""
    clauses = ["o.status = 'published'"]
    params: list = []

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


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: every word must occur, as a word prefix."""
    words = re.findall(r"\w+", text)
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words[:20])


_LIST_COLUMNS = (
    "o.id, o.slug, o.name, o.description, o.relation, o.structure, o.legal_form, o.street,"
    " o.postcode, o.city, o.region, o.country, o.lat, o.lon, o.geo_precision, o.website,"
    " o.email, o.phone, o.source,"
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
    limit: int | None = None, offset: int = 0,
) -> list[dict]:
    """Published organisations matching ``filters``, by name, with their theme codes."""
    where, params = _where(filters)
    if located_only:
        where += " AND o.lat IS NOT NULL"
    sql = f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE {where} ORDER BY o.name COLLATE NOCASE, o.id"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    return _rows(db.execute(sql, params))


def count_organisations(db: sqlite_utils.Database, filters: Filters) -> int:
    """How many published organisations match ``filters``."""
    where, params = _where(filters)
    return db.execute(f"SELECT count(*) FROM organisations o WHERE {where}", params).fetchone()[0]


def get_organisation(
    db: sqlite_utils.Database, slug: str, *, published_only: bool = True,
) -> dict | None:
    """One organisation by slug with themes, needs, offers, translations, projects and visits."""
    status = "AND o.status = 'published'" if published_only else ""
    rows = _rows(db.execute(
        f"SELECT {_LIST_COLUMNS}, o.status, o.created_at, o.updated_at FROM organisations o"
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
