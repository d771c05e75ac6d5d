"""Columns of the network's own fields in an imported file: a header that is a field's
label (in any language) or its slug names the field; its cells are read by the rules every
form uses (``mapapp.fields``), a bad value reported on its row and left out."""

from __future__ import annotations

from .. import fields as rules
from ..text import fold
from ..translate import N_, Message
from .columns import ColumnPlan

PREFIX = "field:"  # a planned column's target: field:<slug>


def claim(plan: ColumnPlan, headers: list[str], fields: tuple[rules.Field, ...]) -> None:
    """Give the unrecognised columns that name a field to that field (a field read once)."""
    names: dict[str, str] = {}
    for fld in fields:
        if fld.retired:
            continue
        for name in (fld.slug, fld.param, *fld.labels.values()):
            if name:
                names.setdefault(fold(name), fld.slug)
    taken = set(plan.fields.values())
    for header in list(plan.unknown):
        slug = names.get(fold(header))
        if slug is None or PREFIX + slug in taken:
            continue
        plan.fields[headers.index(header)] = PREFIX + slug
        plan.unknown.remove(header)
        taken.add(PREFIX + slug)


def read(raw: dict, fields: tuple[rules.Field, ...], warn) -> dict[str, list[str]]:
    """The values of a row's field columns (slug → values); ``warn(column, message)`` is
    told of each refused value (the row is imported without it)."""
    out: dict[str, list[str]] = {}
    for fld in fields:
        column = PREFIX + fld.slug
        if column not in raw:
            continue
        values, problem = rules.parse(fld, raw[column])
        if problem is not None:
            warn(column, Message(N_("%(problem)s; value not imported"), problem=problem))
        else:
            out[fld.slug] = values
    return out
