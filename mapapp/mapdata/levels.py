"""The low zooms summed per grid cell: every published organisation of the map's columns
counted, averaged and bounded per cell at zooms 0 to LEVELS_MAX_ZOOM, so that an unfiltered
view of a continent reads a few hundred sums, not a million points (``cells_from_level``).
Each zoom is summed once per columns (``zoom_level``), kept with the snapshot on disk (format 4,
see ``snapshot``), and brought forward after an edit or a small import by summing again only
the cells of the changed organisations (``patch_levels``, ``patched_level``). Also the grid
itself (``CELL_PIXELS``, ``cell_size``, ``grid``, ``mercator_y``), which ``mapindex`` clusters
filtered views on.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..filters import BBox
from . import markers
from .bits import unpack

if TYPE_CHECKING:
    from .mapindex import MapColumns

CELL_PIXELS = 120  # a cluster covers about this many screen pixels


def mercator_y(lat):
    """Web Mercator's y of latitudes (an array, or one number) on a world 2π wide, as the
    map draws them; the poles, infinitely far, are held at 85°. NaN stays NaN."""
    with np.errstate(invalid="ignore"):
        return np.log(np.tan(np.pi / 4 + np.radians(np.clip(lat, -85.0, 85.0)) / 2))

LEVELS_MAX_ZOOM = 7  # up to this zoom, an unfiltered view reads its cells from ``zoom_level``


@dataclass
class Sums:
    """Points summed per grid cell (only cells holding some): how many, the sums of their
    coordinates, their bounds, the position (in the columns) of each cell's first point, and
    how many of them each top-level category has (a row per cell, see ``markers.mix``)."""

    counts: np.ndarray
    sum_lat: np.ndarray
    sum_lon: np.ndarray
    south: np.ndarray
    north: np.ndarray
    west: np.ndarray
    east: np.ndarray
    first: np.ndarray
    mix: np.ndarray

    def take(self, which: np.ndarray) -> Sums:
        return Sums(*(getattr(self, f)[which] for f in Sums.__dataclass_fields__))

    def cells(self, ids: np.ndarray) -> list[list]:
        """``[lat, lon, count, west, south, east, north, id, mix]`` of each cell: its centre,
        count, bounds, the organisation's id when it is alone in its cell (else 0), and its
        counts per top-level category."""
        n = self.counts
        return [[float(self.sum_lat[i] / n[i]), float(self.sum_lon[i] / n[i]), int(n[i]), float(self.west[i]),
                 float(self.south[i]), float(self.east[i]), float(self.north[i]),
                 int(ids[int(self.first[i])]) if n[i] == 1 else 0, self.mix[i]] for i in range(len(n))]


def summed(columns: MapColumns, positions: np.ndarray, cell: np.ndarray, *,
            lat: np.ndarray | None = None, lon: np.ndarray | None = None,
            mixes: np.ndarray | None = None) -> tuple[np.ndarray, Sums]:
    """Points (at ``positions`` in the columns; ``lat``, ``lon`` theirs when already read)
    grouped by their ``cell`` numbers, summed per cell: where each cell's points start, and
    their sums (``mixes``: each cell number's mix when already counted)."""
    colours = columns.palette
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.zeros(0, np.int64)
    if not len(cell):  # reduceat wants at least one group
        return starts, Sums(*(np.zeros(0) for _ in range(8)), np.zeros((0, colours.slots), dtype=np.int64))
    lat = columns.lat[positions] if lat is None else lat
    lon = columns.lon[positions] if lon is None else lon
    counts = np.diff(np.r_[starts, len(cell)])
    if mixes is not None:
        mix = mixes[cell[starts]]
    else:
        slots = colours.top[columns.category[positions]]
        mix = markers.mix(np.repeat(np.arange(len(starts)), counts), slots, len(starts), colours)
    return starts, Sums(counts, np.add.reduceat(lat, starts), np.add.reduceat(lon, starts),
                         np.minimum.reduceat(lat, starts), np.maximum.reduceat(lat, starts),
                         np.minimum.reduceat(lon, starts), np.maximum.reduceat(lon, starts), positions[starts], mix)


def cell_size(zoom: int) -> tuple[float, float]:
    world = 256 * 2 ** zoom
    return 360.0 * CELL_PIXELS / world, 2 * math.pi * CELL_PIXELS / world


def grid(columns: MapColumns, positions: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid column and row, at ``zoom``, of the organisations at ``positions``."""
    cell_lon, cell_y = cell_size(zoom)
    cx = np.floor((columns.lon[positions] + 180.0) / cell_lon).astype(np.int64)
    cy = np.floor(columns.merc_y[positions] / cell_y).astype(np.int64)
    return cx, cy


@dataclass
class Level:
    """Every published organisation of the columns at one zoom, summed per grid cell:
    cells in key order (column, then row), their points grouped in ``order``."""

    keys: np.ndarray
    starts: np.ndarray
    sums: Sums
    order: np.ndarray


def zoom_level(columns: MapColumns, zoom: int) -> Level:
    level = columns.levels.get(zoom)
    if level is not None:
        return level
    global levels_summed
    with columns.search_lock:
        lock = columns.level_locks.setdefault(zoom, threading.Lock())
    with lock:  # one thread builds each zoom (another zoom meanwhile is not held up); the columns never change after
        level = columns.levels.get(zoom)
        patch = columns.level_patch
        if level is None and patch is not None and zoom in patch[0]:
            levels, old, old_positions, new_positions, flags, inserted_at = patch
            level = patched_level(levels[zoom], old, columns, zoom, old_positions, new_positions, flags, inserted_at)
            columns.levels[zoom] = level
            if all(z in columns.levels for z in levels):
                columns.level_patch = None  # the previous columns are no longer held
        elif level is None:
            levels_summed += 1
            positions = np.flatnonzero(unpack(columns.live, columns.size) & ~np.isnan(columns.lat))
            cx, cy = grid(columns, positions, zoom)
            keys = cx * (1 << 32) + cy
            by_cell = np.argsort(keys, kind="stable")
            # Positions as int32 (a level is private to each worker: 4 MB a million, not 8).
            keys, positions = keys[by_cell], positions[by_cell].astype(np.int32)
            starts, sums = summed(columns, positions, keys)
            level = Level(keys[starts], starts, sums, positions)
            columns.levels[zoom] = level
    return level


def cells_from_level(columns: MapColumns, bbox: BBox, zoom: int) -> tuple[list[list], int]:
    """The cells of an unfiltered view: those wholly inside ``bbox`` as summed beforehand,
    those on its edges summed again from their points inside it (exactly what the
    points of the view would give)."""
    level = zoom_level(columns, zoom)
    cell_lon, cell_y = cell_size(zoom)
    cx0, cx1 = math.floor((bbox.min_lon + 180.0) / cell_lon), math.floor((bbox.max_lon + 180.0) / cell_lon)
    cy0, cy1 = math.floor(mercator_y(bbox.min_lat) / cell_y), math.floor(mercator_y(bbox.max_lat) / cell_y)
    inner, edges = [], []
    for cx in range(cx0, cx1 + 1):
        first = np.searchsorted(level.keys, cx * (1 << 32) + cy0, side="left")
        last = np.searchsorted(level.keys, cx * (1 << 32) + cy1, side="right")
        for i in range(int(first), int(last)):
            cy = int(level.keys[i]) - cx * (1 << 32)
            (inner if cx0 < cx < cx1 and cy0 < cy < cy1 else edges).append(i)
    inner = np.array(inner, dtype=np.int64)
    cells = dict(zip(inner.tolist(), level.sums.take(inner).cells(columns.ids)))
    if edges:  # summed again from their points inside the view, still grouped by cell
        edges = np.array(edges, dtype=np.int64)
        counts = level.sums.counts[edges]
        points = np.concatenate([level.order[s:s + n] for s, n in zip(level.starts[edges].tolist(), counts.tolist())])
        cell = np.repeat(edges, counts)
        lat, lon = columns.lat[points], columns.lon[points]
        inside = (lat >= bbox.min_lat) & (lat <= bbox.max_lat) & (lon >= bbox.min_lon) & (lon <= bbox.max_lon)
        cell = cell[inside]
        starts, sums = summed(columns, points[inside], cell, lat=lat[inside], lon=lon[inside])
        cells.update(zip(cell[starts].tolist(), sums.cells(columns.ids)))
    ordered = [cells[i] for i in sorted(cells)]  # in key order, as a view's own cells come
    return ordered, sum(c[2] for c in ordered)

def patch_levels(old: MapColumns, new: MapColumns, changed: list[int], inserted_at: np.ndarray | None) -> None:
    """The low zooms summed for ``old`` (see ``zoom_level``), brought to ``new`` by summing again
    only the cells of the ``changed`` organisations: the first view after an edit or a small
    import reads them as it did before it (not a million points clustered or summed again)."""
    pending = old.level_patch
    if pending is not None:  # one generation at most: the zooms old has not patched yet, now
        for zoom in pending[0]:
            zoom_level(old, zoom)
    if not old.levels:
        return
    wanted = np.array(sorted(changed), dtype=np.int64)
    old_at = np.searchsorted(old.ids, wanted)
    old_positions = old_at[(old_at < old.size) & (old.ids[np.minimum(old_at, old.size - 1)] == wanted)] \
        if old.size else old_at[:0]
    new_at = np.searchsorted(new.ids, wanted)
    new_positions = new_at[(new_at < new.size) & (new.ids[np.minimum(new_at, new.size - 1)] == wanted)]
    flags = np.zeros(new.size, dtype=bool)
    flags[new_positions] = True
    # Each zoom patched when first asked for (a view at zoom 4 waits for zoom 4 alone; the web
    # patches the others in a thread, see ``MapIndex._sum_later``).
    new.level_patch = (dict(old.levels), old, old_positions, new_positions, flags, inserted_at)


def has_level(columns: MapColumns, zoom: int) -> bool:
    """Whether the low zoom ``zoom`` is summed, or can be patched from summed ones."""
    patch = columns.level_patch
    return zoom in columns.levels or (patch is not None and zoom in patch[0])


# Low zooms summed from every point (not patched) since the process started (tests and the
# benchmark count them).
levels_summed = 0

def patched_level(level: Level, old: MapColumns, new: MapColumns, zoom: int, old_positions: np.ndarray,
                   new_positions: np.ndarray, changed_flags: np.ndarray, inserted_at: np.ndarray | None) -> Level:
    """``zoom_level`` (of ``old``) brought to ``new``: only the cells that held or now hold one of
    the changed organisations (at ``old_positions`` in ``old``, ``new_positions`` in ``new``,
    flagged in ``changed_flags``) are summed again from their points, the others are kept as
    they were (a one-row import at a million: milliseconds, instead of summing a million
    points again). ``inserted_at``: where new ids went among the old ones (positions after
    them moved). The result is the very level ``zoom_level(new, zoom)`` would sum (the same
    points in each cell, in the same order, so the same sums to the last bit)."""
    def moved(positions: np.ndarray) -> np.ndarray:
        positions = positions.astype(np.int64)
        return positions if inserted_at is None else positions + np.searchsorted(inserted_at, positions, side="right")

    touched = []
    located = old_positions[~np.isnan(old.lat[old_positions])]
    if len(located):
        cx, cy = grid(old, located, zoom)
        touched.append(cx * (1 << 32) + cy)
    live = ((new.live[new_positions >> 6] >> (new_positions & 63).astype(np.uint64)) & np.uint64(1)) == 1
    now = new_positions[live & ~np.isnan(new.lat[new_positions])]
    if len(now):
        cx, cy = grid(new, now, zoom)
        touched.append(cx * (1 << 32) + cy)
    keys = np.unique(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
    at = np.searchsorted(level.keys, keys)
    held = at < len(level.keys)
    held[held] = level.keys[at[held]] == keys[held]
    gone = at[held]  # the cells of ``zoom_level`` summed again
    counts = level.sums.counts.astype(np.int64)
    ends = np.asarray(level.starts, dtype=np.int64) + counts
    # The points of those cells (at a low zoom, one cell holds most of a country: every
    # operation here is linear, no sort nor hash of them), without the changed ones, in
    # (cell, position) order as they are kept; the changed ones merged in where they are now.
    seg_starts, seg_counts = np.asarray(level.starts, dtype=np.int64)[gone], counts[gone]
    within = np.arange(int(seg_counts.sum()), dtype=np.int64)
    points = moved(np.asarray(level.order)[np.repeat(seg_starts - np.r_[0, np.cumsum(seg_counts)[:-1]], seg_counts)
                                           + within]) if len(within) else within
    cx, cy = grid(new, now, zoom)
    now_keys = cx * (1 << 32) + cy
    cell_keys = np.union1d(level.keys[gone], now_keys)
    rank = np.repeat(np.searchsorted(cell_keys, level.keys[gone]), seg_counts)
    unchanged = ~changed_flags[points]
    points, rank = points[unchanged], rank[unchanged]
    now_rank = np.searchsorted(cell_keys, now_keys)
    by_cell = np.lexsort((now, now_rank))
    now, now_rank = now[by_cell], now_rank[by_cell]
    into = np.searchsorted((rank << 32) | points, (now_rank << 32) | now)
    points, rank = np.insert(points, into, now), np.insert(rank, into, now_rank)
    cell = cell_keys[rank]
    starts, sums = summed(new, points, cell)
    added_keys, added_counts = cell[starts], np.diff(np.r_[starts, len(cell)])
    # Every other cell as it was (its first point's position moved with the columns); the
    # points' order copied once, in pieces, around the few cells taken out and put in.
    kept = np.ones(len(level.keys), dtype=bool)
    kept[gone] = False
    old_starts = np.asarray(level.starts, dtype=np.int64)
    before = np.searchsorted(level.keys, added_keys)  # each new cell goes before this old one
    at_order = np.r_[old_starts, len(level.order)][before]
    bounds = np.r_[0, np.cumsum(added_counts)]
    events = sorted([(int(s), 1, int(e)) for s, e in zip(old_starts[gone].tolist(), ends[gone].tolist())]
                    + [(int(p), 0, j) for j, p in enumerate(at_order.tolist())])
    pieces, cursor, new_points = [], 0, points.astype(np.int32)
    old_order = level.order if inserted_at is None else moved(level.order).astype(np.int32)
    for at_, removal, what in events:
        pieces.append(old_order[cursor:at_])
        if removal:
            cursor = what
        else:
            pieces.append(new_points[bounds[what]:bounds[what + 1]])
            cursor = at_
    pieces.append(old_order[cursor:])
    order = np.concatenate(pieces).astype(np.int32, copy=False)
    kept_sums = level.sums.take(kept)
    if inserted_at is not None:
        kept_sums.first = moved(kept_sums.first)
    kept_keys = level.keys[kept]
    into = np.searchsorted(kept_keys, added_keys)
    merged = Sums(*(np.insert(getattr(kept_sums, f), into, getattr(sums, f), axis=0)
                     for f in Sums.__dataclass_fields__))
    all_counts = merged.counts.astype(np.int64)
    return Level(np.insert(kept_keys, into, added_keys), np.r_[0, np.cumsum(all_counts)[:-1]].astype(np.int64),
                  merged, order)
