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
import re
from dataclasses import dataclass, field

import sqlite_utils

from .. import icons, vocab
from ..text import fold, slugify
from ..translate import N_, Message
from . import audit
from .base import CatalogueError, now, write_transaction

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


# Staff changes to the tree (/admin/categories). Each runs in one transaction with its audit
# entry: ``category:<id>`` for a creation or an edit, ``category-retire:<id>`` for a
# retirement or a merge (with the organisations' categories before, for a restoration).

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LABEL_MAX = 100
ALIASES_MAX = 2000


class CategoryError(CatalogueError):
    """A category cannot be saved or changed so (the message says what to fix)."""


def get(db: sqlite_utils.Database, category_id: int) -> Category | None:
    """One category (retired or not) by id, with its children (retired ones too)."""
    found = [c for c in all_categories(db, retired=True) if c.id == category_id]
    if not found:
        return None
    found[0].children = [c for c in all_categories(db, retired=True) if c.parent_id == category_id]
    return found[0]


def usage(db: sqlite_utils.Database) -> dict[str, int]:
    """How many organisations (of any status) carry each category's code; a parent's code
    also under ``+code``: the organisations carrying it or any of its children, once each."""
    counts = dict(db.execute("SELECT theme, count(*) FROM organisation_themes GROUP BY theme").fetchall())
    for code, total in db.execute(
            "SELECT p.code, count(DISTINCT t.organisation_id) FROM categories p"
            " JOIN categories c ON c.id = p.id OR c.parent_id = p.id"
            " JOIN organisation_themes t ON t.theme = c.code WHERE p.parent_id IS NULL GROUP BY p.code"):
        counts["+" + code] = total
    return counts


def check(*, labels: dict[str, str], aliases: list[str], colour: str, icon: str,
          essglobal: str | None) -> dict:
    """The columns of a category as staff typed it, checked: at least one label, a colour
    written ``#rrggbb`` (kept in lower case), an icon of the set, a known ESSGLOBAL activity.
    Raises ``CategoryError`` saying what to fix."""
    labels = {lang: text for lang, text in labels.items() if lang in vocab.LANGUAGES and text}
    if not labels:
        raise CategoryError(Message(N_("label: give the category a name in at least one language")))
    for text in labels.values():
        if len(text) > LABEL_MAX:
            raise CategoryError(Message(N_("label: '%(label)s…' is too long (at most %(n)s characters)"),
                                        label=text[:30], n=LABEL_MAX))
    aliases = list(dict.fromkeys(a for a in aliases if a))
    if any("|" in a for a in aliases) or len("|".join(aliases)) > ALIASES_MAX:
        raise CategoryError(Message(N_("aliases: one name a line, without '|', at most %(n)s characters in all"),
                                    n=ALIASES_MAX))
    if not COLOUR.match(colour or ""):
        raise CategoryError(Message(N_("colour: '%(colour)s' is not a colour; write it as # and six hexadecimal"
                                       " digits, for example #1f6f8b"), colour=colour))
    if icon and not icons.exists(icon):
        raise CategoryError(Message(N_("icon: '%(icon)s' is not an icon of the set; pick one from the list,"
                                       " for example leaf"), icon=icon))
    if essglobal and essglobal not in {t.code for t in vocab.themes()}:
        raise CategoryError(Message(N_("ESSGLOBAL activity: '%(code)s' is not one of AM10…AM160"), code=essglobal))
    return {"labels": json.dumps(dict(sorted(labels.items())), ensure_ascii=False), "aliases": "|".join(aliases),
            "colour": colour.lower(), "icon": icon, "essglobal": essglobal or None}


def _clash(db: sqlite_utils.Database, values: dict, category_id: int | None = None) -> None:
    """Refuse a name or other name another category (not retired) already has, in any
    language or as its code: an import reading it could not tell which one is meant."""
    mine = {fold(n): n for n in [*json.loads(values["labels"]).values(), *values["aliases"].split("|")] if n}
    for other in all_categories(db):
        if other.id == category_id:
            continue
        for name in (*other.labels.values(), *other.aliases, other.code):
            if fold(name) in mine:
                raise CategoryError(Message(N_("'%(name)s' is already a name of the category %(other)s (%(code)s);"
                                               " an import could not tell them apart: choose another name or"
                                               " remove it there first"),
                                            name=mine[fold(name)], other=other.label(vocab.DEFAULT_LANGUAGE),
                                            code=other.code))


def _row(db: sqlite_utils.Database, category_id: int) -> dict | None:
    cursor = db.execute("SELECT * FROM categories WHERE id = ?", [category_id])
    columns = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    return dict(zip(columns, found)) if found else None


def _new_code(db: sqlite_utils.Database, labels: dict[str, str]) -> str:
    """A slug of the French, else English, else any label, unique among every code ever used."""
    base = slugify(labels.get("fr") or labels.get("en") or next(iter(labels.values())), fallback="category")[:54]
    base = base.rstrip("-") or "category"
    taken = {code.lower() for (code,) in db.execute("SELECT code FROM categories")}
    code, number = base, 2
    while code.lower() in taken:
        code, number = f"{base}-{number}", number + 1
    return code


def _top_level(db: sqlite_utils.Database, parent_id: int | None, moving: int | None = None) -> None:
    if parent_id is None:
        return
    parent = _row(db, parent_id)
    if parent is None or parent["retired_at"] is not None:
        raise CategoryError(Message(N_("parent: no such category")))
    if parent["parent_id"] is not None:
        raise CategoryError(Message(N_("parent: %(code)s is itself under another category; the tree has two levels"),
                                    code=parent["code"]))
    if moving is not None and (parent_id == moving or db.execute(
            "SELECT 1 FROM categories WHERE parent_id = ? AND retired_at IS NULL", [moving]).fetchone()):
        raise CategoryError(Message(N_("parent: a category with subcategories stays at the top level;"
                                       " move its subcategories first")))


def _end_of(db: sqlite_utils.Database, parent_id: int | None) -> int:
    return db.execute("SELECT coalesce(max(position) + 1, 0) FROM categories WHERE parent_id IS ?",
                      [parent_id]).fetchone()[0]


def create(db: sqlite_utils.Database, *, user_email: str, parent_id: int | None = None, **fields) -> int:
    """Add a category (``check``'s fields) at the end of its level, under a top-level
    ``parent_id`` or at the top; its code a slug of its label. Its id."""
    values = check(**fields)
    with write_transaction(db):
        _top_level(db, parent_id)
        _clash(db, values)
        stamp = now()
        code = _new_code(db, json.loads(values["labels"]))
        cursor = db.execute(
            "INSERT INTO categories (code, parent_id, position, labels, aliases, colour, icon, essglobal,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [code, parent_id, _end_of(db, parent_id), values["labels"], values["aliases"], values["colour"],
             values["icon"], values["essglobal"], stamp, stamp])
        category_id = cursor.lastrowid
        audit.record(db, user_email, f"category:{category_id}", None, None, {"category": _row(db, category_id)})
    return category_id


def update(db: sqlite_utils.Database, category_id: int, *, user_email: str, **fields) -> bool:
    """Change a category's labels, aliases, colour, icon and ESSGLOBAL activity (its code
    stays: organisations and addresses hold it). Whether anything changed."""
    values = check(**fields)
    with write_transaction(db):
        before = _row(db, category_id)
        if before is None:
            raise CategoryError(Message(N_("no such category")))
        if all(before[k] == v for k, v in values.items()):
            return False
        _clash(db, values, category_id)
        db.execute("UPDATE categories SET labels = ?, aliases = ?, colour = ?, icon = ?, essglobal = ?, updated_at = ?"
                   " WHERE id = ?", [values["labels"], values["aliases"], values["colour"], values["icon"],
                                     values["essglobal"], now(), category_id])
        audit.record(db, user_email, f"category:{category_id}", None, {"category": before},
                     {"category": _row(db, category_id)})
    return True


def _siblings(db: sqlite_utils.Database, parent_id: int | None) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM categories WHERE parent_id IS ? AND retired_at IS NULL"
                                     " ORDER BY position, id", [parent_id])]


def _renumber(db: sqlite_utils.Database, ids: list[int]) -> None:
    for position, category_id in enumerate(ids):
        db.execute("UPDATE categories SET position = ? WHERE id = ? AND position IS NOT ?",
                   [position, category_id, position])


def move(db: sqlite_utils.Database, category_id: int, *, user_email: str, step: int = 0,
         parent_id: int | None | bool = False) -> None:
    """Move a category ``step`` places within its level (-1 up, +1 down), or under another
    top-level ``parent_id`` (None: to the top level), at the end of it."""
    with write_transaction(db):
        before = _row(db, category_id)
        if before is None or before["retired_at"] is not None:
            raise CategoryError(Message(N_("no such category")))
        if parent_id is not False and parent_id != before["parent_id"]:
            _top_level(db, parent_id, moving=category_id)
            db.execute("UPDATE categories SET parent_id = ?, position = ?, updated_at = ? WHERE id = ?",
                       [parent_id, _end_of(db, parent_id), now(), category_id])
            _renumber(db, _siblings(db, before["parent_id"]))
        elif step:
            ids = _siblings(db, before["parent_id"])
            at = ids.index(category_id)
            to = max(0, min(len(ids) - 1, at + step))
            ids.insert(to, ids.pop(at))
            _renumber(db, ids)
        else:
            return
        audit.record(db, user_email, f"category:{category_id}", None, {"category": before},
                     {"category": _row(db, category_id)})


def _family(db: sqlite_utils.Database, category_id: int) -> list[dict]:
    """The category and its subcategories not retired."""
    first = _row(db, category_id)
    children = [_row(db, r[0]) for r in db.execute(
        "SELECT id FROM categories WHERE parent_id = ? AND retired_at IS NULL ORDER BY position, id", [category_id])]
    return [first, *children]


def retirement(db: sqlite_utils.Database, category_id: int) -> dict:
    """What retiring a category would touch: its subcategories (not retired) and how many
    organisations carry it or one of them."""
    family = _family(db, category_id)
    codes = [c["code"] for c in family]
    count = db.execute(f"SELECT count(DISTINCT organisation_id) FROM organisation_themes WHERE theme IN ({', '.join('?' * len(codes))})",  # nosec B608 # ? placeholders come from code
                       codes).fetchone()[0]
    children = [c for c in all_categories(db) if c.parent_id == category_id]
    return {"children": children, "organisations": count}


def retire(db: sqlite_utils.Database, category_id: int, *, user_email: str, into: int | None = None,
           merge: bool = False) -> int:
    """Retire a category with its subcategories; their organisations get category ``into``
    instead (their rank kept: what was their main category stays their main one; no
    organisation holds a category twice), or lose them when ``into`` is None. A merge of A
    into B is this, with B's subcategories untouched and A's subcategories moved under B
    when B is at the top level. How many organisations changed."""
    with write_transaction(db):
        first = _row(db, category_id)
        if first is None or first["retired_at"] is not None:
            raise CategoryError(Message(N_("no such category")))
        family = _family(db, category_id)
        target = _row(db, into) if into is not None else None
        if into is not None and (target is None or target["retired_at"] is not None
                                 or target["id"] in {c["id"] for c in family}):
            raise CategoryError(Message(N_("into: choose another category, not retired, outside the one retired")))
        moved_children = []
        if merge and target is not None and family[1:]:
            if target["parent_id"] is not None:
                raise CategoryError(Message(N_("into: %(code)s is a subcategory and %(from)s has subcategories;"
                                               " merge into a top-level category, or move them first"),
                                            code=target["code"], **{"from": first["code"]}))
            moved_children, family = family[1:], family[:1]
        codes = [c["code"] for c in family]
        marks = ", ".join("?" * len(codes))
        touched = [r[0] for r in db.execute(
            f"SELECT DISTINCT organisation_id FROM organisation_themes WHERE theme IN ({marks})", codes)]  # nosec B608 # ? placeholders come from code
        involved = codes + ([target["code"]] if target else [])
        rows = []
        for start in range(0, len(touched), 500):
            chunk = touched[start:start + 500]
            rows += [list(r) for r in db.execute(
                f"SELECT organisation_id, theme, rank FROM organisation_themes WHERE theme IN ({', '.join('?' * len(involved))})"  # nosec B608 # ? placeholders come from code
                f" AND organisation_id IN ({', '.join('?' * len(chunk))})", involved + chunk)]
        if target is not None:
            db.execute(f"INSERT INTO organisation_themes (organisation_id, theme, rank)"  # nosec B608 # ? placeholders come from code
                       f" SELECT organisation_id, ?, min(rank) FROM organisation_themes WHERE theme IN ({marks})"
                       " GROUP BY organisation_id ON CONFLICT (organisation_id, theme)"
                       " DO UPDATE SET rank = min(rank, excluded.rank)", [target["code"], *codes])
        db.execute(f"DELETE FROM organisation_themes WHERE theme IN ({marks})", codes)  # nosec B608 # ? placeholders come from code
        stamp = now()
        for child in moved_children:
            db.execute("UPDATE categories SET parent_id = ?, position = ?, updated_at = ? WHERE id = ?",
                       [target["id"], _end_of(db, target["id"]), stamp, child["id"]])
        for c in family:
            db.execute("UPDATE categories SET retired_at = ?, updated_at = ? WHERE id = ?", [stamp, stamp, c["id"]])
        _renumber(db, _siblings(db, first["parent_id"]))
        audit.record(db, user_email, f"category-retire:{category_id}", None,
                     {"categories": family, "children": moved_children, "codes": involved, "rows": rows},
                     {"into": target["code"] if target else None, "merge": merge, "organisations": len(touched)})
    return len(touched)


def retired(db: sqlite_utils.Database) -> list[Category]:
    """The retired categories staff may restore: those retired on their own or with their
    subcategories (a subcategory of a retired parent comes back with its parent)."""
    flat = all_categories(db, retired=True)
    gone = {c.id for c in flat if c.retired}
    return [c for c in flat if c.retired and c.parent_id not in gone]


def restore(db: sqlite_utils.Database, category_id: int, *, user_email: str) -> int:
    """Bring back a retired category, with what its retirement (or merge) took along: the
    subcategories retired with it, those moved elsewhere, and its organisations' categories
    as they were (for organisations still in the catalogue). How many organisations got it back."""
    with write_transaction(db):
        first = _row(db, category_id)
        if first is None or first["retired_at"] is None:
            raise CategoryError(Message(N_("no such retired category")))
        if first["parent_id"] is not None and (_row(db, first["parent_id"]) or {}).get("retired_at"):
            raise CategoryError(Message(N_("restore its parent first")))
        found = audit.entries(db, action=f"category-retire:{category_id}", limit=1)
        before = found[0]["before"] if found else {"categories": [first], "children": [], "codes": [], "rows": []}
        stamp = now()
        # At the end of its level, which may have been reordered since.
        db.execute("UPDATE categories SET retired_at = NULL, position = ?, updated_at = ? WHERE id = ?",
                   [_end_of(db, first["parent_id"]), stamp, category_id])
        for c in before["categories"][1:]:
            db.execute("UPDATE categories SET retired_at = NULL, updated_at = ? WHERE id = ?", [stamp, c["id"]])
        for c in before["children"]:
            db.execute("UPDATE categories SET parent_id = ?, position = ?, updated_at = ? WHERE id = ?",
                       [category_id, c["position"], stamp, c["id"]])
        orgs = sorted({r[0] for r in before["rows"]})
        codes = before["codes"]
        for start in range(0, len(orgs), 500):
            chunk = orgs[start:start + 500]
            db.execute(f"DELETE FROM organisation_themes WHERE theme IN ({', '.join('?' * len(codes))})"  # nosec B608 # ? placeholders come from code
                       f" AND organisation_id IN ({', '.join('?' * len(chunk))})", codes + chunk)
        db.conn.executemany("INSERT OR IGNORE INTO organisation_themes (organisation_id, theme, rank)"
                            " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM organisations WHERE id = ?)",
                            [(o, t, r, o) for o, t, r in before["rows"]])
        audit.record(db, user_email, f"category:{category_id}", None, {"category": first},
                     {"category": _row(db, category_id), "restored": len(orgs)})
    return len(orgs)


def create_from_import(db: sqlite_utils.Database, label: str, lang: str, user_email: str) -> str:
    """A new top-level category named ``label`` in ``lang``, with the default colour and no
    icon, made from a value an import did not know (``create``'s checks and audit entry).
    Its code; ``CategoryError`` saying what to fix."""
    category_id = create(db, user_email=user_email, labels={lang: label}, aliases=[], colour="#1f6f8b", icon="",
                         essglobal=None)
    return db.execute("SELECT code FROM categories WHERE id = ?", [category_id]).fetchone()[0]


def replacements(db: sqlite_utils.Database) -> dict[str, str]:
    """Retired categories' codes → the code of the category their organisations went to (a
    merge, or a retirement that moved them), as the audit log of the tree's changes says
    (``category-retire:<id>`` entries, see ``retire``); the latest wins. A category retired
    without a destination is not listed."""
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
