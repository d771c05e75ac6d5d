"""A file's category cells → the catalogue's category tree.

An import reads the tree once (``CategoryIndex.of``) and matches every cell against it: a
category's code, its label in any language or one of its aliases (folded: no case, no
accents); an ESSGLOBAL activity (``AM40`` or its URI) → the category of that code, or a
category mapped to it; an ICA activity (``ICA210``, its URI or its label) → its ESSGLOBAL
activity (``data/vocab/activities-ica.csv``) → the same. Retired categories are never
matched: a value naming one is reported as such. The index holds plain dicts, so that it
crosses to the process that checks a large file's rows (see ``reading``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache

from .. import vocab
from ..config import DATA_DIR
from ..text import fold
from .normalise import clean_text, split_terms

# ESSGLOBAL's ICA activity list, each with the activities-modified theme it is mapped to.
ICA_FILE = DATA_DIR / "vocab" / "activities-ica.csv"
_CACHED_CELLS = 20_000


@dataclass(frozen=True)
class Retired:
    """A value that names a retired category (by its code)."""

    code: str


@cache
def ica_activities() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(ICA code, ESSGLOBAL activity code, labels) of every ICA activity."""
    with ICA_FILE.open(encoding="utf-8", newline="") as f:
        return tuple((row["code"], row["activity"], tuple(v for k, v in row.items() if k not in ("code", "activity") and v))
                     for row in csv.DictReader(f))


@dataclass
class CategoryIndex:
    """Folded words → category codes (``Retired`` for a retired category's words)."""

    keys: dict[str, str | Retired] = field(default_factory=dict)
    _cells: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, categories) -> CategoryIndex:
        """The index of ``categories`` (``catalogue.categories.all_categories(db, retired=True)``:
        objects with code, labels, aliases, essglobal and retired)."""
        active = [c for c in categories if not c.retired]
        keys: dict[str, str | Retired] = {}
        for c in active:
            keys.setdefault(fold(c.code), c.code)
        for c in active:
            for label in c.labels.values():
                if label:
                    keys.setdefault(fold(label), c.code)
        for c in active:
            for alias in c.aliases:
                keys.setdefault(fold(alias), c.code)
        # An ESSGLOBAL activity: the category of that code (above), else the first mapped to it.
        by_activity: dict[str, str] = {}
        for c in active:
            if c.essglobal:
                by_activity.setdefault(c.essglobal.upper(), c.code)
        for c in active:
            by_activity.setdefault(c.code.upper(), c.code)
        for term in vocab.themes():
            code = by_activity.get(term.code)
            if code:
                keys.setdefault(fold(term.code), code)
                for word in (*term.labels.values(), *term.aliases):
                    keys.setdefault(fold(word), code)
        for ica, activity, labels in ica_activities():
            code = by_activity.get(activity)
            if code:
                keys.setdefault(fold(ica), code)
                for label in labels:
                    keys.setdefault(fold(label), code)
        for c in categories:
            if c.retired:
                for word in (c.code, *c.labels.values(), *c.aliases):
                    if word:
                        keys.setdefault(fold(word), Retired(c.code))
        return cls(keys)

    def __getstate__(self):
        return {"keys": self.keys}

    def __setstate__(self, state):
        self.keys, self._cells = state["keys"], {}

    def lookup(self, token: str) -> str | Retired | None:
        """The category one value names (a code, label, alias, URI), if any."""
        token = token.strip()
        if "://" in token:  # …/activities-modified/AM40, …/activities-ica/ICA210
            token = token.rstrip("/").rsplit("/", 1)[-1]
        return self.keys.get(fold(token))

    def parse(self, cell: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """A cell's categories in its order (the first is the main one), the values that name
        no category, and (value, code) of those naming a retired one."""
        cell = str(cell or "")
        found = self._cells.get(cell)
        if found is None:
            found = self._parse(cell)
            if len(self._cells) < _CACHED_CELLS:
                self._cells[cell] = found
        codes, unknown, retired = found
        return list(codes), list(unknown), list(retired)

    def _parse(self, cell: str) -> tuple[tuple, tuple, tuple]:
        retired: list[tuple[str, str]] = []
        words: dict[Retired, str] = {}

        def lookup(token: str):
            found = self.lookup(token)
            if isinstance(found, Retired):
                words.setdefault(found, clean_text(token))
            return found

        matches, unknown = split_terms(cell, lookup)
        codes = [m for m in matches if isinstance(m, str)]
        retired = [(words[m], m.code) for m in dict.fromkeys(m for m in matches if isinstance(m, Retired))]
        return tuple(dict.fromkeys(codes)), tuple(clean_text(u) for u in unknown), tuple(retired)


@dataclass(frozen=True)
class _Theme:
    code: str
    labels: dict
    aliases: tuple
    essglobal: str
    retired: bool = False


@cache
def default_index() -> CategoryIndex:
    """The index of the ESSGLOBAL themes alone, for checks made without a catalogue."""
    return CategoryIndex.of([_Theme(t.code, t.labels, t.aliases, t.code) for t in vocab.themes()])
