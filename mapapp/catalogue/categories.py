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
from ..text import slugify
from . import audit
from .base import now, write_transaction

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


def create_from_import(db: sqlite_utils.Database, label: str, lang: str, user_email: str) -> str:
    """A new top-level category named ``label`` in ``lang`` (the default colour, no icon),
    made from a value an import did not know; its code is a slug of the label, unique.
    Audited. Returns the code."""
    stem = slugify(label, fallback="category")[:50].rstrip("-") or "category"
    with write_transaction(db):
        taken = {code.lower() for (code,) in db.execute("SELECT code FROM categories")}
        code, n = stem, 2
        while code.lower() in taken:
            code, n = f"{stem}-{n}", n + 1
        position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM categories WHERE parent_id IS NULL"
                              ).fetchone()[0]
        stamp = now()
        labels = {lang: label}
        db.execute("INSERT INTO categories (code, position, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                   [code, position, json.dumps(labels, ensure_ascii=False), stamp, stamp])
        audit.record(db, user_email, "category:create", None, None, {"code": code, "labels": labels})
    return code


def replacements(db: sqlite_utils.Database) -> dict[str, str]:
    """Retired categories' codes → the code of the category their organisations went to (a
    merge, or a retirement that moved them), as the audit log of the tree's changes says
    (``category-retire:<id>`` entries); the latest wins. A category retired without a
    destination is not listed."""
    found: dict[str, str] = {}
    for before, after in db.execute(
            "SELECT before, after FROM audit_log WHERE action >= 'category-retire:' AND action < 'category-retire;'"
            " ORDER BY id"):
        try:
            before, after = json.loads(before or "{}"), json.loads(after or "{}")
        except ValueError:
            continue
        into = isinstance(after, dict) and after.get("into")
        codes = before.get("codes") if isinstance(before, dict) else None
        for code in codes if isinstance(codes, list) else []:
            if isinstance(code, str) and isinstance(into, str) and code != into:
                found[code] = into
    return found
