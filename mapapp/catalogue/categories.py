"""The network's category tree (migration 30): two levels of categories, each with a code
(what ``organisation_themes.theme`` holds and ``?theme=`` names), labels per language,
aliases imports recognise, a colour and an icon for the markers, and the ESSGLOBAL
activity it maps to.

A fresh catalogue gets the 16 ESSGLOBAL themes of data/vocab/themes.csv as its tree
(``seed_default``, run once when the schema is brought up to date); an upgraded one gets
them too, so the codes its organisations already carry keep their labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from .. import vocab
from .base import now, state_key, write_transaction

# The default tree's look: a colour (distinct for most colour-blind visitors too, with the
# icon telling them apart in any case) and an icon of the self-hosted Tabler set.
DEFAULT_LOOK = {
    "AM10": ("#8e44ad", "palette"), "AM20": ("#c0392b", "speakerphone"),
    "AM30": ("#d35400", "building-community"), "AM40": ("#2471a3", "school"),
    "AM50": ("#b7950b", "bolt"), "AM60": ("#ca6f1e", "tools-kitchen-2"),
    "AM70": ("#566573", "shopping-cart"), "AM80": ("#cb4335", "heart-handshake"),
    "AM90": ("#7d6608", "home"), "AM100": ("#1e8449", "coin"),
    "AM110": ("#117a65", "leaf"), "AM120": ("#148f77", "recycle"),
    "AM130": ("#6e2c00", "plant-2"), "AM140": ("#34495e", "building-factory-2"),
    "AM150": ("#1a5276", "droplet"), "AM160": ("#6c3483", "bus"),
}
_SEEDED = "categories_seeded"


@dataclass
class Category:
    """One category of the tree, as read."""

    id: int
    code: str
    parent_id: int | None
    position: int
    labels: dict[str, str]
    aliases: tuple[str, ...]
    colour: str
    icon: str
    essglobal: str | None
    retired: bool
    children: list[Category] = field(default_factory=list)

    def label(self, lang: str) -> str:
        """The label in ``lang``, else English, else any, else the code."""
        return (self.labels.get(lang) or self.labels.get(vocab.DEFAULT_LANGUAGE)
                or next(iter(self.labels.values()), "") or self.code)


def seed_default(db: sqlite_utils.Database) -> bool:
    """Give the catalogue the ESSGLOBAL themes as its tree, once (a catalogue that has run
    this keeps what its staff made of the tree, even an empty one). True if it ran now."""
    if db.execute("SELECT 1 FROM catalogue_meta WHERE key = ?", [_SEEDED]).fetchone():
        return False
    with write_transaction(db):
        if db.execute("SELECT 1 FROM catalogue_meta WHERE key = ?", [_SEEDED]).fetchone():
            return False
        stamp = now()
        known = {code for (code,) in db.execute("SELECT code FROM categories")}
        for position, term in enumerate(vocab.themes()):
            if term.code in known:
                continue
            colour, icon = DEFAULT_LOOK.get(term.code, ("#1f6f8b", ""))
            db.execute(
                "INSERT INTO categories (code, position, labels, aliases, colour, icon, essglobal, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [term.code, position, json.dumps(term.labels, ensure_ascii=False), "|".join(term.aliases),
                 colour, icon, term.code, stamp, stamp])
        db.execute("INSERT INTO catalogue_meta (key, value) VALUES (?, '1')", [_SEEDED])
    return True


def all_categories(db: sqlite_utils.Database, *, retired: bool = False) -> list[Category]:
    """Every category (retired ones too with ``retired``), parents before their children,
    each level in its order."""
    rows = db.execute(
        "SELECT c.id, c.code, c.parent_id, c.position, c.labels, c.aliases, c.colour, c.icon, c.essglobal,"
        " c.retired_at IS NOT NULL FROM categories c LEFT JOIN categories p ON p.id = c.parent_id"
        " ORDER BY coalesce(p.position, c.position), coalesce(p.id, c.id), c.parent_id IS NOT NULL, c.position, c.id"
    ).fetchall()
    out = [Category(r[0], r[1], r[2], r[3], json.loads(r[4]), tuple(a for a in r[5].split("|") if a), r[6], r[7],
                    r[8], bool(r[9])) for r in rows]
    return [c for c in out if retired or not c.retired]


def tree(db: sqlite_utils.Database, *, retired: bool = False) -> list[Category]:
    """The top-level categories in order, each with its ``children`` in order."""
    flat = all_categories(db, retired=retired)
    by_id = {c.id: c for c in flat}
    roots = []
    for c in flat:
        parent = by_id.get(c.parent_id) if c.parent_id is not None else None
        if parent is not None:
            parent.children.append(c)
        elif c.parent_id is None:
            roots.append(c)
    return roots


class Tree:
    """The tree as the filters, labels and exports read it: every category by code
    (retired ones too, so that an organisation still filed under one keeps its label),
    and the offered ones in order. Built once per catalogue state (``cached``)."""

    def __init__(self, roots: list[Category], everything: list[Category]):
        self.roots = [c for c in roots if not c.retired]
        self.offered_list = [c for root in self.roots for c in (root, *(k for k in root.children if not k.retired))]
        self.by_code = {c.code: c for c in [*everything, *self.offered_list]}
        self._folded = {c.code.casefold(): c.code for c in self.offered_list}
        self._by_id = {c.id: c for c in self.by_code.values()}
        codes = {c.id: c.code for c in everything}
        self.families: dict[str, list[str]] = {}  # a parent's code: its own and its children's (retired too)
        for c in everything:
            if c.parent_id in codes:
                self.families.setdefault(codes[c.parent_id], [codes[c.parent_id]]).append(c.code)

    def find(self, value: str) -> str | None:
        """The code of the offered category ``value`` names, whatever its case; None if none."""
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
        found = Tree(tree(db), all_categories(db, retired=True))
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = found
    return found
