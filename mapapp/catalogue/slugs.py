"""Organisations' slugs, the last part of their public address (/organisations/<slug>).

A new organisation gets the first free one of: its name (``green-coop``); its name and city
(``green-coop-gent``, unless the name says the city already); that with a number
(``green-coop-gent-2``, ``-3``…). The same file imported into the same catalogue gives the
same slugs, however it is cut into chunks or batches and whichever process read it. A
slug never changes once given, so importing a file again changes none.

A slug is free when no organisation has it and none had it while it was published: the
change feed (``withdrawn_organisations``) told the world that address was withdrawn, and
links to it (bookmarks, other sites, e-mails) must not lead to a different organisation.
A slug of an organisation deleted before it was ever published (a draft, an import taken
back before publication) was never public and may be given again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache

import sqlite_utils

from ..text import slugify

MAX_LENGTH = 80
# At least this much of the name stays when the city is added to a long one.
_NAME_KEPT = 40


@lru_cache(maxsize=65_536)
def _place(city: str) -> str:
    return slugify(city, fallback="")


def slug_forms(name_slug: str, city: str | None) -> tuple[str, str]:
    """The slug of a name, and the form it takes when that is taken: with the city's slug
    (``green-coop`` → ``green-coop-gent``), or the same when the name holds the city already
    ("Garden Collective London") or there is no city to add. Pure: the process reading a
    large file works it out."""
    place = _place(city) if city else ""
    if not place or f"-{place}-" in f"-{name_slug}-":
        return name_slug, name_slug
    kept = name_slug[:max(_NAME_KEPT, MAX_LENGTH - len(place) - 1)].rstrip("-")
    return name_slug, f"{kept}-{place}"[:MAX_LENGTH].rstrip("-")


def _choices(name_slug: str, with_city: str) -> Iterator[str]:
    yield name_slug
    if with_city != name_slug:
        yield with_city
    n = 2
    while True:
        yield f"{with_city}-{n}"
        n += 1


def first_free(forms: tuple[str, str], in_use: Callable[[str], bool]) -> str:
    """The first of ``forms``' slugs (see the module) for which ``in_use`` says no."""
    return next(s for s in _choices(*forms) if not in_use(s))


def in_use(db: sqlite_utils.Database) -> Callable[[str], bool]:
    """Whether an organisation has this slug, or had it while published (one at a time:
    for an organisation saved from a form; imports use a ``Picker``)."""
    if not _has_change_feed(db):
        return lambda slug: db.execute("SELECT 1 FROM organisations WHERE slug = ?", [slug]).fetchone() is not None
    return lambda slug: db.execute(
        "SELECT EXISTS (SELECT 1 FROM organisations WHERE slug = ?)"
        " OR EXISTS (SELECT 1 FROM withdrawn_organisations WHERE slug = ?)", [slug, slug]).fetchone()[0] == 1


def retired(db: sqlite_utils.Database) -> set[str]:
    """Every slug that left the public map (see the module); those of organisations still
    stored are theirs anyway."""
    if not _has_change_feed(db):
        return set()
    return {r[0] for r in db.execute("SELECT DISTINCT slug FROM withdrawn_organisations")}


def _has_change_feed(db: sqlite_utils.Database) -> bool:
    # A catalogue written to part-way through its upgrade (as the upgrade's tests do) has
    # none before migration 19: nothing has been withdrawn that it knows of.
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'withdrawn_organisations'"
                      ).fetchone() is not None


class Picker:
    """Gives new organisations free slugs, in order, chunk after chunk of one import (call
    ``forget_retired`` before a chunk when others may have written since the last). Reads only
    the stored slugs these could collide with: each chunk's name and name-city forms in one
    query, then each numbered slug it is about to give (a name ending in a number, "Coop 2",
    may hold ``coop-2`` before any "Coop" comes); or, for a large load, every slug in use held
    once (``hold_all``). ``also_avoid``: more slugs never to give."""

    def __init__(self, db: sqlite_utils.Database, also_avoid=()):
        self.db, self.also_avoid = db, set(also_avoid)
        self.avoid: set[str] | None = None  # read at the first pick, inside the write transaction
        self.organisations_added = 0  # by the bulk_insert calls of this import (how its rows are noted)
        # name-city form → the number to try next: those below are taken, and stay taken
        # while the import runs (nothing it gave is deleted meanwhile; a deletion by someone
        # else only leaves a number unused).
        self.numbered: dict[str, int] = {}
        self.held: set[int] | None = None  # the hash of every slug in use, once ``hold_all`` read them
        self.held_to: int | None = None  # others may write: the last organisation whose slug is held
        self.held_version = 0  # ... and the catalogue's version when the change feed was last read

    def hold_all(self, *, others_may_write: bool = False) -> None:
        """Read every stored slug once, and answer from memory from then on (with the slugs
        given since): for a large load into a catalogue no larger than it (issue 31: a query per
        chunk and one per numbered slug took 3 s of a million rows). Their hashes are held, in
        half the memory of the text: a slug whose hash is held is given no one, so two
        organisations never share one (a collision of 64-bit hashes would at worst make one take
        its next form). ``others_may_write`` (an import committed in batches): each pick first
        reads the slugs of the organisations added since: with a larger id than any held (a new
        organisation's), or noted in the change feed since (one brought back with its old id, as
        the demo's undo does). An organisation's slug never changes."""
        self.held_version = self.db.execute("SELECT version FROM catalogue_version WHERE id = 1").fetchone()[0]
        self.held, newest = set(), 0
        for org_id, slug in self.db.conn.execute("SELECT id, slug FROM organisations"):
            self.held.add(hash(slug))
            newest = max(newest, org_id)
        self.held_to = newest if others_may_write else None

    def forget_retired(self) -> None:
        """Read the retired slugs again at the next pick (someone may have deleted a
        published organisation since the last)."""
        self.avoid = None

    def pick(self, forms: list[tuple[str, str]]) -> list[str]:
        """A free slug for each of ``forms`` (``slug_forms`` of each new organisation)."""
        if self.held is not None:
            return self._pick_held(forms)
        wanted = list({s for pair in forms for s in pair})
        taken: set[str] = set()
        for start in range(0, len(wanted), 50_000):
            taken.update(r[0] for r in self.db.conn.execute(
                "SELECT slug FROM organisations WHERE slug IN (SELECT value FROM json_each(?))",
                [json.dumps(wanted[start:start + 50_000])]))
        if self.avoid is None:
            self.avoid = retired(self.db) | self.also_avoid
        avoid, execute = self.avoid, self.db.conn.execute
        out = []
        for name_slug, with_city in forms:
            if name_slug not in taken and name_slug not in avoid:
                slug = name_slug
            elif with_city not in taken and with_city not in avoid:
                slug = with_city
            else:
                n = self.numbered.get(with_city, 2)
                while True:
                    slug = f"{with_city}-{n}"
                    if slug not in taken and slug not in avoid and execute(
                            "SELECT 1 FROM organisations WHERE slug = ?", [slug]).fetchone() is None:
                        break
                    n += 1
                self.numbered[with_city] = n + 1
            taken.add(slug)
            out.append(slug)
        return out

    def _pick_held(self, forms: list[tuple[str, str]]) -> list[str]:
        """``pick`` with every slug in use held in memory (see ``hold_all``)."""
        if self.avoid is None:
            self.avoid = retired(self.db) | self.also_avoid
        held, avoid, out = self.held, self.avoid, []
        if self.held_to is not None:  # what others (and this import's earlier batches) added since
            version = self.db.execute("SELECT version FROM catalogue_version WHERE id = 1").fetchone()[0]
            for org_id, slug in self.db.conn.execute(
                    "SELECT id, slug FROM organisations WHERE id > ? UNION ALL SELECT o.id, o.slug"
                    " FROM organisation_changes c JOIN organisations o ON o.id = c.organisation_id"
                    " WHERE c.version >= ?", [self.held_to, self.held_version]):
                held.add(hash(slug))
                self.held_to = max(self.held_to, org_id)
            self.held_version = version
        for name_slug, with_city in forms:
            if hash(name_slug) not in held and name_slug not in avoid:
                slug = name_slug
            elif hash(with_city) not in held and with_city not in avoid:
                slug = with_city
            else:
                n = self.numbered.get(with_city, 2)
                while hash(slug := f"{with_city}-{n}") in held or slug in avoid:
                    n += 1
                self.numbered[with_city] = n + 1
            held.add(hash(slug))
            out.append(slug)
        return out
