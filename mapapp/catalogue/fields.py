"""Fields of the network's own (migration 30): the ``fields`` staff define and the values
organisations hold in ``organisation_fields``, one row per value.

What a value may be is checked by ``mapapp.fields`` before it comes here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from .. import kinds
from ..fields import FILTERABLE, TYPES, Field
from ..text import slugify
from ..translate import N_, Message
from .base import now, rows_for_ids, state_key

_COLUMNS = "id, slug, type, labels, choices, categories, required, public, filter, in_popup, position, retired_at"


class FieldError(Exception):
    """A field cannot be saved as asked; ``args[0]`` is a ``Message`` saying why."""


def _field(row) -> Field:
    return Field(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), json.loads(row[5]),
                 bool(row[6]), bool(row[7]), bool(row[8]), bool(row[9]), row[10], row[11] is not None)


def list_fields(db: sqlite_utils.Database, *, retired: bool = False) -> list[Field]:
    """The fields in their order (retired ones too with ``retired``)."""
    where = "" if retired else " WHERE retired_at IS NULL"
    return [_field(r) for r in db.execute(f"SELECT {_COLUMNS} FROM fields{where} ORDER BY position, id")]  # nosec B608 # names come from code


def get_field(db: sqlite_utils.Database, slug: str) -> Field | None:
    """The field called ``slug``, retired or not."""
    row = db.execute(f"SELECT {_COLUMNS} FROM fields WHERE slug = ?", [slug]).fetchone()  # nosec B608 # names come from code
    return _field(row) if row else None


def _check(fld: Field) -> None:
    if fld.type not in TYPES:
        raise FieldError(Message(N_("Choose the type of the field.")))
    if not any(v.strip() for v in fld.labels.values()):
        raise FieldError(Message(N_("Give the field a label in at least one language.")))
    if fld.filter and fld.type not in FILTERABLE:
        raise FieldError(Message(N_("Only yes/no and choice fields can be filters.")))
    if fld.type in ("choice", "choices"):
        if not fld.choices:
            raise FieldError(Message(N_("A choice field needs at least one choice.")))
        slugs = [c["value"] for c in fld.choices]
        if len(set(slugs)) != len(slugs):
            raise FieldError(Message(N_("Two choices have the same value: give each its own.")))


def create_field(db: sqlite_utils.Database, fld: Field) -> int:
    """Add ``fld`` (its slug made from its label when empty) at the end; its id."""
    fld.slug = fld.slug or slugify(fld.label("en"), fallback="field")[:60]
    if not fld.slug[:1].isalpha():
        fld.slug = f"field-{fld.slug}"[:60]
    _check(fld)
    if get_field(db, fld.slug) is not None:
        raise FieldError(Message(N_("A field called '%(slug)s' already exists; give another label or slug."),
                                 slug=fld.slug))
    stamp = now()
    position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM fields").fetchone()[0]
    cursor = db.execute(
        "INSERT INTO fields (slug, type, labels, choices, categories, required, public, filter, in_popup, position,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [fld.slug, fld.type, json.dumps(fld.labels, ensure_ascii=False), json.dumps(fld.choices, ensure_ascii=False),
         json.dumps(fld.categories), int(fld.required), int(fld.public), int(fld.filter), int(fld.in_popup),
         position, stamp, stamp])
    return cursor.lastrowid


def choices_in_use(db: sqlite_utils.Database, field_id: int) -> dict[str, int]:
    """How many organisations hold each choice of a field."""
    return dict(db.execute("SELECT value, count(*) FROM organisation_fields WHERE field_id = ? GROUP BY value",
                           [field_id]).fetchall())


def update_field(db: sqlite_utils.Database, fld: Field, *, drop_values: bool = False) -> None:
    """Save ``fld`` (its slug and type stay). Removing a choice organisations hold is refused
    unless ``drop_values`` says to remove it from them too."""
    _check(fld)
    before = get_field(db, fld.slug)
    if before is None:
        raise FieldError(Message(N_("This field no longer exists.")))
    if before.type in ("choice", "choices"):
        kept = {c["value"] for c in fld.choices}
        used = {v: n for v, n in choices_in_use(db, before.id).items() if v not in kept}
        if used and not drop_values:
            raise FieldError(Message(
                N_("The choice '%(value)s' is held by %(count)s organisations: keep it, or tick \"remove it from "
                   "them\" to take it away."), value=next(iter(used)), count=next(iter(used.values()))))
        for value in used:
            db.execute("DELETE FROM organisation_fields WHERE field_id = ? AND value = ?", [before.id, value])
    db.execute(
        "UPDATE fields SET labels = ?, choices = ?, categories = ?, required = ?, public = ?, filter = ?,"
        " in_popup = ?, updated_at = ? WHERE id = ?",
        [json.dumps(fld.labels, ensure_ascii=False), json.dumps(fld.choices, ensure_ascii=False),
         json.dumps(fld.categories), int(fld.required), int(fld.public), int(fld.filter and fld.type in FILTERABLE),
         int(fld.in_popup), now(), before.id])


def set_retired(db: sqlite_utils.Database, slug: str, retired: bool) -> None:
    """Retire a field (hidden from forms, pages, filters and exports; its values kept) or bring it back."""
    db.execute("UPDATE fields SET retired_at = ?, updated_at = ? WHERE slug = ?",
               [now() if retired else None, now(), slug])


def move(db: sqlite_utils.Database, slug: str, step: int) -> None:
    """Move a field one place up (``step`` -1) or down (+1) in the order."""
    order = [f.slug for f in list_fields(db, retired=True)]
    if slug not in order:
        return
    i = order.index(slug)
    j = max(0, min(len(order) - 1, i + step))
    order[i], order[j] = order[j], order[i]
    for position, s in enumerate(order):
        db.execute("UPDATE fields SET position = ? WHERE slug = ? AND position != ?", [position, s, position])


def values_of(db: sqlite_utils.Database, org_id: int) -> dict[str, list[str]]:
    """An organisation's values per field slug (every field, retired ones too)."""
    out: dict[str, list[str]] = {}
    for slug, value in db.execute(
            "SELECT f.slug, v.value FROM organisation_fields v JOIN fields f ON f.id = v.field_id"
            " WHERE v.organisation_id = ? ORDER BY f.position, v.rowid", [org_id]):
        out.setdefault(slug, []).append(value)
    return out


def values_for(db: sqlite_utils.Database, org_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """``values_of`` for many organisations at once."""
    out: dict[int, dict[str, list[str]]] = {}
    for org_id, slug, value in rows_for_ids(
            db, "SELECT v.organisation_id, f.slug, v.value FROM organisation_fields v JOIN fields f ON f.id = v.field_id"
            " WHERE v.organisation_id IN ({marks}) ORDER BY f.position, v.rowid", list(org_ids)):
        out.setdefault(org_id, {}).setdefault(slug, []).append(value)
    return out


def set_values(db: sqlite_utils.Database, org_id: int, values: dict[str, list[str]]) -> bool:
    """Give an organisation these values for the fields named (others stay); True if any changed."""
    current = values_of(db, org_id)
    changed = False
    for slug, wanted in values.items():
        if current.get(slug, []) == list(wanted):
            continue
        row = db.execute("SELECT id FROM fields WHERE slug = ?", [slug]).fetchone()
        if row is None:
            continue
        db.execute("DELETE FROM organisation_fields WHERE organisation_id = ? AND field_id = ?", [org_id, row[0]])
        for value in dict.fromkeys(wanted):
            db.execute("INSERT INTO organisation_fields (organisation_id, field_id, value) VALUES (?, ?, ?)",
                       [org_id, row[0], value])
        changed = True
    return changed


def public_fields(db) -> list[Field]:
    """The fields shown to visitors and exported, in order (``db``: a Database or a connection)."""
    return [_field(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM fields WHERE retired_at IS NULL AND public = 1 ORDER BY position, id")]  # nosec B608 # names come from code


def attach_public(db, orgs: list[dict]) -> list[dict]:
    """Give each organisation dict its ``custom_fields``: ``(field, values)`` of the public
    fields it has values for, in the fields' order (staff-only fields never)."""
    fields = public_fields(db)
    by_id = {f.id: f for f in fields}
    values: dict[int, dict[int, list[str]]] = {}
    for org_id, field_id, value in rows_for_ids(
            db, "SELECT v.organisation_id, v.field_id, v.value FROM organisation_fields v JOIN fields f ON f.id = v.field_id"
            " WHERE f.public = 1 AND f.retired_at IS NULL AND v.organisation_id IN ({marks}) ORDER BY v.rowid",
            [o["id"] for o in orgs]):
        values.setdefault(org_id, {}).setdefault(field_id, []).append(value)
    for o in orgs:
        held = values.get(o["id"], {})
        o["custom_fields"] = [(by_id[i], tuple(held[i])) for i in by_id if i in held]
    return orgs


_KINDS_CACHE: dict[str, tuple] = {}


def filter_kinds(db) -> tuple[kinds.Kind, ...]:
    """The filter kinds of the fields marked as filters (``kinds.field_kind``), read once per
    catalogue state."""
    key = state_key(db)
    found = _KINDS_CACHE.get(key)
    if found is None:
        rows = db.execute(f"SELECT {_COLUMNS} FROM fields WHERE retired_at IS NULL AND filter = 1"  # nosec B608 # names come from code
                          " ORDER BY position, id").fetchall()
        found = tuple(kinds.field_kind(_field(r)) for r in rows if r[2] in FILTERABLE)
        if len(_KINDS_CACHE) > 32:
            _KINDS_CACHE.clear()
        _KINDS_CACHE[key] = found
    return found
