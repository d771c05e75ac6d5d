"""What the map index reads: published points and their filter values."""

from __future__ import annotations

import sqlite_utils

from ..text import sort_key
from . import kinds
from .base import dict_rows
from .reads import _LIST_COLUMNS, search_clause

# -- the map index's snapshot --------------------------------------------------------


# What the map snapshot keeps of each published organisation: the kinds stored in its row,
# then the month it was added and its structure (counted by the insights, not filtered by).
_MAP_ROW = f"id, lat, lon, name, {kinds.row_values()}"


# ``+status`` below: the unary plus keeps SQLite from choosing the published organisations'
# sort index (status first) over the ids' primary key; it did, and walked a million index
# entries for each chunk of ids (10 s to patch in a 1,000-row import at a million, 13 ms now).


def map_rows(db: sqlite_utils.Database, ids: list[int]) -> list[tuple]:
    """``(id, lat, lon, name, *values of kinds.ROW_KINDS)`` of those of ``ids`` that are
    published, by id (``iter_map_rows`` reads them all)."""
    out: list[tuple] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += db.execute(
            f"SELECT {_MAP_ROW} FROM organisations"  # nosec B608 # names and ? placeholders come from code; values are bound
            f" WHERE +status = 'published' AND id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return sorted(out)


def iter_map_rows(db: sqlite_utils.Database):
    """``map_rows`` one row at a time (a million tuples never held at once), with their count first."""
    count = db.execute("SELECT count(*) FROM organisations WHERE status = 'published'").fetchone()[0]
    # ``+status``: the table read in its own order (the ids'). Through the published ones'
    # sort index, SQLite fetched every row at random and sorted them all by id again.
    return count, db.conn.execute(
        f"SELECT {_MAP_ROW} FROM organisations WHERE +status = 'published' ORDER BY id")  # nosec B608 # names come from code


def member_lists(db: sqlite_utils.Database):
    """``(kind, value, cursor of organisation ids)`` for every value of the kinds kept in
    link tables (themes, needs, offers, projects, visits…), of every organisation: the map
    index keeps those it holds (the published ones)."""
    return kinds.member_lists(db)


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
    """Ids of the published organisations in the lists' order (sort key, name, then id),
    read from the index that keeps them so."""
    return [r[0] for r in db.execute(
        "SELECT id FROM organisations INDEXED BY organisations_published_sort"
        " WHERE status = 'published' ORDER BY sort_key, name, id")]


def map_name_following(db: sqlite_utils.Database, name: str, org_id: int, skip: set[int]) -> int | None:
    """The id of the first published organisation after ``(name, org_id)`` in the lists'
    order (sort key, name, then id), none of ``skip``; None when it would be last. Read from
    the index that keeps that order (a few rows, not the million of ``map_name_order``)."""
    for (found,) in db.execute(
            "SELECT id FROM organisations INDEXED BY organisations_published_sort WHERE status = 'published'"
            " AND (sort_key, name, id) > (?, ?, ?) ORDER BY sort_key, name, id LIMIT ?",
            [sort_key(name), name, org_id, len(skip) + 1]):
        if found not in skip:
            return found
    return None


def organisations_by_ids(db: sqlite_utils.Database, ids: list[int]) -> list[dict]:
    """The list rows (as ``find_organisations`` gives them) of the published ``ids``, in that order."""
    if not ids:
        return []
    rows = dict_rows(db.execute(
        f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE o.id IN ({', '.join('?' * len(ids))})"  # nosec B608 # names and ? placeholders come from code; values are bound
        # ``+``: found by their ids, never by scanning the published ones' sort index (which
        # SQLite chose for twenty ids: 50 ms a list page at 200,000, not 0.1 ms).
        " AND +o.status = 'published'",
        ids))
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def map_memberships(db: sqlite_utils.Database, ids: list[int]) -> list[tuple[str, str, int]]:
    """``(kind, value, organisation id)`` for the themes, needs, offers, projects, visits…
    of those of ``ids`` that are published (``member_lists`` reads them all, value by value)."""
    out: list[tuple[str, str, int]] = []
    for start in range(0, len(ids), 300):
        chunk = ids[start:start + 300]
        placeholders = ", ".join("?" * len(chunk))
        published = f"SELECT id FROM organisations WHERE +status = 'published' AND id IN ({placeholders})"  # nosec B608 # ? placeholders from code; values are bound
        out += kinds.memberships(db, published, chunk)
    return out


def search_ids(db: sqlite_utils.Database, text: str) -> list[int]:
    """Ids of the organisations that ``text`` finds (see ``search_clause``)."""
    clause, params = search_clause(text, db)
    if not clause:
        return []
    return [r[0] for r in db.execute(f"SELECT o.id FROM organisations o WHERE {clause}", params)]  # nosec B608 # clauses and ? placeholders come from code; values are bound


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


def category_members(db: sqlite_utils.Database, codes: list[str]):
    """``(code, cursor of (organisation id, rank))`` of the organisations (published or not:
    the caller keeps those it holds) filed under each of ``codes`` (the map's markers take
    the lowest rank's category), read through the themes' index one category at a time."""
    # Not joined with the organisations to keep the published: SQLite walked every published
    # organisation for each category then (3,000,000 index searches a category).
    members = "SELECT organisation_id, rank FROM organisation_themes WHERE theme = ?"
    for code in codes:
        yield code, db.conn.execute(members, [code])


def category_ranks(db: sqlite_utils.Database, ids: list[int]) -> list[tuple[int, str, int]]:
    """``(organisation id, category code, rank)`` of the categories of ``ids``."""
    out: list[tuple[int, str, int]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += db.execute(
            "SELECT organisation_id, theme, rank FROM organisation_themes"  # nosec B608 # ? placeholders come from code; values are bound
            f" WHERE organisation_id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return out
