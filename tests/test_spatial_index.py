"""The spatial index written packed after a large import answers exactly as SQLite's own
inserts would, stays a valid R*Tree (rtreecheck) and keeps working as rows change."""

import csv
import sqlite3
import threading

import numpy as np
import pytest

from mapapp import catalogue
from mapapp.catalogue import spatial
from mapapp.importing import importer, reading
from mapapp.mapdata.geocode import Chain

RTREE_SQL = "CREATE VIRTUAL TABLE organisations_rtree USING rtree (id, min_lat, max_lat, min_lon, max_lon)"
BOX = ("SELECT id FROM organisations_rtree WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?"
       " ORDER BY id")


class Bare:
    """A connection with only the index, as the catalogue's ``db`` is used by spatial."""

    def __init__(self):
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute(RTREE_SQL)

    def execute(self, sql, params=()):
        return self.conn.execute(sql, params)


def points(n, seed=3):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    # Values a 32-bit float cannot hold, on both sides of zero, at the poles and the antimeridian.
    edges = [(0.0, 0.0), (-0.1, -179.99999), (89.9999999, 179.9999999), (-45.123456789, 3.3333333333),
             (1e-30, -1e-30), (-90.0, 180.0), (45.76, 4.83)]
    for i, (a, b) in enumerate(edges[:n]):
        lat[i], lon[i] = a, b
    return np.arange(1, n + 1, dtype=np.int64) * 7, lat, lon


@pytest.mark.parametrize("n", [0, 1, 51, 52, 3000, 20000])
def test_a_packed_index_holds_and_finds_what_sqlite_would(n):
    ids, lat, lon = points(n)
    by_sqlite, packed = Bare(), Bare()
    by_sqlite.conn.executemany("INSERT INTO organisations_rtree VALUES (?, ?, ?, ?, ?)",
                               zip(ids.tolist(), lat.tolist(), lat.tolist(), lon.tolist(), lon.tolist()))
    spatial.write_packed(packed, ids, lat, lon)
    assert packed.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    everything = "SELECT * FROM organisations_rtree ORDER BY id"
    assert packed.execute(everything).fetchall() == by_sqlite.execute(everything).fetchall()
    rng = np.random.default_rng(n)
    for _ in range(100):
        lat0, lat1 = sorted(rng.uniform(-91, 91, 2))
        lon0, lon1 = sorted(rng.uniform(-181, 181, 2))
        box = (lat0, lat1, lon0, lon1)
        assert packed.execute(BOX, box).fetchall() == by_sqlite.execute(BOX, box).fetchall()
    exact = (45.76, 45.76, 4.83, 4.83)  # a box that is one stored point
    assert packed.execute(BOX, exact).fetchall() == by_sqlite.execute(BOX, exact).fetchall()


def test_a_packed_index_takes_inserts_moves_and_deletes():
    ids, lat, lon = points(5000)
    packed = Bare()
    spatial.write_packed(packed, ids, lat, lon)
    packed.conn.execute("DELETE FROM organisations_rtree WHERE id % 3 = 0")
    packed.conn.executemany("INSERT INTO organisations_rtree VALUES (?, ?, ?, ?, ?)",
                            [(10**9 + i, i % 90, i % 90, i % 180, i % 180) for i in range(3000)])
    packed.conn.execute("UPDATE organisations_rtree SET min_lat = 1, max_lat = 1 WHERE id % 5 = 0")
    assert packed.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    expected = sum(1 for i in ids.tolist() if i % 3) + 3000
    assert packed.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == expected


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "city", "country", "lat", "lon"])
        writer.writerows(rows)
    return path


def rows(n, start=0, seed=5):
    rng = np.random.default_rng(seed)
    return [(f"Coop {start + i}", "Lyon", "FR", round(43 + rng.uniform(0, 5), 6), round(1 + rng.uniform(0, 6), 6))
            for i in range(n)]


def import_csv(db, path):
    chain = Chain.from_config("provided", db, user_agent="")
    return importer.import_file(db, path, importer.Options(status="published"), chain)


def located_in(db, box):
    return [r[0] for r in db.execute("SELECT id FROM organisations WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
                                     " ORDER BY id", box)]


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_an_import_into_an_empty_catalogue_packs_the_index_and_a_small_one_adds_to_it(db, tmp_path, monkeypatch):
    ways = []
    real = spatial.index_new_points
    monkeypatch.setattr(catalogue, "index_new_points", lambda *a, **k: ways.append(real(*a, **k)) or ways[-1])
    import_csv(db, write_csv(tmp_path / "first.csv", rows(12000)))
    import_csv(db, write_csv(tmp_path / "more.csv", rows(300, start=12000, seed=6)))
    assert ways == ["packed", "inserted"]
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    located = db.execute("SELECT count(*) FROM organisations WHERE lat IS NOT NULL").fetchone()[0]
    assert located > 11000 and db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == located
    rng = np.random.default_rng(9)
    for _ in range(30):  # what the map's SQL paths ask of the index, against the rows themselves
        lat0, lat1 = sorted(rng.uniform(42.5, 48.5, 2))
        lon0, lon1 = sorted(rng.uniform(0.5, 7.5, 2))
        assert [r[0] for r in db.execute(BOX, (lat0, lat1, lon0, lon1))] == located_in(db, (lat0, lat1, lon0, lon1))
    # Edits after the import move and drop points through the catalogue's triggers.
    db.execute("UPDATE organisations SET lat = 10.5, lon = 20.5 WHERE id % 4 = 0")
    db.execute("DELETE FROM organisations WHERE id % 9 = 0")
    db.conn.commit()
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    assert [r[0] for r in db.execute(BOX, (10, 11, 20, 21))] == located_in(db, (10, 11, 20, 21))
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == \
        db.execute("SELECT count(*) FROM organisations WHERE lat IS NOT NULL").fetchone()[0]


def test_a_failed_import_leaves_the_index_as_it_was(db, tmp_path, monkeypatch):
    import_csv(db, write_csv(tmp_path / "first.csv", rows(500)))
    before = db.execute("SELECT * FROM organisations_rtree ORDER BY id").fetchall()

    def fail(*args, **kwargs):
        spatial.index_new_points(*args, **kwargs)
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(catalogue, "index_new_points", fail)
    with pytest.raises(RuntimeError):
        import_csv(db, write_csv(tmp_path / "big.csv", rows(3000, start=500)))
    assert db.execute("SELECT * FROM organisations_rtree ORDER BY id").fetchall() == before
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)


def as_sqlite_inserts_would(db):
    """The index SQLite's own inserts make of the catalogue's located organisations."""
    by_sqlite = Bare()
    by_sqlite.conn.executemany("INSERT INTO organisations_rtree VALUES (?, ?, ?, ?, ?)", db.execute(
        "SELECT id, lat, lat, lon, lon FROM organisations WHERE lat IS NOT NULL ORDER BY id"))
    return by_sqlite


def refused_half_way(db, tree):
    """What defensive SQLite does to the packed writer: the shadow tables refuse it (here
    after some of it is written, which must be undone)."""
    for table in ("node", "rowid", "parent"):
        db.execute(f"DELETE FROM organisations_rtree_{table}")
    raise sqlite3.DatabaseError("table organisations_rtree_node may not be modified")


LITTLE_ENDIAN = np.dtype([("id", "<i8"), ("box", "<f4", (4,))])  # a node format SQLite does not read


@pytest.mark.parametrize("refusal", ["shadow tables read-only", "another node format"])
def test_a_packed_index_that_sqlite_refuses_is_undone_and_sqlite_inserts_the_points(db, tmp_path, monkeypatch,
                                                                                   caplog, refusal):
    import_csv(db, write_csv(tmp_path / "first.csv", rows(200)))  # held before: kept as it was
    if refusal == "shadow tables read-only":
        monkeypatch.setattr(spatial, "store_packed", refused_half_way)
    else:
        monkeypatch.setattr(spatial, "_CELL", LITTLE_ENDIAN)
    report = import_csv(db, write_csv(tmp_path / "big.csv", rows(3000, start=200, seed=8)))
    assert report.spatial_index.startswith("inserted (packing refused: "), report.spatial_index
    assert "could not be written packed" in caplog.text and "one by one instead" in caplog.text
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    by_sqlite = as_sqlite_inserts_would(db)
    everything = "SELECT * FROM organisations_rtree ORDER BY id"
    assert db.execute(everything).fetchall() == by_sqlite.execute(everything).fetchall()
    assert len(db.execute(everything).fetchall()) == len(located_in(db, (-90, 90, -180, 180))) > 3000
    rng = np.random.default_rng(4)
    found = 0
    for _ in range(30):
        lat0, lat1 = sorted(rng.uniform(42.5, 48.5, 2))
        lon0, lon1 = sorted(rng.uniform(0.5, 7.5, 2))
        box = (lat0, lat1, lon0, lon1)
        assert db.execute(BOX, box).fetchall() == by_sqlite.execute(BOX, box).fetchall()
        found += len(by_sqlite.execute(BOX, box).fetchall())
    assert found > 1000


def test_an_import_says_it_packed_the_index(db, tmp_path):
    report = import_csv(db, write_csv(tmp_path / "first.csv", rows(500)))
    assert report.spatial_index == "packed"
    assert db.execute("SELECT * FROM organisations_rtree ORDER BY id").fetchall() == \
        as_sqlite_inserts_would(db).execute("SELECT * FROM organisations_rtree ORDER BY id").fetchall()


def test_a_packed_index_is_made_from_the_points_the_import_wrote(db, tmp_path, monkeypatch):
    """Issue 31: reading a million points back from the table took 2 s of the import; it
    now hands over the points it wrote, chunk after chunk, and the tree is SQLite's."""
    monkeypatch.setattr(reading, "CHUNK_ROWS", 50)
    given = []
    real = spatial.index_new_points
    monkeypatch.setattr(catalogue, "index_new_points",
                        lambda db_, first, points=None, **k: given.append(points) or real(db_, first, points, **k))
    lines = rows(500)
    lines.append((lines[3][0], "Lyon", "FR", 47.5, 2.5))  # Coop 3 again, elsewhere: skipped as a repeat
    report = import_csv(db, write_csv(tmp_path / "first.csv", lines))
    assert report.spatial_index == "packed" and report.counts["skipped"] == 1
    located = located_in(db, (-90, 90, -180, 180))
    assert [list(points) for points in given[0][:1]] == [located] and len(given[0][1]) == len(located) > 450
    everything = "SELECT * FROM organisations_rtree ORDER BY id"
    assert db.execute(everything).fetchall() == as_sqlite_inserts_would(db).execute(everything).fetchall()
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)


def test_the_points_are_put_in_order_for_the_packed_tree_while_the_import_rebuilds_its_indexes(db, tmp_path, monkeypatch):
    """Issue 31: putting a million points in order took most of a second of the import's end,
    while the process that had read the file was done; they are put in order in a thread while
    SQLite rebuilds the organisations' indexes (each waits here to see the other running)."""
    monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 40)  # the indexes are set aside, then rebuilt
    monkeypatch.setattr(reading, "CHUNK_ROWS", 50)  # a first chunk of 50 rows is a large load here
    packing, rebuilding = threading.Event(), threading.Event()
    real_order, real_rebuild = spatial.order_points, catalogue.rebuild_indexes

    def order_points(*args):
        packing.set()
        assert rebuilding.wait(10), "the indexes were not rebuilt meanwhile"
        return real_order(*args)

    def rebuild(db_, made_by):
        rebuilding.set()
        assert packing.wait(10), "the tree was not worked out meanwhile"
        assert made_by  # a large load's
        real_rebuild(db_, made_by)
    monkeypatch.setattr(spatial, "order_points", order_points)
    monkeypatch.setattr(catalogue, "rebuild_indexes", rebuild)
    report = import_csv(db, write_csv(tmp_path / "first.csv", rows(600)))
    assert report.spatial_index == "packed"
    assert db.execute("SELECT rtreecheck('organisations_rtree')").fetchone() == ("ok",)
    everything = "SELECT * FROM organisations_rtree ORDER BY id"
    assert db.execute(everything).fetchall() == as_sqlite_inserts_would(db).execute(everything).fetchall()
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
