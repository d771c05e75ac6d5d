"""The SQL of the filter kinds, written from the registry (``mapapp.kinds``): what
narrows a list to some values of a kind, and what the map index reads of each.

Table and column names come from the registry (code, never a request); values are bound.
"""

from __future__ import annotations

import json

import sqlite_utils

from ..kinds import REGISTRY, Categories, Column, Entries, Kind, Link
from . import categorytree
from . import fields as field_store

# Besides the kinds, the map index keeps as bits (for the insights to count, never to
# filter by) an organisation's structure and the month it was added.
COUNTED = {"structure": "structure", "month": "substr(created_at, 1, 7)"}
# What the map index reads from each organisation's row, in this order after id, lat, lon, name.
ROW_KINDS: tuple[str, ...] = (*(k.name for k in REGISTRY if isinstance(k.stored, Column)), *COUNTED)
LINK_KINDS: tuple[Kind, ...] = tuple(k for k in REGISTRY if isinstance(k.stored, Link))


def row_values() -> str:
    """The SELECT list of ``ROW_KINDS`` from ``organisations`` ('' for none)."""
    columns = [k.stored.column for k in REGISTRY if isinstance(k.stored, Column)] + list(COUNTED.values())
    return ", ".join(f"coalesce({c}, '')" for c in columns)


def _linked(kind: Kind) -> tuple[str, str, list]:
    """``FROM …`` (``l``: the link table) of a link kind, the expression of its value,
    and the condition (with its parameters) that keeps the rows of this kind."""
    link = kind.stored
    source = f"{link.table} l"
    value = f"l.{link.value}"
    if isinstance(kind.vocabulary, Entries):
        source += f" JOIN {kind.vocabulary.table} e ON e.id = l.{link.value}"
        value = "e.slug"
    if link.only:
        return source, value, [f"l.{link.only[0]} = ?", link.only[1]]
    return source, value, []


def _keep(condition: list) -> tuple[str, list]:
    return (f"{condition[0]} AND ", condition[1:]) if condition else ("", [])


# A category chosen is the category or any of its children: its codes, as a subquery of one
# parameter (twice). The map's columns keep each category's own members and OR a parent's
# family when asked (mapindex), so that a change to the tree needs no new columns.
_FAMILY = ("SELECT ? UNION ALL SELECT c.code FROM categories c JOIN categories p ON p.id = c.parent_id"
           " WHERE p.code = ?")


def member_clause(kind: Kind, values: tuple[str, ...]) -> tuple[str, list]:
    """A condition on ``o`` (organisations): it has one of ``values`` of ``kind`` (for a
    category, the category or one of its children)."""
    marks = ", ".join("?" * len(values))
    if isinstance(kind.stored, Column):
        return f"o.{kind.stored.column} IN ({marks})", list(values)
    source, value, condition = _linked(kind)
    keep, params = _keep(condition)
    if isinstance(kind.vocabulary, Categories):
        family = " UNION ALL ".join([_FAMILY] * len(values))
        return (f"o.id IN (SELECT l.organisation_id FROM {source} WHERE {keep}{value} IN ({family}))",  # nosec B608 # names come from the registry; values are bound
                [*params, *(v for code in values for v in (code, code))])
    return (f"o.id IN (SELECT l.organisation_id FROM {source} WHERE {keep}{value} IN ({marks}))",  # nosec B608 # names come from the registry; values are bound
            [*params, *values])


def member_lists(db: sqlite_utils.Database):
    """``(kind, value, cursor of organisation ids)`` for every value of every link kind
    (themes, needs, offers, projects, visits…), of every organisation (the map index keeps
    the published ones it holds): one value at a time, read through its index. Not joined
    with the organisations: SQLite walked every published organisation for each value then
    (at 3,000,000, about fifty values: 150 million index searches for the snapshot)."""
    for kind in (*LINK_KINDS, *field_store.filter_kinds(db)):
        source, value, condition = _linked(kind)
        keep, params = _keep(condition)
        if isinstance(kind.vocabulary, Entries):
            listed = db.execute(f"SELECT slug FROM {kind.vocabulary.table}").fetchall()  # nosec B608 # names come from the registry
        else:
            where = f" WHERE {condition[0]}" if condition else ""
            listed = db.execute(f"SELECT DISTINCT {value} FROM {source}{where}", params).fetchall()  # nosec B608 # names come from the registry; values are bound
        members = f"SELECT l.organisation_id FROM {source} WHERE {keep}{value} = ?"  # nosec B608 # names come from the registry; values are bound
        for (code,) in listed:
            yield kind.name, code, db.conn.execute(members, [*params, code])


def memberships(db: sqlite_utils.Database, published: str, published_params: list) -> list[tuple[str, str, int]]:
    """``(kind, value, organisation id)`` of every link kind for the organisations whose id
    ``published`` (a SELECT of ids, with its parameters) gives."""
    parts, params = [], []
    for kind in (*LINK_KINDS, *field_store.filter_kinds(db)):
        source, value, condition = _linked(kind)
        keep, kept = _keep(condition)
        parts.append(f"SELECT ?, {value}, l.organisation_id FROM {source}"  # nosec B608 # names come from the registry; values are bound
                     f" WHERE {keep}l.organisation_id IN ({published})")
        params += [kind.name, *kept, *published_params]
    return db.execute(" UNION ALL ".join(parts), params).fetchall()


def choices(db: sqlite_utils.Database, kind: Kind, present, lang: str) -> list[tuple[str, str]]:
    """``(value, label)`` of the values a filter panel offers for ``kind``, in order;
    ``present``: the values published organisations have (the countries offered)."""
    if isinstance(kind.vocabulary, Entries):
        return entry_choices(db, kind, lang)
    if isinstance(kind.vocabulary, Categories):
        return categorytree.cached(db).choices(lang)
    return kind.vocabulary.choices(present, lang)


def entry_choices(db: sqlite_utils.Database, kind: Kind, lang: str) -> list[tuple[str, str]]:
    """``(slug, label)`` of every entry of an ``Entries`` kind (projects, visits), labelled
    in ``lang`` where a translation was given, in the registry's order (else by label)."""
    entries = kind.vocabulary
    detail = entries.detail or "NULL"
    order = f" ORDER BY {', '.join(entries.order)}" if entries.order else ""
    where = f" WHERE {entries.listed}" if entries.listed else ""
    rows = db.execute(f"SELECT slug, {entries.name}, {entries.names}, {detail} FROM {entries.table}{where}{order}")  # nosec B608 # names come from the registry
    choices = [(slug, (json.loads(names).get(lang) or name) + (f" ({extra})" if extra else ""))
               for slug, name, names, extra in rows]
    return choices if entries.order else sorted(choices, key=lambda c: c[1].casefold())
