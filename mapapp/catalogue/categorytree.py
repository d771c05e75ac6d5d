"""The category tree as the ``theme`` filter, labels and exports read it (``Tree``), built
once per catalogue state (``cached``): the request's filters, the map index, pages, API and
exports all ask it rather than querying the tree again."""

from __future__ import annotations

import sqlite_utils

from .base import state_key
from .categories import Category, all_categories, replacements, tree


class Tree:
    """The tree as the filters, labels and exports read it: every category by code
    (retired ones too, so that an organisation still filed under one keeps its label),
    and the offered ones in order. Built once per catalogue state (``cached``)."""

    def __init__(self, roots: list[Category], everything: list[Category], replaced: dict[str, str] | None = None):
        self.roots = [c for c in roots if not c.retired]
        self.offered_list = [c for root in self.roots for c in (root, *(k for k in root.children if not k.retired))]
        self.by_code = {c.code: c for c in [*everything, *self.offered_list]}
        self._folded = {c.code.casefold(): c.code for c in self.offered_list}
        # A retired category merged or moved into an offered one: old links, embeds and saved
        # views that name it show where its organisations went.
        for old, into in (replaced or {}).items():
            if into.casefold() in self._folded:
                self._folded.setdefault(old.casefold(), self._folded[into.casefold()])
        self._by_id = {c.id: c for c in self.by_code.values()}
        codes = {c.id: c.code for c in everything}
        self.families: dict[str, list[str]] = {}  # a parent's code: its own and its children's (retired too)
        for c in everything:
            if c.parent_id in codes:
                self.families.setdefault(codes[c.parent_id], [codes[c.parent_id]]).append(c.code)

    def find(self, value: str) -> str | None:
        """The code of the offered category ``value`` names, whatever its case (a retired one
        merged into another names that one); None if none."""
        return self._folded.get(value.casefold())

    def offered(self) -> list[str]:
        """The codes of the categories offered, in tree order."""
        return [c.code for c in self.offered_list]

    def label(self, code: str, lang: str) -> str:
        """The label of ``code`` in ``lang``; an unknown code is returned as is."""
        found = self.by_code.get(code)
        return found.label(lang) if found else code

    def choices(self, lang: str) -> list[tuple[str, str]]:
        """``(code, label)`` of the offered categories, each parent followed by its children."""
        return [(c.code, c.label(lang)) for c in self.offered_list]

    def family(self, code: str) -> list[str]:
        """``code`` and, for a parent, its children's codes: what choosing it selects."""
        return self.families.get(code, [code])

    def parent(self, code: str) -> Category | None:
        """The parent of the category ``code`` (None for a top-level or unknown one)."""
        found = self.by_code.get(code)
        return self._by_id.get(found.parent_id) if found and found.parent_id is not None else None

    def essglobal(self, code: str) -> str | None:
        """The ESSGLOBAL activity (AM code) ``code`` maps to, else its parent's; None if neither."""
        found = self.by_code.get(code)
        if found is None:
            return None
        if found.essglobal:
            return found.essglobal
        up = self.parent(code)
        return up.essglobal if up is not None and up.essglobal else None


_CACHE: dict[str, Tree] = {}


def cached(db: sqlite_utils.Database) -> Tree:
    """The catalogue's ``Tree``, read once per catalogue state (``state_key``)."""
    key = state_key(db)
    found = _CACHE.get(key)
    if found is None:
        found = Tree(tree(db), all_categories(db, retired=True), replacements(db))
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = found
    return found
