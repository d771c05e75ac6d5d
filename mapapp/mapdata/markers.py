"""What the map shows of organisations' categories: each organisation's main category as a
small number in the map index, the mix of a cluster's categories, and the legend.

An organisation's main category is its category of lowest rank (the first one staff or its
file gave), then the first in the tree's order. The map index keeps it as an index into the
tree's list of categories (``Palette.codes``; 0: none), two bytes an organisation. A
cluster's mix is counted per top-level category (a child counts for its parent), a few
``[index, count]`` pairs of the largest. The legend (labels, colours, icons of those
indexes) travels once with the page, never with each answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlite_utils

from .. import catalogue, icons, site
from ..catalogue import categories

MIX_PAIRS = 5  # a cluster names its largest top-level categories; the rest is its count minus theirs
NO_CATEGORY_COLOUR = "#6b7280"  # a neutral grey, for organisations filed under no category
NO_CATEGORY_ICON = "dots"
NO_ICON = "point"  # a category without an icon, and whose parent has none: a plain dot


@dataclass(frozen=True)
class Palette:
    """The category tree as the map index numbers it: ``codes[i - 1]`` is category ``i``
    (in the tree's order, parents before their children); ``top[i]`` is the slot of its
    top-level category (a parent's own, or its parent's), ``tops[slot]`` that category's
    index. Index and slot 0: no category."""

    codes: tuple[str, ...]
    top: np.ndarray
    tops: np.ndarray

    @property
    def slots(self) -> int:
        return len(self.tops)


def palette(db: sqlite_utils.Database) -> Palette:
    """The palette of the catalogue's current tree (retired categories left out)."""
    tree = categories.all_categories(db)
    by_id = {c.id: c for c in tree}
    index = {c.id: i + 1 for i, c in enumerate(tree)}

    def root(c: categories.Category) -> categories.Category:
        seen = {c.id}
        while c.parent_id in by_id and c.parent_id not in seen:  # a retired parent: its child stands alone
            c = by_id[c.parent_id]
            seen.add(c.id)
        return c

    roots = [index[c.id] for c in tree if root(c) is c]
    slot = {i: s + 1 for s, i in enumerate(roots)}
    top = np.zeros(len(tree) + 1, dtype=np.uint16)
    for c in tree:
        top[index[c.id]] = slot[index[root(c).id]]
    return Palette(tuple(c.code for c in tree), top, np.array([0, *roots], dtype=np.uint16))


def main_categories(db: sqlite_utils.Database, ids: np.ndarray, colours: Palette) -> np.ndarray:
    """The main category (palette index) of each organisation of ``ids`` (sorted), read
    category by category: lowest rank first, then the tree's order."""
    n = len(ids)
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    width = len(colours.codes) + 1
    for index, (_code, rows) in enumerate(catalogue.category_members(db, list(colours.codes)), start=1):
        pairs = np.fromiter((v for row in rows for v in row), dtype=np.int64)
        if not len(pairs) or not n:
            continue
        org_ids, ranks = pairs[0::2], pairs[1::2]
        positions = np.searchsorted(ids, org_ids)
        found = (positions < n) & (ids[np.minimum(positions, n - 1)] == org_ids)
        positions, key = positions[found], np.maximum(ranks[found], 0) * width + index
        best[positions] = np.minimum(best[positions], key)
    chosen = np.zeros(n, dtype=np.uint16)
    filed = best != np.iinfo(np.int64).max
    chosen[filed] = best[filed] % width
    return chosen


def categories_of(db: sqlite_utils.Database, org_ids: list[int], colours: Palette) -> dict[int, int]:
    """``main_categories`` of a few organisations, by id (0 for one filed under none)."""
    index = {code: i + 1 for i, code in enumerate(colours.codes)}
    best: dict[int, tuple[int, int]] = {}
    for org_id, code, rank in catalogue.category_ranks(db, org_ids):
        if code in index:
            key = (max(rank, 0), index[code])
            if org_id not in best or key < best[org_id]:
                best[org_id] = key
    return {org_id: best[org_id][1] if org_id in best else 0 for org_id in org_ids}


def mix(groups: np.ndarray, slots: np.ndarray, count: int, colours: Palette) -> np.ndarray:
    """How many points of each of ``count`` groups (``groups``: each point's group number)
    fall in each top-level slot (``slots``: each point's): a ``count`` × slots array."""
    width = colours.slots
    if not count:
        return np.zeros((0, width), dtype=np.int64)
    return np.bincount(groups * width + slots, minlength=count * width).reshape(count, width)


def pairs(row: np.ndarray, colours: Palette) -> list[list[int]]:
    """A cluster's mix as up to ``MIX_PAIRS`` ``[category index, count]`` pairs of its
    largest top-level categories, largest first (ties in the tree's order, none last)."""
    nonzero = np.flatnonzero(row)
    ranked = nonzero[np.lexsort((np.where(nonzero == 0, len(row), nonzero), -row[nonzero]))][:MIX_PAIRS]
    return [[int(colours.tops[s]), int(row[s])] for s in ranked]


def legend(db: sqlite_utils.Database, colours: Palette, present: np.ndarray, lang: str) -> dict:
    """What the page's map script needs to draw markers, rings and the legend, for the
    palette's indexes: ``categories[i]`` (``[]`` at 0: none) with its code, label in
    ``lang``, colour, icon and parent index, whether organisations have it as their main
    category (``present``: counts per index) or a child of it; the icons' path data, once
    each."""
    everything = categories.all_categories(db)
    tree, by_id = {c.code: c for c in everything}, {c.id: c for c in everything}
    entries: list[dict] = [{"code": "", "label": "", "colour": NO_CATEGORY_COLOUR, "icon": NO_CATEGORY_ICON,
                            "parent": 0, "present": bool(len(present) and present[0])}]
    index = {code: i + 1 for i, code in enumerate(colours.codes)}
    for i, code in enumerate(colours.codes, start=1):
        category = tree.get(code)
        parent = by_id.get(category.parent_id) if category else None
        icon = next((n for n in ((category and category.icon), (parent and parent.icon)) if n and icons.exists(n)),
                    NO_ICON)
        colour = category.colour if category and site.is_colour(category.colour) else NO_CATEGORY_COLOUR
        entries.append({"code": code, "label": category.label(lang) if category else code, "colour": colour,
                        "icon": icon, "parent": index.get(parent.code, 0) if parent else 0,
                        "present": bool(i < len(present) and present[i])})
    for entry in entries[1:]:  # a parent whose children are present is shown above them
        if entry["present"] and entry["parent"]:
            entries[entry["parent"]]["present"] = True
    drawn = {e["icon"] for e in entries}
    return {"categories": entries, "icons": {name: list(icons.paths(name)) for name in sorted(drawn)}}
