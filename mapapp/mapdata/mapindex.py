"""The map's data layer: clusters and facet counts from in-memory numpy columns.

Scanning 100,000 rows in SQLite to cluster a Europe-wide view takes over 100 ms;
the same work on numpy columns takes a few. The columns hold every published
organisation (id, lat, lon and one boolean column per filter value) and is
rebuilt when the catalogue's version number changes. Zoomed-in views, where few
organisations are in sight, read their points through the R*Tree.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from .. import catalogue
from ..filters import KINDS, BBox, Filters

CELL_PIXELS = 120  # a cluster covers about this many screen pixels
MAX_VIEW_PIXELS = (2560, 1600)  # a larger bbox is clustered as if seen from further away
POINT_LIMIT = 150  # zoomed in, up to this many organisations in view are shown one by one
POINTS_ZOOM = 13  # from this zoom on, a view with few organisations shows them all
MAX_ZOOM = 19
NAME_LENGTH = 48  # names are shortened in cluster answers; popups load the rest


@dataclass
class MapColumns:
    """Published organisations as columns; ``facets[kind][value]`` is a boolean mask."""

    version: int
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    merc_y: np.ndarray
    facets: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Positions in the lists' order (name, then id), as the SQL lists sort.
    name_order: np.ndarray | None = None
    # Full-text results per query: a visitor pans and zooms with the same search.
    searches: OrderedDict = field(default_factory=OrderedDict)
    # Request threads share the columns: the search cache changes under this lock.
    search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> int:
        return len(self.ids)


def load(db: sqlite_utils.Database) -> MapColumns:
    """Read the columns from the catalogue."""
    version = catalogue.version(db)
    rows = catalogue.map_rows(db)
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    lat = np.fromiter((np.nan if r[1] is None else r[1] for r in rows), dtype=np.float64, count=n)
    lon = np.fromiter((np.nan if r[2] is None else r[2] for r in rows), dtype=np.float64, count=n)
    with np.errstate(invalid="ignore"):
        clipped = np.clip(lat, -85.0, 85.0)
        merc_y = np.log(np.tan(np.pi / 4 + np.radians(clipped) / 2))
    facets: dict[str, dict[str, np.ndarray]] = {kind: {} for kind in KINDS}
    for kind, column in (("country", 3), ("relation", 4)):
        values = np.array([r[column] for r in rows], dtype=object)
        for value in set(values.tolist()):
            if value:
                facets[kind][value] = values == value
    members: dict[tuple[str, str], list[int]] = {}
    for kind, value, org_id in catalogue.map_memberships(db):
        members.setdefault((kind, value), []).append(org_id)
    for (kind, value), org_ids in members.items():
        mask = np.zeros(n, dtype=bool)
        mask[np.searchsorted(ids, np.array(org_ids, dtype=np.int64))] = True
        facets[kind][value] = mask
    ordered = np.array(catalogue.map_name_order(db), dtype=np.int64)
    name_order = np.searchsorted(ids, ordered) if n else np.zeros(0, dtype=np.int64)
    return MapColumns(version, ids, lat, lon, merc_y, facets, name_order=name_order)


class MapIndex:
    """The current columns, reloaded when the catalogue changes (one per process)."""

    def __init__(self):
        self._columns: MapColumns | None = None
        self._lock = threading.Lock()

    def get(self, db: sqlite_utils.Database) -> MapColumns:
        """The columns matching the catalogue's current version."""
        version = catalogue.version(db)
        columns = self._columns
        if columns is not None and columns.version == version:
            return columns
        with self._lock:
            if self._columns is None or self._columns.version != version:
                self._columns = load(db)
            return self._columns


def selection(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *,
              without: str | None = None) -> np.ndarray:
    """Mask of the organisations matching ``filters`` (bbox aside); ``without`` leaves
    out one kind, for its facet counts."""
    mask = np.ones(columns.size, dtype=bool)
    for kind in KINDS:
        values = getattr(filters, kind)
        if not values or kind == without:
            continue
        either = np.zeros(columns.size, dtype=bool)
        for value in values:
            hit = columns.facets[kind].get(value)
            if hit is not None:
                either |= hit
        mask &= either
    if filters.q:
        mask &= search_mask(columns, filters.q, db)
    return mask


SEARCHES_KEPT = 64


def search_mask(columns: MapColumns, text: str, db: sqlite_utils.Database) -> np.ndarray:
    """Mask of the organisations matching a full-text search (cached per columns)."""
    with columns.search_lock:
        found = columns.searches.get(text)
        if found is not None:
            columns.searches.move_to_end(text)
            return found
    ids = np.array(catalogue.search_ids(db, text), dtype=np.int64)  # outside the lock: it may be slow
    positions = np.searchsorted(columns.ids, ids)
    inside = positions < columns.size
    positions, ids = positions[inside], ids[inside]
    found = np.zeros(columns.size, dtype=bool)
    found[positions[columns.ids[positions] == ids]] = True  # drafts are not in the columns
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


def listing(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *, limit: int, offset: int = 0,
            located_only: bool = False) -> tuple[int, list[int]]:
    """How many published organisations match ``filters`` (bbox included), and the ids of
    the ``limit`` from ``offset`` in the lists' order: what ``count_organisations`` and
    ``find_organisations`` answer, from the columns (a million rows sorted by SQLite take
    seconds; this, milliseconds)."""
    ordered = ordered_matches(columns, filters, db, located_only=located_only)
    return int(ordered.size), columns.ids[ordered[offset:offset + limit]].tolist()


def ordered_matches(columns: MapColumns, filters: Filters, db: sqlite_utils.Database, *,
                    located_only: bool = False) -> np.ndarray:
    """Positions (in the columns) of the organisations matching ``filters``, in the lists' order."""
    mask = selection(columns, filters, db)
    if filters.bbox is not None or located_only:
        mask &= in_bbox(columns, filters.bbox)
    return columns.name_order[np.flatnonzero(mask[columns.name_order])]


def facet_counts(columns: MapColumns, filters: Filters, db: sqlite_utils.Database) -> dict:
    """For each kind, how many organisations each value would give with the other
    filters kept (OR within a kind, AND across kinds)."""
    counts: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        base = selection(columns, filters, db, without=kind)
        counts[kind] = {value: int(np.count_nonzero(base & mask))
                        for value, mask in columns.facets[kind].items()}
    return counts


def lonlat_bbox(columns: MapColumns, mask: np.ndarray) -> list[float] | None:
    """``[min_lon, min_lat, max_lon, max_lat]`` of the located organisations in ``mask``."""
    located = mask & ~np.isnan(columns.lat)
    if not located.any():
        return None
    return [float(columns.lon[located].min()), float(columns.lat[located].min()),
            float(columns.lon[located].max()), float(columns.lat[located].max())]


def clusters(columns: MapColumns, mask: np.ndarray, bbox: BBox | None, zoom: int,
             db: sqlite_utils.Database) -> dict:
    """Clusters (count, centre, bounds) and single organisations in view at ``zoom``.

    Zoomed in (``POINTS_ZOOM``) with at most ``POINT_LIMIT`` organisations in view, or
    at the highest zoom, they are all returned as points; otherwise organisations
    alone in their cell come as points and the others as clusters.
    """
    view = mask & in_bbox(columns, bbox)
    total = int(np.count_nonzero(view))
    if total == 0:
        return {"total": 0, "clusters": [], "points": []}
    zoom = _bounded_zoom(bbox, zoom)
    if (zoom >= POINTS_ZOOM and total <= POINT_LIMIT) or zoom >= MAX_ZOOM:
        chosen = columns.ids[view]
        return {"total": total, "clusters": [], "points": _points(db, chosen.tolist())}
    world = 256 * 2 ** zoom
    cell_lon = 360.0 * CELL_PIXELS / world
    cell_y = 2 * math.pi * CELL_PIXELS / world
    lat, lon, ids = columns.lat[view], columns.lon[view], columns.ids[view]
    cx = np.floor((lon + 180.0) / cell_lon).astype(np.int64)
    cy = np.floor(columns.merc_y[view] / cell_y).astype(np.int64)
    keys = cx * (1 << 32) + cy
    order = np.argsort(keys, kind="stable")
    keys, lat, lon, ids = keys[order], lat[order], lon[order], ids[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    counts = np.diff(np.r_[starts, len(keys)])
    mean_lat = np.add.reduceat(lat, starts) / counts
    mean_lon = np.add.reduceat(lon, starts) / counts
    south, north = np.minimum.reduceat(lat, starts), np.maximum.reduceat(lat, starts)
    west, east = np.minimum.reduceat(lon, starts), np.maximum.reduceat(lon, starts)
    cells = _merge_close(
        [[float(mean_lat[i]), float(mean_lon[i]), int(counts[i]), float(west[i]), float(south[i]),
          float(east[i]), float(north[i]), int(ids[starts[i]])] for i in range(len(starts))], world)
    groups, singles = [], []
    for lat_, lon_, n, w, s, e, nn, first_id in cells:
        if n == 1:
            singles.append(first_id)
        else:
            groups.append([round(lat_, 5), round(lon_, 5), n,
                           [round(w, 5), round(s, 5), round(e, 5), round(nn, 5)]])
    return {"total": total, "clusters": groups, "points": _points(db, singles)}


MERGE_PIXELS = 56


def _bounded_zoom(bbox: BBox | None, zoom: int) -> int:
    """The zoom to cluster at: lowered until ``bbox`` fits in ``MAX_VIEW_PIXELS``, so that
    no request (a whole continent at street zoom) can ask for thousands of clusters."""
    if bbox is None:
        return min(zoom, 2)

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(max(-85.0, min(85.0, lat))) / 2))

    while zoom > 0:
        world = 256 * 2 ** zoom
        width = (bbox.max_lon - bbox.min_lon) / 360.0 * world
        height = (merc(bbox.max_lat) - merc(bbox.min_lat)) / (2 * math.pi) * world
        if width <= MAX_VIEW_PIXELS[0] and height <= MAX_VIEW_PIXELS[1]:
            break
        zoom -= 1
    return zoom  # cells whose centres are closer than this on screen become one cluster


def _merge_close(cells: list[list], world: float) -> list[list]:
    """Merge grid cells whose centres fall close together on screen, biggest first,
    so that clusters never overlap across a cell border."""
    def pixel(lat: float, lon: float) -> tuple[float, float]:
        y = math.log(math.tan(math.pi / 4 + math.radians(max(-85.0, min(85.0, lat))) / 2))
        return (lon + 180.0) / 360.0 * world, y / (2 * math.pi) * world

    kept: list[list] = []
    where: list[tuple[float, float]] = []
    for cell in sorted(cells, key=lambda c: -c[2]):
        x, y = pixel(cell[0], cell[1])
        for k, (kx, ky) in enumerate(where):
            if (kx - x) ** 2 + (ky - y) ** 2 < MERGE_PIXELS ** 2:
                target = kept[k]
                n = target[2] + cell[2]
                target[0] = (target[0] * target[2] + cell[0] * cell[2]) / n
                target[1] = (target[1] * target[2] + cell[1] * cell[2]) / n
                target[2] = n
                target[3], target[4] = min(target[3], cell[3]), min(target[4], cell[4])
                target[5], target[6] = max(target[5], cell[5]), max(target[6], cell[6])
                break
        else:
            kept.append(list(cell))
            where.append((x, y))
    return kept


def _points(db: sqlite_utils.Database, ids: list[int]) -> list[list]:
    points = []
    for _id, slug, name, lat, lon in catalogue.map_points(db, ids):
        short = name if len(name) <= NAME_LENGTH else name[:NAME_LENGTH - 1] + "…"
        points.append([slug, short, round(lat, 6), round(lon, 6)])
    points.sort(key=lambda p: (p[2], p[3]))
    return points
