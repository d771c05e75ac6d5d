"""The map's data layer: clusters, lists, facet counts and partners from in-memory numpy columns.

Scanning 100,000 rows in SQLite to cluster a Europe-wide view takes over 100 ms;
the same work on numpy columns takes a few. The columns hold every published
organisation (id, lat, lon, a name fingerprint, and for each filter value the bits
of its members, see ``pack``); when the catalogue's version moves they are patched
with the changed organisations, or read again. Every view, zoomed in or out, is
found in the columns; only the few points shown are then read from the catalogue
by id (the R*Tree serves the SQL paths, not this one).
"""

from __future__ import annotations

import logging
import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import catalogue, geo
from ..catalogue import categorytree
from ..catalogue import kinds as catalogue_kinds
from ..filters import KINDS, BBox, Filters
from ..kinds import BY_NAME, Categories
from ..text import sort_key
from . import levels, markers, snapshot
from .bits import count_bits, pack, positions, unpack  # noqa: F401 # pack, unpack: this module's names for them too
from .levels import mercator_y  # noqa: F401 # also this module's name for it (scripts, tests)

MAX_VIEW_PIXELS = (2560, 1600)  # a larger bbox is clustered as if seen from further away
POINT_LIMIT = 150  # zoomed in, up to this many organisations in view are shown one by one
POINTS_ZOOM = 13  # from this zoom on, a view with few organisations shows them all
MAX_ZOOM = 19
NAME_LENGTH = 48  # names are shortened in cluster answers; popups load the rest
# Read from each organisation's row (the others from their link tables): the kinds stored
# in a column, then those kept as bits like the filters but only counted, by the insights.
ROW_KINDS = catalogue_kinds.ROW_KINDS
logger = logging.getLogger(__name__)


def name_key(name: str) -> int:
    """A fingerprint of a name: the lists sort by its collation key, then by the name as
    written, so a changed fingerprint means the organisation's place must be found again."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass"))


@dataclass
class MapColumns:
    """Organisations as columns; ``live`` and ``facets[kind][value]`` hold bits (see
    ``pack``): of the published ones, and of those with that value. An organisation
    unpublished or deleted since the columns were read keeps its place, with no bit set."""

    version: int
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    merc_y: np.ndarray
    facets: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Positions in the lists' order (name, then id), as the SQL lists sort.
    name_order: np.ndarray | None = None
    live: np.ndarray | None = None
    names: np.ndarray | None = None  # ``name_key`` of each, to notice a renamed organisation
    # Full-text results per query: a visitor pans and zooms with the same search.
    searches: OrderedDict = field(default_factory=OrderedDict)
    # Request threads share the columns: the search cache changes under this lock.
    search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Every published organisation summed per cell at the low zooms (see ``levels.zoom_level``).
    levels: dict = field(default_factory=dict, repr=False)
    # True: ``levels`` are being summed by a thread (see ``MapIndex``); a view at a zoom not
    # summed yet is clustered from its points (the same answer) rather than waiting for them.
    levels_later: bool = field(default=False, repr=False)
    # The low zooms of the columns these were patched from, and what changed, for the zooms
    # not patched yet (``levels.zoom_level`` patches one when asked; see ``levels.patch_levels``).
    level_patch: tuple | None = field(default=None, repr=False)
    level_locks: dict = field(default_factory=dict, repr=False)
    # Each organisation's main category, as an index into ``palette`` (0: none; see ``markers``).
    category: np.ndarray | None = None
    palette: markers.Palette | None = None
    # Bits of the organisations with a point (see ``located_bits``), and the whole map's
    # count of each main category (see ``category_counts``): worked out on first use.
    located: np.ndarray | None = field(default=None, repr=False)
    legend_counts: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.ids)


def load(db: sqlite_utils.Database) -> MapColumns:
    """Read the columns from the catalogue, a row at a time into arrays, then each filter
    value's members through its index (so that a million organisations need no more
    than their arrays in memory)."""
    version = catalogue.version(db)
    n, rows = catalogue.iter_map_rows(db)
    ids = np.empty(n, dtype=np.int64)
    lat = np.empty(n, dtype=np.float64)
    lon = np.empty(n, dtype=np.float64)
    names = np.empty(n, dtype=np.uint32)
    codes: dict[str, dict[str, int]] = {kind: {} for kind in ROW_KINDS}
    coded = {kind: np.zeros(n, dtype=np.int32) for kind in ROW_KINDS}
    row_columns = [(coded[kind], codes[kind]) for kind in ROW_KINDS]
    count = 0
    for i, (org_id, la, lo, name, *values) in enumerate(rows):
        if i >= n:
            break  # published meanwhile: the next request patches it in
        ids[i], names[i] = org_id, name_key(name)
        lat[i] = np.nan if la is None else la
        lon[i] = np.nan if lo is None else lo
        for (column, numbers), value in zip(row_columns, values):
            column[i] = numbers.setdefault(value, len(numbers))
        count = i + 1
    ids, lat, lon, names = (a[:count] for a in (ids, lat, lon, names))
    n = count
    facets: dict[str, dict[str, np.ndarray]] = {kind: {} for kind in (*KINDS, *ROW_KINDS)}
    for kind, column in coded.items():
        column = column[:count]
        for value, code in codes[kind].items():
            if value:
                facets[kind][value] = pack(column == code)
    for kind, value, members in catalogue.member_lists(db):
        org_ids = np.fromiter((r[0] for r in members), dtype=np.int64)
        if not len(org_ids):
            continue
        positions = np.searchsorted(ids, org_ids)
        positions = positions[(positions < n) & (ids[np.minimum(positions, n - 1)] == org_ids)] if n else positions[:0]
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        facets.setdefault(kind, {})[value] = pack(mask)  # a filter field's kind is new here
    colours = markers.palette(db)
    return MapColumns(version, ids, lat, lon, mercator_y(lat), facets, name_order=_name_order(db, ids),
                      live=pack(np.ones(n, dtype=bool)), names=names,
                      category=markers.main_categories(db, ids, colours), palette=colours)


def _name_order(db: sqlite_utils.Database, ids: np.ndarray) -> np.ndarray:
    """Positions in ``ids`` in the lists' order; an organisation published since ``ids``
    were read is left out (the next patch adds it)."""
    ordered = np.array(catalogue.map_name_order(db), dtype=np.int64)
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    positions = np.searchsorted(ids, ordered)
    inside = positions < len(ids)
    positions, ordered = positions[inside], ordered[inside]
    return positions[ids[positions] == ordered]


MAX_CHANGES = 5_000  # past this many changed organisations, the columns are read again


def apply_changes(columns: MapColumns, db: sqlite_utils.Database, version: int) -> MapColumns | None:
    """New columns at ``version``: ``columns`` with the organisations changed since they
    were read patched in (copies of the arrays they touch; request threads may still be
    reading the old ones). None when a full read is needed (too many changes, a project
    or visit changed, a bulk import)."""
    changed = catalogue.changed_since(db, columns.version, MAX_CHANGES)
    if changed is None:
        return None
    rows = {r[0]: r for r in catalogue.map_rows(db, changed)}
    memberships: dict[int, set[tuple[str, str]]] = {i: set() for i in rows}
    for kind, value, org_id in catalogue.map_memberships(db, list(rows)):
        memberships[org_id].add((kind, value))
    ids, lat, lon = columns.ids, columns.lat, columns.lon
    live, names, category = columns.live.copy(), columns.names, columns.category
    new_ids = np.array(sorted(i for i in rows if not _position(ids, i)[1]), dtype=np.int64)
    new_set = set(new_ids.tolist())
    old_size, at = len(ids), np.searchsorted(ids, new_ids)
    # Published since (or again): placed where their ids sort, since every lookup by id
    # searches ``ids``. New ones come last; an older draft published moves the positions
    # after it, and the bits of every value move with them.
    moved = bool(len(at)) and int(at[0]) < old_size
    merc_y = columns.merc_y
    if len(at):
        ids = np.insert(ids, at, new_ids)
        lat, lon = np.insert(lat, at, np.nan), np.insert(lon, at, np.nan)
        # Patched too, not computed again: a million logarithms took 0.44 s of a one-row import's patch.
        merc_y = np.insert(merc_y, at, np.nan)
        names = np.insert(names, at, np.zeros(len(at), dtype=np.uint32))
        category = np.insert(category, at, np.zeros(len(at), dtype=np.uint16))  # a copy: patched below
    else:  # copies of what is patched below (a plain copy: np.insert of nothing took twice as long)
        lat, lon, merc_y, category = lat.copy(), lon.copy(), merc_y.copy(), category.copy()
    names_copied = bool(len(at))
    main = markers.categories_of(db, list(rows), columns.palette)
    words = -(-len(ids) // 64)

    def placed(bits: np.ndarray) -> np.ndarray:
        if moved:
            return pack(np.insert(unpack(bits, old_size), at, False))
        return _widened(bits, words)

    facets = {kind: {value: placed(bits) for value, bits in values.items()}
              for kind, values in columns.facets.items()}
    live = placed(live)
    reorder = bool(len(new_ids))
    placed_anew: dict[int, str] = {}  # published organisations whose place in the lists' order changes
    copied: set[tuple[str, str]] = set()
    for org_id in changed:
        pos, present = _position(ids, org_id)
        if not present:
            continue  # neither in the columns nor published: nothing to show
        row = rows.get(org_id)
        word, bit = pos // 64, np.uint64(1 << (pos % 64))
        wanted = set()
        if row is None:
            live[word] &= ~bit
        else:
            live[word] |= bit
            lat[pos] = np.nan if row[1] is None else row[1]
            lon[pos] = np.nan if row[2] is None else row[2]
            merc_y[pos] = mercator_y(lat[pos])
            category[pos] = main[org_id]
            key = name_key(row[3])
            if names[pos] != key:
                if not names_copied:
                    names, names_copied = names.copy(), True
                names[pos], reorder = key, True
                placed_anew[org_id] = row[3]
            wanted = set(zip(ROW_KINDS, row[4:])) | memberships.get(org_id, set())
            wanted = {(k, v) for k, v in wanted if v}
        # A new organisation has no bit set yet: only its own values are visited (not every
        # value of every kind, a thousand times over for a 1,000-row import).
        visited = ((kind, facets[kind]) for kind in {k for k, _v in wanted} if kind in facets) \
            if org_id in new_set else facets.items()
        for kind, values in visited:
            for value, bits in list(values.items()) if org_id not in new_set else \
                    [(v, values[v]) for k, v in wanted if k == kind and v in values]:
                has = bool(bits[word] & bit)
                if has != ((kind, value) in wanted):
                    if (kind, value) not in copied and bits is columns.facets.get(kind, {}).get(value):
                        bits = values[value] = bits.copy()
                        copied.add((kind, value))
                    if has:
                        bits[word] &= ~bit
                    else:
                        bits[word] |= bit
        for kind, value in wanted:
            if value not in facets.setdefault(kind, {}):  # a value no published organisation had
                facets[kind][value] = np.zeros(words, dtype=np.uint64)
                facets[kind][value][word] |= bit
                copied.add((kind, value))
    name_order = columns.name_order
    if reorder:
        name_order = _placed_in_order(db, columns.name_order, ids, at if moved else None, placed_anew)
        if name_order is None:
            name_order = _name_order(db, ids)
    patched = MapColumns(version, ids, lat, lon, merc_y, facets, name_order=name_order, live=live, names=names,
                         category=category, palette=columns.palette)
    levels.patch_levels(columns, patched, changed, at if moved else None)
    return patched


NAMES_PLACED = MAX_CHANGES  # up to this many new or renamed organisations are placed in the lists' order one by one


def _placed_in_order(db: sqlite_utils.Database, order: np.ndarray, ids: np.ndarray, inserted_at: np.ndarray | None,
                     placed: dict[int, str]) -> np.ndarray | None:
    """The lists' order (positions in ``ids``) with the organisations of ``placed`` (id:
    name; new or renamed) taken out and put back where their names now sort: each before
    the organisation that follows it in the catalogue's index (a few rows read each,
    instead of the million ids of ``_name_order``: a one-row import at a million costs
    milliseconds, not a third of a second). ``inserted_at``: where new ids were inserted
    among the old ones (positions after them moved). None: too many to place one by one,
    or a neighbour not in the columns (the caller reads the whole order)."""
    if len(placed) > NAMES_PLACED:
        return None
    order = np.asarray(order, dtype=np.int64)
    if inserted_at is not None:
        order = order + np.searchsorted(inserted_at, order, side="right")
    positions = {org_id: _position(ids, org_id)[0] for org_id in placed}
    taken = np.zeros(len(ids), dtype=bool)
    taken[np.fromiter(positions.values(), dtype=np.int64)] = True
    order = order[~taken[order]]
    # In the lists' order among themselves (SQLite compares the keys and names as bytes, which
    # is Python's code point order), so that those placed before the same neighbour keep it.
    ordered = sorted(placed.items(), key=lambda item: (sort_key(item[1]), item[1], item[0]))
    # The last first: the organisation that follows one is either not placed (its neighbour),
    # or placed and already resolved to its own neighbour (one row read each, however many).
    following: dict[int, int | None] = {}
    for org_id, name in reversed(ordered):
        after = catalogue.map_name_following(db, name, org_id, set())
        if after in placed and after not in following:
            return None  # not in the order this sorted them: the whole order is read
        following[org_id] = following[after] if after in placed else after
    neighbours = {org_id: _position(ids, after) for org_id, after in following.items() if after is not None}
    if not all(present for _pos, present in neighbours.values()):
        return None
    wanted = np.zeros(len(ids), dtype=bool)
    wanted[[pos for pos, _present in neighbours.values()]] = True
    hits = np.flatnonzero(wanted[order])  # where the neighbours are in ``order`` (a flag read each, no sort)
    rank = dict(zip(order[hits].tolist(), hits.tolist()))
    before = []
    for org_id, _name in ordered:
        if following[org_id] is None:
            before.append(len(order))
            continue
        if neighbours[org_id][0] not in rank:
            return None
        before.append(rank[neighbours[org_id][0]])
    values = [positions[org_id] for org_id, _name in ordered]
    return np.insert(order, np.array(before, dtype=np.int64), np.array(values, dtype=np.int64))


def _position(ids: np.ndarray, org_id: int) -> tuple[int, bool]:
    pos = int(np.searchsorted(ids, org_id))
    return pos, pos < len(ids) and int(ids[pos]) == org_id


def _widened(bits: np.ndarray, words: int) -> np.ndarray:
    if len(bits) >= words:
        return bits
    return np.concatenate([bits, np.zeros(words - len(bits), dtype=np.uint64)])


# Below this many organisations a read takes under a second: it is done in the request that
# needs it, so that a change (a visit created, a project renamed) shows at once.
BACKGROUND_FROM = 50_000


class MapIndex:
    """The current columns of one process: patched with the changed organisations when
    the catalogue's version moves, read again when too much changed. With a
    ``directory``, the columns read at a version are kept there as memory-mapped files
    that every worker process shares (one copy in memory, built by one of them).

    With ``background`` (the web), a read again after a large change (a large import, a
    project renamed) happens in a thread of this process (the snapshot itself in a separate
    process from ``snapshot.SEPARATE_PROCESS_FROM`` organisations) while the columns this
    process has keep answering; the new ones, their low zooms summed, replace them when
    ready. Only a process with no columns of this catalogue's lineage waits for a read."""

    def __init__(self, directory: Path | None = None, *, background: bool = False):
        # (lineage, state key, columns): one value, so that a request thread never pairs one
        # state's key with another's columns. The key is "" when the columns were read at a
        # newer version than the state taken before reading (a write came in between).
        self._current: tuple[str, str, MapColumns] | None = None
        self._lock = threading.Lock()
        self._directory = directory
        self._background = background
        self._stale_for = ""  # the state key for which the columns kept are served while a read runs
        self._reading: threading.Thread | None = None
        self.reads = 0  # reads done in the background (tests and the benchmark count them)

    def get(self, db: sqlite_utils.Database) -> MapColumns:
        """The columns matching the catalogue's current state (``catalogue.State``): patched
        when it moved on in the same lineage, read again when the file is another one (a
        restored backup, even at the same version number). With ``background``, columns
        older than the state while they are read again (see the class)."""
        state = catalogue.state(db)
        current = self._current
        if current is not None and state.key in (current[1], self._stale_for):
            return current[2]
        with self._lock:
            current = self._current
            if current is not None and state.key in (current[1], self._stale_for):
                return current[2]
            lineage, key, columns = current or ("", "", None)
            same = columns is not None and lineage == state.lineage
            if same and columns.version == state.version and not key:
                patched = columns  # read at this very version, after the state last taken
            elif same and columns.version < state.version:
                patched = apply_changes(columns, db, state.version)
            else:
                patched = None
            if patched is None and same and self._read_later(db, columns.size):
                self._stale_for = state.key
                return columns
            if patched is None and not same and self._background and self._directory is not None:
                kept = snapshot.latest(self._directory, db)  # a fresh process: the newest kept, patched
                if kept is not None:
                    patched = kept if kept.version == state.version else apply_changes(kept, db, state.version)
                    if patched is None and self._read_later(db, kept.size):
                        self._current, self._stale_for = (state.lineage, "", kept), state.key
                        self._sum_later(kept)
                        return kept
            columns = patched or self._read(db)
            self._current = (state.lineage, state.key if columns.version == state.version else "", columns)
            self._stale_for = ""
            if self._background:
                self._sum_later(columns)
            return columns

    @staticmethod
    def _sum_later(columns: MapColumns) -> None:
        """Sum the low zooms of new columns in a thread (a million points: about half a second
        each under load), so that the first view after an edit or a worker's start need not."""
        if len(columns.levels) > levels.LEVELS_MAX_ZOOM:
            return
        columns.levels_later = True

        def summed() -> None:
            try:
                for zoom in range(levels.LEVELS_MAX_ZOOM + 1):
                    levels.zoom_level(columns, zoom)
            finally:
                columns.levels_later = False

        threading.Thread(target=summed, name="mapapp-map-levels", daemon=True).start()

    def _read_later(self, db: sqlite_utils.Database, size: int) -> bool:
        """Start reading the columns again in a thread (unless one runs); False when this
        index reads in the foreground, the columns are small (``BACKGROUND_FROM``), or the
        catalogue has no file another connection can open."""
        if not self._background or size < BACKGROUND_FROM:
            return False
        path = db.execute("PRAGMA database_list").fetchone()[2]
        if not path:
            return False
        if self._reading is None or not self._reading.is_alive():
            self._reading = threading.Thread(target=self._read_in_background, args=(path,),
                                             name="mapapp-map-read", daemon=True)
            self._reading.start()
        return True

    def _read_in_background(self, path: str) -> None:
        try:
            own = catalogue.connect(path, upgrade=False)
        except Exception:  # noqa: BLE001 # the next request tries again
            logger.exception("map columns: cannot open the catalogue to read them again")
            with self._lock:
                self._stale_for = ""
            return
        try:
            state = catalogue.state(own)
            columns = self._read(own)
            for zoom in range(levels.LEVELS_MAX_ZOOM + 1):  # the first views after the swap find them summed
                levels.zoom_level(columns, zoom)
            with self._lock:
                current = self._current
                if current is None or current[0] != state.lineage or current[2].version <= columns.version:
                    self._current = (state.lineage, state.key if columns.version == state.version else "", columns)
                self._stale_for = ""
                self.reads += 1
        except Exception:  # noqa: BLE001 # logged; the next request starts another read
            logger.exception("map columns: reading them again failed")
            with self._lock:
                self._stale_for = ""
        finally:
            own.close()

    def wait(self, timeout: float | None = None) -> None:
        """Until the read in the background (if any) ended (tests, the benchmark)."""
        reading = self._reading
        if reading is not None:
            reading.join(timeout)

    def _read(self, db: sqlite_utils.Database) -> MapColumns:
        if self._directory is None:
            return load(db)
        kept = snapshot.latest(self._directory, db)
        if kept is not None:
            version = catalogue.version(db)
            patched = kept if kept.version == version else apply_changes(kept, db, version)
            if patched is not None:
                return patched
        return snapshot.build(self._directory, db, load)


def selection(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *,
              without: str | None = None) -> np.ndarray:
    """Boolean mask of the organisations matching ``filters`` (bbox aside); ``without``
    leaves out one kind, for its facet counts."""
    return unpack(selection_bits(columns, filters, db, without=without), columns.size)


# The kinds whose values are the category tree: a parent's members are its own and its
# children's, ORed when asked (the columns hold each category's own, whatever the tree).
_TREE_KINDS = frozenset(k.name for k in BY_NAME.values() if isinstance(k.vocabulary, Categories))


def _families(kind: str, db: sqlite_utils.Database) -> dict[str, list[str]]:
    return categorytree.cached(db).families if kind in _TREE_KINDS else {}


def _members(columns: MapColumns, kind: str, value: str, families: dict[str, list[str]]) -> np.ndarray | None:
    """The bits of the organisations with ``value`` of ``kind`` (a parent category: or any
    of its children's); None when none has it."""
    hits = [bits for bits in (columns.facets.get(kind, {}).get(v) for v in families.get(value, (value,))) if bits is not None]
    if len(hits) < 2:
        return hits[0] if hits else None
    return np.bitwise_or.reduce(hits)


def selection_bits(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *,
                   without: str | None = None) -> np.ndarray:
    """``selection`` as bits (see ``pack``)."""
    words = -(-columns.size // 64)
    bits = columns.live.copy()
    for kind in (*KINDS, *(k.name for k, _values in filters.extra)):
        values = filters.values(kind)
        if not values or kind == without:
            continue
        either = np.zeros(words, dtype=np.uint64)
        families = _families(kind, db)
        for value in values:
            hit = _members(columns, kind, value, families)
            if hit is not None:
                either |= hit
        bits &= either
    if filters.q:
        bits &= search_bits(columns, filters.q, db)
    return bits


SEARCHES_KEPT = 64


def search_bits(columns: MapColumns, text: str, db: sqlite_utils.Database) -> np.ndarray:
    """Bits of the organisations matching a full-text search (cached per columns)."""
    with columns.search_lock:
        found = columns.searches.get(text)
        if found is not None:
            columns.searches.move_to_end(text)
            return found
    ids = np.array(catalogue.search_ids(db, text), dtype=np.int64)  # outside the lock: it may be slow
    positions = np.searchsorted(columns.ids, ids)
    inside = positions < columns.size
    positions, ids = positions[inside], ids[inside]
    mask = np.zeros(columns.size, dtype=bool)
    mask[positions[columns.ids[positions] == ids]] = True  # drafts are not in the columns
    found = pack(mask)
    with columns.search_lock:
        columns.searches[text] = found
        columns.searches.move_to_end(text)
        while len(columns.searches) > SEARCHES_KEPT:
            columns.searches.popitem(last=False)
    return found


def in_bbox(columns: MapColumns, bbox: BBox | None) -> np.ndarray:
    """Mask of the located organisations inside ``bbox`` (every located one if None)."""
    with np.errstate(invalid="ignore"):
        if bbox is None:
            return ~np.isnan(columns.lat)
        return ((columns.lat >= bbox.min_lat) & (columns.lat <= bbox.max_lat)
                & (columns.lon >= bbox.min_lon) & (columns.lon <= bbox.max_lon))


def selects_any(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, org_ids: list[int]) -> bool:
    """Whether ``filters`` (bbox included) select any of the published ``org_ids``: a few
    organisations looked up in the selection's bits, not a mask of the million."""
    ids = np.asarray(org_ids, dtype=np.int64)
    positions = np.searchsorted(columns.ids, ids)
    inside = positions < columns.size
    positions, ids = positions[inside], ids[inside]
    positions = positions[columns.ids[positions] == ids]
    if not positions.size:
        return False
    bits = selection_bits(columns, filters, db)
    positions = positions[((bits[positions >> 6] >> (positions & 63).astype(np.uint64)) & np.uint64(1)) == 1]
    if filters.bbox is not None and positions.size:
        box, lat, lon = filters.bbox, columns.lat[positions], columns.lon[positions]
        with np.errstate(invalid="ignore"):
            positions = positions[(lat >= box.min_lat) & (lat <= box.max_lat) & (lon >= box.min_lon) & (lon <= box.max_lon)]
    return bool(positions.size)


def listing(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *, limit: int, offset: int = 0,
            located_only: bool = False) -> tuple[int, list[int]]:
    """How many published organisations match ``filters`` (bbox included), and the ids of
    the ``limit`` from ``offset`` in the lists' order: what ``count_organisations`` and
    ``find_organisations`` answer, from the columns (a million rows sorted by SQLite take
    seconds; this, milliseconds)."""
    mask = _matching(columns, filters, db, located_only)
    positions = _first_in_order(columns.name_order, mask, offset + limit)
    return int(np.count_nonzero(mask)), columns.ids[positions[offset:]].tolist()


def _first_in_order(order: np.ndarray, mask: np.ndarray, want: int) -> np.ndarray:
    """The first ``want`` positions of ``order`` where ``mask`` holds, reading ``order`` a
    block at a time: the first page of a broad selection is in the first block, and only
    a narrow one or a deep page reads further (blocks growing fourfold)."""
    found, n, start, block = [], 0, 0, max(4096, 4 * want)
    while start < order.size and n < want:
        part = order[start:start + block]
        hits = part[mask[part]]
        found.append(hits)
        n += hits.size
        start += block
        block *= 4
    return np.concatenate(found)[:want] if found else order[:0]


def _matching(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, located_only: bool) -> np.ndarray:
    mask = selection(columns, filters, db)
    if filters.bbox is not None or located_only:
        mask &= in_bbox(columns, filters.bbox)
    return mask


def facet_counts(columns: MapColumns, filters: Filters, db: sqlite_utils.Database) -> dict:
    """For each kind, how many organisations each value would give with the other
    filters kept (OR within a kind, AND across kinds)."""
    counts: dict[str, dict[str, int]] = {}
    full = None  # the selection itself: the base of every kind that is not filtered
    field_kinds = [k for k in columns.facets if k.startswith("f-")]  # the filter fields' (``f-<slug>``)
    for kind in (*KINDS, *field_kinds):
        if filters.values(kind):
            base = selection_bits(columns, filters, db, without=kind)
        else:
            if full is None:
                full = selection_bits(columns, filters, db)
            base = full
        counts[kind] = {value: count_bits(base & bits) for value, bits in columns.facets.get(kind, {}).items()}
        for parent, family in _families(kind, db).items():  # each organisation of a family once
            hit = _members(columns, kind, parent, {parent: family})
            counts[kind][parent] = count_bits(base & hit) if hit is not None else 0
    return counts


def category_counts(columns: MapColumns, filters: Filters, db: sqlite_utils.Database) -> np.ndarray:
    """How many organisations of the selection have each category of the palette as their
    main one (index 0: no category). The whole map's (the map page's legend, whatever the
    visitor's filters) is counted once per columns: 20 ms at 3,000,000."""
    everyone = not filters.to_args()
    if everyone and columns.legend_counts is not None:
        return columns.legend_counts
    chosen = np.asarray(columns.category)[positions(selection_bits(columns, filters, db), columns.size)]
    counts = np.bincount(chosen, minlength=len(columns.palette.codes) + 1)
    if everyone:
        columns.legend_counts = counts
    return counts


def located_bits(columns: MapColumns) -> np.ndarray:
    """Bits of the organisations (published or not) that have a point, worked out once per
    columns (a pass over their latitudes: a millisecond at 3,000,000)."""
    found = columns.located
    if found is None:
        found = columns.located = pack(~np.isnan(columns.lat))
    return found


def selection_bounds(columns: MapColumns, bits: np.ndarray) -> list[float] | None:
    """``[min_lon, min_lat, max_lon, max_lat]`` of the located organisations of ``bits`` (a
    ``selection_bits``): from their positions (the points of a filter, not a mask of the
    millions indexed four times: 40 ms at 3,000,000 for a country), or, when they are every
    published point, from the lowest zoom's cells already summed."""
    chosen = bits & located_bits(columns)
    count = count_bits(chosen)
    if not count:
        return None
    summed = columns.levels.get(0)
    if summed is not None and count == count_bits(columns.live & located_bits(columns)):
        sums = summed.sums  # every published point, each cell's bounds: theirs are the extremes
        return [float(np.min(sums.west)), float(np.min(sums.south)), float(np.max(sums.east)), float(np.max(sums.north))]
    at = positions(chosen, columns.size)
    lat, lon = np.asarray(columns.lat)[at], np.asarray(columns.lon)[at]
    return [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]


def clusters(columns: MapColumns, mask: np.ndarray | None, bbox: BBox | None, zoom: int,
             db: sqlite_utils.Database, *, everything: bool = False, stale_before: str | None = None,
             bits: np.ndarray | None = None) -> dict:
    """Clusters (count, centre, bounds) and single organisations in view at ``zoom``.

    Zoomed in (``POINTS_ZOOM``) with at most ``POINT_LIMIT`` organisations in view, or
    at the highest zoom, they are all returned as points; otherwise organisations
    alone in their cell come as points and the others as clusters. ``everything``: the
    mask selects every published organisation (no filter), and a low-zoom view reads
    its cells from sums made once per version of the columns. The selection is ``mask``
    (booleans), or ``bits`` (``selection_bits``); every published organisation when neither.
    A point is marked stale (its last check before ``stale_before``) so that the map can fade it.
    """
    bounded = _bounded_zoom(bbox, zoom)
    if (everything and bbox is not None and bounded <= levels.LEVELS_MAX_ZOOM and bounded < POINTS_ZOOM
            and (levels.has_level(columns, bounded) or not columns.levels_later)):
        cells, total = levels.cells_from_level(columns, bbox, bounded)
        return _answer(columns, cells, total, 256 * 2 ** bounded, db, stale_before)
    if bits is None:
        bits = columns.live if mask is None else pack(mask)
    if bounded <= POINTS_FIRST_ZOOM or count_bits(bits) * 32 <= columns.size:
        positions, lat, lon = _in_view(columns, bits, bbox)
    else:  # a small view of a broad selection: compared over every point, few read
        positions = np.flatnonzero((unpack(bits, columns.size) if mask is None else mask) & in_bbox(columns, bbox))
        lat, lon = np.asarray(columns.lat)[positions], np.asarray(columns.lon)[positions]
    total = len(positions)
    if total == 0:
        return {"total": 0, "clusters": [], "points": []}
    zoom = bounded
    if (zoom >= POINTS_ZOOM and total <= POINT_LIMIT) or zoom >= MAX_ZOOM:
        chosen = columns.ids[positions]
        return {"total": total, "clusters": [], "points": _points(columns, db, chosen.tolist(), stale_before)}
    world = 256 * 2 ** zoom
    cell_lon, cell_y = levels.cell_size(zoom)
    cx = np.floor((lon + 180.0) / cell_lon).astype(np.int64)  # ``levels.grid``, from the coordinates already read
    cy = np.floor(np.asarray(columns.merc_y)[positions] / cell_y).astype(np.int64)
    # The view holds a few hundred cells (its zoom is bounded): numbered densely, they fit
    # 16 bits, which numpy's stable sort orders in one pass (a radix sort).
    cx -= cx.min()
    cy -= cy.min()
    cell = cx * (int(cy.max()) + 1) + cy
    # Each cell's mix of categories counted in one pass over the points, in the columns' order
    # (a table per cell number: a few hundred of them, as the zoom is bounded).
    mixes = None
    if cell.max() < 1 << 16:
        mixes = markers.mix(cell, columns.palette.top[np.asarray(columns.category)[positions]], int(cell.max()) + 1,
                            columns.palette)
        cell = cell.astype(np.uint16)
    by_cell = np.argsort(cell, kind="stable")
    if mixes is None:
        sums = levels.summed(columns, positions[by_cell], cell[by_cell], lat=lat[by_cell], lon=lon[by_cell])[1]
    else:  # only each cell's first point needs its position: not every point's reordered
        sums = levels.summed(columns, by_cell, cell[by_cell], lat=lat[by_cell], lon=lon[by_cell], mixes=mixes)[1]
        sums.first = positions[sums.first]
    cells = sums.cells(columns.ids)
    return _answer(columns, cells, total, world, db, stale_before)


# Up to this zoom a view holds most of the selection's points: they are read first and
# compared with the view, rather than every organisation's point (a filter keeping a quarter
# of 3,000,000: 40 ms instead of 45-120 ms at zoom 2-5). Zoomed in, or with a selection of
# more than a thirty-second of everyone, the view is compared over every point first.
POINTS_FIRST_ZOOM = 6


def _in_view(columns: MapColumns, bits: np.ndarray, bbox: BBox | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions of the located organisations of ``bits`` inside ``bbox`` (every located
    one if None), with their latitudes and longitudes: only the selection's points are read
    and compared (a filter keeps a fraction of the millions; its mask is never made)."""
    at = positions(bits & located_bits(columns), columns.size)
    lat, lon = np.asarray(columns.lat)[at], np.asarray(columns.lon)[at]
    if bbox is not None:
        inside = (lat >= bbox.min_lat) & (lat <= bbox.max_lat) & (lon >= bbox.min_lon) & (lon <= bbox.max_lon)
        if not inside.all():
            at, lat, lon = at[inside], lat[inside], lon[inside]
    return at, lat, lon


def _answer(columns: MapColumns, cells: list[list], total: int, world: float, db: sqlite_utils.Database,
            stale_before: str | None) -> dict:
    """Close cells merged; clusters (with their mix of categories), and the organisations
    alone in their cell as points."""
    if not total:
        return {"total": 0, "clusters": [], "points": []}
    cells = _merge_close(cells, world)
    groups, singles = [], []
    for lat_, lon_, n, w, s, e, nn, first_id, mix in cells:
        if n == 1:
            singles.append(first_id)
        else:
            groups.append([round(lat_, 5), round(lon_, 5), n,
                           [round(w, 5), round(s, 5), round(e, 5), round(nn, 5)], markers.pairs(mix, columns.palette)])
    return {"total": total, "clusters": groups, "points": _points(columns, db, singles, stale_before)}


MERGE_PIXELS = 56


def _bounded_zoom(bbox: BBox | None, zoom: int) -> int:
    """The zoom to cluster at: lowered until ``bbox`` fits in ``MAX_VIEW_PIXELS``, so that
    no request (a whole continent at street zoom) can ask for thousands of clusters."""
    if bbox is None:
        return min(zoom, 2)
    y_span = float(mercator_y(bbox.max_lat) - mercator_y(bbox.min_lat))
    while zoom > 0:
        world = 256 * 2 ** zoom
        width = (bbox.max_lon - bbox.min_lon) / 360.0 * world
        height = y_span / (2 * math.pi) * world
        if width <= MAX_VIEW_PIXELS[0] and height <= MAX_VIEW_PIXELS[1]:
            break
        zoom -= 1
    return zoom  # cells whose centres are closer than this on screen become one cluster


TILE_PIXELS = 2 * levels.CELL_PIXELS  # the grid the map snaps its views to (static/js/map.js: snappedBox)


def snap_bbox(bbox: BBox, zoom: int) -> BBox | None:
    """``bbox`` widened to the edges of the grid of ``TILE_PIXELS`` tiles at ``zoom`` (each
    edge rounded outward to 5 decimals, as the map sends it), so that views a little apart
    ask the same URL; ``None`` when the widened box would be clustered at a lower zoom than
    ``zoom`` (larger than ``MAX_VIEW_PIXELS``): then the map asks for its view as it is. The tiles are whole grid cells at ``zoom`` and every
    lower one, so that no cell of the answer is cut at an edge."""
    world = 256 * 2 ** zoom
    tile_lon, tile_y = 360.0 * TILE_PIXELS / world, 2 * math.pi * TILE_PIXELS / world
    west = max(-180.0, math.floor((bbox.min_lon + 180.0) / tile_lon) * tile_lon - 180.0)
    east = min(180.0, math.ceil((bbox.max_lon + 180.0) / tile_lon) * tile_lon - 180.0)
    low, high = float(mercator_y(bbox.min_lat)), float(mercator_y(bbox.max_lat))
    bottom, top = math.floor(low / tile_y) * tile_y, math.ceil(high / tile_y) * tile_y
    south, north = _latitude(bottom), _latitude(top)
    south = -90.0 if south <= -85.0 else south  # past the map's edge: to the pole, as the view
    north = 90.0 if north >= 85.0 else north
    snapped = BBox(math.floor(west * 1e5) / 1e5, math.floor(south * 1e5) / 1e5,
                   math.ceil(east * 1e5) / 1e5, math.ceil(north * 1e5) / 1e5)
    return snapped if _bounded_zoom(snapped, zoom) == zoom else None


def _latitude(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def _merge_close(cells: list[list], world: float) -> list[list]:
    """Merge grid cells whose centres fall close together on screen, biggest first,
    so that clusters never overlap across a cell border."""
    cells = sorted(cells, key=lambda c: -c[2])
    xs = ((np.array([c[1] for c in cells]) + 180.0) / 360.0 * world).tolist()
    ys = (mercator_y(np.array([c[0] for c in cells])) / (2 * math.pi) * world).tolist()
    kept: list[list] = []
    where: list[tuple[float, float]] = []
    for cell, x, y in zip(cells, xs, ys):
        for k, (kx, ky) in enumerate(where):
            if (kx - x) ** 2 + (ky - y) ** 2 < MERGE_PIXELS ** 2:
                target = kept[k]
                n = target[2] + cell[2]
                target[0] = (target[0] * target[2] + cell[0] * cell[2]) / n
                target[1] = (target[1] * target[2] + cell[1] * cell[2]) / n
                target[2] = n
                target[3], target[4] = min(target[3], cell[3]), min(target[4], cell[4])
                target[5], target[6] = max(target[5], cell[5]), max(target[6], cell[6])
                target[8] = target[8] + cell[8]
                break
        else:
            kept.append(list(cell))
            where.append((x, y))
    return kept


def _points(columns: MapColumns, db: sqlite_utils.Database, ids: list[int], stale_before: str | None) -> list[list]:
    """``[slug, name, lat, lon, stale, category]`` of each (``stale``: 1 when last checked
    before ``stale_before``; ``category``: its main category's index in the palette)."""
    main = dict(zip(ids, columns.category[np.searchsorted(columns.ids, ids)].tolist())) if ids else {}
    points = []
    for org_id, slug, name, lat, lon, checked in catalogue.map_points(db, ids):
        short = name if len(name) <= NAME_LENGTH else name[:NAME_LENGTH - 1] + "…"
        stale = int(bool(stale_before and checked and checked < stale_before))
        points.append([slug, short, round(lat, 6), round(lon, 6), stale, main[org_id]])
    points.sort(key=lambda p: (p[2], p[3]))
    return points


# Past this many candidates for fewer than ``limit`` located ones, the SQL ranks them.
FEW_CANDIDATES = 2000


def matches(columns: MapColumns, db: sqlite_utils.Database, org: dict, *, limit: int = 8) -> dict[str, list[dict]]:
    """``catalogue.matches`` from the columns: the published organisations that offer what
    ``org`` needs ("offering") and that need what it offers ("needing"), nearest first,
    with the shared resources. Needs and offers are already bits and the points arrays,
    so a million organisations cost one pass of arithmetic instead of widening boxes; only
    the nearest few are read from the catalogue and ranked by ``geo.rank_partners``, as
    the SQL path ranks them."""
    pos, present = _position(columns.ids, org["id"])
    if org.get("lat") is None or not present:
        return catalogue.matches(db, org["id"], limit=limit)
    here = (org["lat"], org["lon"])
    words = -(-columns.size // 64)
    out = {}
    for name, mine, theirs in (("offering", "needs", "offer"), ("needing", "offers", "need")):
        if not org.get(mine):
            out[name] = []
            continue
        codes = [c for c in org[mine] if c in columns.facets.get(theirs, {})]
        either = np.zeros(words, dtype=np.uint64)
        for code in codes:
            either |= _widened(columns.facets[theirs][code], words)
        candidates = np.flatnonzero(unpack(either & columns.live, columns.size))
        candidates = candidates[candidates != pos]
        lats = columns.lat[candidates]
        has_point = ~np.isnan(lats)
        located = candidates[has_point]
        if len(located) >= limit:
            chosen = located[_nearest(here, lats[has_point], columns.lon, located, limit)]
        elif len(candidates) <= FEW_CANDIDATES:
            chosen = candidates
        else:
            return catalogue.matches(db, org["id"], limit=limit)
        rows = catalogue.organisations_by_ids(db, columns.ids[chosen].tolist())
        positions = dict(zip(columns.ids[chosen].tolist(), chosen.tolist()))
        found = [{k: row[k] for k in ("id", "slug", "name", "city", "country", "lat", "lon")} | {
                  "shared": sorted(c for c in codes if _has_bit(columns.facets[theirs][c], positions[row["id"]]))}
                 for row in rows]
        out[name] = geo.rank_partners(found, here)[:limit]
    return out


# Half-widths, in degrees of latitude, of the bands ``_nearest`` measures before all points.
NEAREST_BANDS = (0.5, 2.0, 8.0, 30.0)


def _nearest(here: tuple[float, float], lats: np.ndarray, lon: np.ndarray, positions: np.ndarray,
             limit: int) -> np.ndarray:
    """Indices (into ``lats`` and ``positions``) of the points as near ``here`` as the
    ``limit``-th nearest (all of them: ties rank by more than distance); ``lats`` are the
    latitudes of the points at ``positions`` of the column ``lon``, whose longitudes are read
    only where needed. Distances are computed first for the band of latitudes
    around ``here`` only, widened until ``limit`` points of it lie within its half-width:
    a point outside the band is farther than that, since an arc is at least its difference
    of latitude. Among a million, a popup then measures a band of the candidates, not all."""
    off = np.abs(lats - here[0])
    for degrees in NEAREST_BANDS:
        band = np.flatnonzero(off <= degrees)
        if len(band) < limit:
            continue
        km = geo.distances_km(here, lats[band], lon[positions[band]])
        kth = np.partition(km, limit - 1)[limit - 1]
        # The margin covers numpy's and math's last bits (the ranking is ``distance_km``'s),
        # and the 0.99 the band's edge.
        if kth + 1e-6 <= 0.99 * math.radians(degrees) * geo.EARTH_RADIUS_KM:
            return band[km <= kth + 1e-6]
    km = geo.distances_km(here, lats, lon[positions])
    kth = np.partition(km, limit - 1)[limit - 1]
    return np.flatnonzero(km <= kth + 1e-6)


def _has_bit(bits: np.ndarray, position: int) -> bool:
    word = position >> 6
    return word < len(bits) and bool((int(bits[word]) >> (position & 63)) & 1)
