"""The spatial index (SQLite's R*Tree ``organisations_rtree``) filled after a large import.

SQLite inserts into an R*Tree one point at a time, about 13 µs each at a million
points: the largest single cost of importing a million organisations. When an import
adds at least as many points as the index held, the whole index is instead written
packed (Sort-Tile-Recursive: points sorted into full leaves, leaves into full parents),
straight into the R*Tree's three tables in the node format SQLite documents in its
R*Tree source (rtree.c): node 1 is the root; a node is a 2-byte depth (root only), a
2-byte cell count, then cells of an 8-byte id and four 4-byte floats, big-endian.
Coordinates are rounded outwards to 32-bit floats as SQLite rounds them, so that the
index answers exactly what SQLite's own inserts would; ``rtreecheck`` verifies the
structure in the tests. A packed tree is also a better index: its nodes overlap less.

Writing the shadow tables is not always allowed: SQLite in defensive mode
(``SQLITE_DBCONFIG_DEFENSIVE``, which some hosts turn on) makes them read-only, and a
future SQLite could store nodes otherwise. So the packed tree is written under a
savepoint and sampled once written; if SQLite refuses it (or the samples are not found),
it is undone and the points go in through SQLite's own inserts, slower but always right,
and the import says so (``index_new_points``'s answer, and a warning in the log).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import sqlite_utils

logger = logging.getLogger(__name__)

RTREE = "organisations_rtree"
SAMPLES = 64  # points looked up in a packed tree once written
# What rtree.c multiplies by to move a value one float step towards or away from zero.
_TOWARDS_ZERO = 1.0 - 1.0 / 8388608.0
_AWAY_FROM_ZERO = 1.0 + 1.0 / 8388608.0
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # id, min_lat, max_lat, min_lon, max_lon


def index_new_points(db: sqlite_utils.Database, first_id: int, new_points: tuple | None = None, *,
                     meanwhile: Callable[[], None] | None = None) -> str:
    """Put the located organisations from ``first_id`` on (an import's new rows, written
    without the per-row trigger) into the spatial index, inside the caller's transaction.
    ``new_points``: their ids, latitudes and longitudes as the import wrote them (sequences in
    id order), so that a large import's points are not read back from the table (2 s at a
    million); None: read them. ``meanwhile()`` runs first, on this connection, while the points
    of a packed tree are put in order in a thread (an import rebuilds its indexes then: issue
    31, 0.4-0.8 s of a million points, on a core the import left idle). Returns how: "packed"
    when the whole index was rewritten, "inserted" when SQLite inserted the new points, "inserted (packing
    refused: …)" when it had to because the packed tree could not be written."""
    held = db.execute(f"SELECT count(*) FROM {RTREE}_rowid").fetchone()[0]  # nosec B608 # table name from code
    if new_points is None:
        new = db.execute("SELECT count(*) FROM organisations WHERE id >= ? AND lat IS NOT NULL",
                         [first_id]).fetchone()[0]
    else:
        new = len(new_points[0])
    if new < max(held, 1):
        if meanwhile:
            meanwhile()
        _insert(db, first_id)
        return "inserted"
    if new_points is None:
        ids, lats, lons = _located(db, "lat IS NOT NULL", [])
    else:  # the points stored before the import, then the import's own
        ids, lats, lons = (np.concatenate([stored, np.asarray(given, dtype=stored.dtype)])
                           for stored, given in zip(_located(db, "id < ? AND lat IS NOT NULL", [first_id]), new_points))
    node_size = db.execute(f"SELECT length(data) FROM {RTREE}_node WHERE nodeno = 1").fetchone()[0]  # nosec B608
    with ThreadPoolExecutor(1, thread_name_prefix="mapapp-packing") as worker:
        # Only the points' order (the sorting): the nodes' bytes would hold 100 MB more of a
        # million points while SQLite's sorter holds its own.
        ordered = worker.submit(order_points, lats, lons, _capacity(node_size))
        if meanwhile:
            meanwhile()
        ordered = ordered.result()
    db.execute("SAVEPOINT packed_index")
    try:
        store_packed(db, pack(ids, lats, lons, node_size, ordered))
        _check_samples(db, ids, lats, lons)
    except sqlite3.DatabaseError as error:
        db.execute("ROLLBACK TO packed_index")
        db.execute("RELEASE packed_index")
        logger.warning("the spatial index could not be written packed (%s); SQLite inserts the %d new points"
                       " one by one instead (slower; defensive mode or another SQLite version?)", error, new)
        _insert(db, first_id)
        return f"inserted (packing refused: {error})"
    db.execute("RELEASE packed_index")
    return "packed"


def _located(db: sqlite_utils.Database, where: str, params: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, latitudes and longitudes of the organisations ``where`` selects, in id order."""
    located = db.execute(f"SELECT count(*) FROM organisations WHERE {where}", params).fetchone()[0]  # nosec B608 # conditions from code
    ids, lats, lons = np.empty(located, np.int64), np.empty(located), np.empty(located)
    cursor = db.execute(f"SELECT id, lat, lon FROM organisations WHERE {where} ORDER BY id", params)  # nosec B608 # conditions from code
    done = 0
    while rows := cursor.fetchmany(65536):  # a million rows as Python tuples would take 170 MB
        block = np.array(rows, dtype=np.float64)
        ids[done:done + len(rows)], lats[done:done + len(rows)], lons[done:done + len(rows)] = block.T
        done += len(rows)
    return ids[:done], lats[:done], lons[:done]


def _insert(db: sqlite_utils.Database, first_id: int) -> None:
    """SQLite's own inserts of the located organisations from ``first_id`` on."""
    db.execute(f"INSERT INTO {RTREE} SELECT id, lat, lat, lon, lon FROM organisations"  # nosec B608 # table name from code
               " WHERE id >= ? AND lat IS NOT NULL", [first_id])


def _check_samples(db: sqlite_utils.Database, ids: np.ndarray, lats: np.ndarray, lons: np.ndarray) -> None:
    """Find some of the points through the written tree, by id and by place, as SQLite
    reads it; raise ``sqlite3.DatabaseError`` if one is missing (a node format SQLite
    does not read as this module writes it)."""
    for i in np.linspace(0, len(ids) - 1, min(SAMPLES, len(ids))).astype(np.int64).tolist():
        point_id, lat, lon = int(ids[i]), float(lats[i]), float(lons[i])
        by_id = db.execute(f"SELECT min_lat, max_lat, min_lon, max_lon FROM {RTREE} WHERE id = ?",  # nosec B608
                           [point_id]).fetchone()
        # From the root down too (asked for an id, SQLite goes straight to its leaf); one
        # point there is enough: a whole city may share the one point.
        by_place = db.execute(f"SELECT 1 FROM {RTREE} WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ?"  # nosec B608
                              " AND min_lon <= ? LIMIT 1", [lat, lat, lon, lon]).fetchone()
        if by_id is None or by_place is None or not (by_id[0] <= lat <= by_id[1] and by_id[2] <= lon <= by_id[3]):
            raise sqlite3.DatabaseError(f"point {point_id} at ({lat}, {lon}) not found in the packed tree as written")


@dataclass
class PackedTree:
    """A packed tree as the R*Tree's tables hold it (see ``pack``)."""

    node_size: int
    nodes: list[tuple[int, bytes]]  # (node number, its bytes), in number order
    parents: list[tuple[int, int]]  # (node number, its parent's), in number order
    leaf_ids: np.ndarray  # the points' ids in id order, and the leaf each is in
    leaves: np.ndarray


def write_packed(db: sqlite_utils.Database, ids: np.ndarray, lats: np.ndarray, lons: np.ndarray) -> None:
    """Replace the spatial index's content by a packed tree of these points."""
    node_size = db.execute(f"SELECT length(data) FROM {RTREE}_node WHERE nodeno = 1").fetchone()[0]  # nosec B608
    store_packed(db, pack(ids, lats, lons, node_size))


def _capacity(node_size: int) -> int:
    return (node_size - 4) // _CELL.itemsize


def order_points(lats: np.ndarray, lons: np.ndarray, capacity: int) -> tuple[np.ndarray, list]:
    """The points' boxes (as the R*Tree rounds them) and their order in a packed tree of
    nodes of ``capacity`` cells (``_pack``): without the catalogue, so that a thread may work
    it out while the connection works."""
    boxes = np.column_stack([_down(lats), _up(lats), _down(lons), _up(lons)])
    return boxes, _pack(boxes, capacity) if len(boxes) else []


def pack(ids: np.ndarray, lats: np.ndarray, lons: np.ndarray, node_size: int, ordered=None) -> PackedTree:
    """The packed tree of these points, in nodes of ``node_size`` bytes (the R*Tree's own);
    ``ordered``: what ``order_points`` gave for them, if it was worked out already."""
    tree = PackedTree(node_size, [], [], np.empty(0, np.int64), np.empty(0, np.int64))
    if not len(ids):
        return tree
    # levels: leaves first; each level: (order of its cells, cut points)
    boxes, levels = ordered or order_points(lats, lons, _capacity(node_size))
    node_numbers = _number(levels)
    cells_ids, cells_boxes = ids, boxes
    for depth, ((order, cuts), numbers) in enumerate(zip(levels, node_numbers)):
        cells = np.empty(len(order), dtype=_CELL)
        cells["id"], cells["box"] = cells_ids[order], cells_boxes[order]
        is_root = depth == len(levels) - 1
        data = cells.tobytes()
        for number, start, end in zip(numbers.tolist(), cuts[:-1].tolist(), cuts[1:].tolist()):
            body = data[start * _CELL.itemsize:end * _CELL.itemsize]
            head = struct.pack(">HH", depth if is_root else 0, end - start)
            tree.nodes.append((number, head + body + bytes(node_size - 4 - len(body))))
        owner = np.repeat(numbers, np.diff(cuts))  # the node each cell is in
        if depth == 0:
            by_id = np.argsort(cells["id"], kind="stable")
            tree.leaf_ids, tree.leaves = cells["id"][by_id].astype(np.int64), owner[by_id]
        else:
            tree.parents.extend(zip(cells["id"].tolist(), owner.tolist()))
        cells_ids, cells_boxes = numbers, _enclosing(cells_boxes[order], cuts)  # the next level's cells
    tree.nodes.sort()
    tree.parents.sort()
    return tree


def store_packed(db: sqlite_utils.Database, tree: PackedTree) -> None:
    """Replace the spatial index's content by ``tree``."""
    for table in ("node", "rowid", "parent"):
        db.execute(f"DELETE FROM {RTREE}_{table}")  # nosec B608 # table names from code
    if not tree.nodes:
        db.execute(f"INSERT INTO {RTREE}_node VALUES (1, zeroblob(?))", [tree.node_size])  # nosec B608
        return
    for start in range(0, len(tree.leaf_ids), 65536):
        db.conn.executemany(f"INSERT INTO {RTREE}_rowid VALUES (?, ?)",  # nosec B608
                            zip(tree.leaf_ids[start:start + 65536].tolist(), tree.leaves[start:start + 65536].tolist()))
    db.conn.executemany(f"INSERT INTO {RTREE}_node VALUES (?, ?)", tree.nodes)  # nosec B608
    db.conn.executemany(f"INSERT INTO {RTREE}_parent VALUES (?, ?)", tree.parents)  # nosec B608


def _pack(boxes: np.ndarray, capacity: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sort-Tile-Recursive: for each level from the leaves up, the order of its cells and
    where its nodes start and end in that order; the last level is the root (one node)."""
    levels = []
    while True:
        lat = (boxes[:, 0].astype(np.float64) + boxes[:, 1]) / 2
        lon = (boxes[:, 2].astype(np.float64) + boxes[:, 3]) / 2
        order, cuts = _tiles(lat, lon, capacity)
        levels.append((order, cuts))
        nodes = len(cuts) - 1
        if nodes == 1:
            return levels
        boxes = _enclosing(boxes[order], cuts)  # the next level's cells are this level's nodes


def _enclosing(ordered: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """The box around each node's cells (``ordered`` boxes, a node from each cut to the next)."""
    starts = cuts[:-1]
    return np.column_stack([np.minimum.reduceat(ordered[:, 0], starts), np.maximum.reduceat(ordered[:, 1], starts),
                            np.minimum.reduceat(ordered[:, 2], starts), np.maximum.reduceat(ordered[:, 3], starts)])


def _tiles(lat: np.ndarray, lon: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells ordered into vertical slices by longitude, each sorted by latitude and cut
    into nodes of at most ``capacity`` (sizes evened out, so none is nearly empty)."""
    n = len(lat)
    nodes = max(1, math.ceil(n / capacity))
    slices = max(1, math.ceil(math.sqrt(nodes)))
    by_lon = np.argsort(lon, kind="stable")
    order_parts, cuts, start = [], [0], 0
    for part in np.array_split(by_lon, slices):
        if not len(part):
            continue
        part = part[np.argsort(lat[part], kind="stable")]
        order_parts.append(part)
        pieces = math.ceil(len(part) / capacity)
        sizes = np.full(pieces, len(part) // pieces)
        sizes[: len(part) % pieces] += 1
        cuts.extend((start + np.cumsum(sizes)).tolist())
        start += len(part)
    return np.concatenate(order_parts), np.array(cuts)


def _number(levels) -> list[np.ndarray]:
    """Node numbers for each level: 1 for the root, then 2, 3… from the top down."""
    numbers, next_number = [], 1
    for order, cuts in reversed(levels):
        count = len(cuts) - 1
        numbers.append(np.arange(next_number, next_number + count, dtype=np.int64))
        next_number += count
    return list(reversed(numbers))


def _down(values: np.ndarray) -> np.ndarray:
    """The largest 32-bit float not above each value, as rtree.c's rtreeValueDown."""
    floats = values.astype(np.float32)
    over = floats.astype(np.float64) > values
    floats[over] = (values[over] * np.where(values[over] < 0, _AWAY_FROM_ZERO, _TOWARDS_ZERO)).astype(np.float32)
    return floats


def _up(values: np.ndarray) -> np.ndarray:
    """The smallest 32-bit float not below each value, as rtree.c's rtreeValueUp."""
    floats = values.astype(np.float32)
    under = floats.astype(np.float64) < values
    floats[under] = (values[under] * np.where(values[under] < 0, _TOWARDS_ZERO, _AWAY_FROM_ZERO)).astype(np.float32)
    return floats
