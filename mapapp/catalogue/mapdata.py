"""What the map index reads: published points and their filter values."""

from __future__ import annotations

import sqlite_utils

from .base import dict_rows
from .reads import _LIST_COLUMNS, fts_query

# -- the map index's snapshot --------------------------------------------------------


# What the map snapshot keeps of each published organisation (the month it was added and
# its structure are counted by the insights, not filtered by).
_MAP_ROW = ("id, lat, lon, coalesce(country, ''), relation, name, coalesce(structure, ''),"
            " substr(created_at, 1, 7)")


def map_rows(db: sqlite_utils.Database, ids: list[int]) -> list[tuple]:
    """``(id, lat, lon, country, relation, name, structure, month added)`` of those of ``ids``
    that are published, by id (``iter_map_rows`` reads them all)."""
    out: list[tuple] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += db.execute(
            f"SELECT {_MAP_ROW} FROM organisations"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" WHERE status = 'published' AND id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return sorted(out)


def iter_map_rows(db: sqlite_utils.Database):
    """``map_rows`` one row at a time (a million tuples never held at once), with their count first."""
    count = db.execute("SELECT count(*) FROM organisations WHERE status = 'published'").fetchone()[0]
    return count, db.conn.execute(
        f"SELECT {_MAP_ROW} FROM organisations WHERE status = 'published' ORDER BY id")  # nosec B608 # names come from code


_MEMBER_QUERIES = {
    "theme": ("SELECT DISTINCT theme FROM organisation_themes",
              "SELECT t.organisation_id FROM organisation_themes t JOIN organisations o ON o.id = t.organisation_id"
              " WHERE t.theme = ? AND o.status = 'published'"),
    "need": ("SELECT DISTINCT resource FROM organisation_resources WHERE kind = 'need'",
             "SELECT r.organisation_id FROM organisation_resources r JOIN organisations o ON o.id = r.organisation_id"
             " WHERE r.kind = 'need' AND r.resource = ? AND o.status = 'published'"),
    "offer": ("SELECT DISTINCT resource FROM organisation_resources WHERE kind = 'offer'",
              "SELECT r.organisation_id FROM organisation_resources r JOIN organisations o ON o.id = r.organisation_id"
              " WHERE r.kind = 'offer' AND r.resource = ? AND o.status = 'published'"),
    "project": ("SELECT slug FROM projects",
                "SELECT po.organisation_id FROM project_organisations po JOIN projects p ON p.id = po.project_id"
                " JOIN organisations o ON o.id = po.organisation_id WHERE p.slug = ? AND o.status = 'published'"),
    "visit": ("SELECT slug FROM visits",
              "SELECT vo.organisation_id FROM visit_organisations vo JOIN visits v ON v.id = vo.visit_id"
              " JOIN organisations o ON o.id = vo.organisation_id WHERE v.slug = ? AND o.status = 'published'"),
}


def member_lists(db: sqlite_utils.Database):
    """``(kind, value, cursor of organisation ids)`` for every theme, need, offer, project
    and visit of published organisations: one value at a time, read through its index."""
    for kind, (values_sql, members_sql) in _MEMBER_QUERIES.items():
        for (value,) in db.execute(values_sql).fetchall():
            yield kind, value, db.conn.execute(members_sql, [value])


def changed_since(db: sqlite_utils.Database, version: int, limit: int) -> list[int] | None:
    """The organisations changed at ``version`` or later; None when more than ``limit`` did,
    or when a change after ``version`` touched them all (a project or visit, a bulk import).
    Columns read at ``version`` hold whatever touched them all at that version: it was
    committed before the version was read, so the first edit after an import is patched."""
    rows = db.execute("SELECT organisation_id, version FROM organisation_changes WHERE version >= ? LIMIT ?",
                      [version, limit + 2]).fetchall()
    if any(org_id == 0 and changed > version for org_id, changed in rows):
        return None
    ids = [org_id for org_id, _ in rows if org_id != 0]
    if len(ids) > limit:
        return None
    return sorted(ids)


def map_name_order(db: sqlite_utils.Database) -> list[int]:
    """Ids of the published organisations in the lists' order (name, then id), read from
    the index that keeps them so."""
    return [r[0] for r in db.execute(
        "SELECT id FROM organisations INDEXED BY organisations_published_name"
        " WHERE status = 'published' ORDER BY name COLLATE NOCASE, id")]


def organisations_by_ids(db: sqlite_utils.Database, ids: list[int]) -> list[dict]:
    """The list rows (as ``find_organisations`` gives them) of the published ``ids``, in that order."""
    if not ids:
        return []
    rows = dict_rows(db.execute(
        f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE o.id IN ({', '.join('?' * len(ids))})"  # nosec B608 # names and ? placeholders come from code; values are bound
        " AND o.status = 'published'",
        ids))
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def map_memberships(db: sqlite_utils.Database, ids: list[int]) -> list[tuple[str, str, int]]:
    """``(kind, value, organisation id)`` for the themes, needs, offers, projects and visits
    of those of ``ids`` that are published (``member_lists`` reads them all, value by value)."""
    out: list[tuple[str, str, int]] = []
    for start in range(0, len(ids), 300):
        chunk = ids[start:start + 300]
        placeholders = ", ".join("?" * len(chunk))
        published = f"SELECT id FROM organisations WHERE status = 'published' AND id IN ({placeholders})"  # nosec B608 # ? placeholders from code; values are bound
        out += _memberships(db, published, chunk * 4)
    return out


def _memberships(db: sqlite_utils.Database, published: str, params: list) -> list[tuple[str, str, int]]:
    return db.execute(
        f"SELECT 'theme', theme, organisation_id FROM organisation_themes WHERE organisation_id IN ({published})"  # nosec B608 # names and ? placeholders come from code; values are bound
        " UNION ALL SELECT kind, resource, organisation_id FROM organisation_resources"
        f" WHERE organisation_id IN ({published})"
        " UNION ALL SELECT 'project', p.slug, po.organisation_id FROM project_organisations po"
        f" JOIN projects p ON p.id = po.project_id WHERE po.organisation_id IN ({published})"
        " UNION ALL SELECT 'visit', v.slug, vo.organisation_id FROM visit_organisations vo"
        f" JOIN visits v ON v.id = vo.visit_id WHERE vo.organisation_id IN ({published})", params).fetchall()


def search_ids(db: sqlite_utils.Database, text: str) -> list[int]:
    """Ids of the organisations whose name, description or city match ``text``."""
    match = fts_query(text)
    if not match:
        return []
    return [r[0] for r in db.execute(
        "SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?", [match])]


def map_points(db: sqlite_utils.Database, ids: list[int]) -> list[tuple]:
    """``(id, slug, name, lat, lon, checked)`` of the given organisations; ``checked``: when
    the entry was last confirmed (by its owner, else its last change)."""
    out: list[tuple] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += db.execute(
            "SELECT o.id, o.slug, o.name, o.lat, o.lon, coalesce(w.checked_at, o.updated_at) FROM organisations o"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" LEFT JOIN organisation_owners w ON w.organisation_id = o.id WHERE o.id IN ({', '.join('?' * len(chunk))})",
            chunk).fetchall()
    return out
