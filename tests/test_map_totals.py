"""The map page's totals and low-zoom views read only what they need of the columns, and
answer exactly what reading every point answers: sets of bits turned into positions, the
selection's bounds, a view's points found from the selection or from every point."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from test_fast_paths import populate, random_filters

from mapapp import kinds
from mapapp.catalogue import fields as field_store
from mapapp.filters import BBox, Filters
from mapapp.mapdata import bits as bitsets
from mapapp.mapdata import levels, mapindex


@pytest.fixture(autouse=True)
def field_kinds(db):
    kinds.use_fields(lambda: field_store.filter_kinds(db))
    yield
    kinds.use_fields(None)


@pytest.mark.parametrize("density", (0.0, 0.001, 0.02, 0.5, 1.0))
def test_positions_of_bits_are_those_of_their_mask(density):
    rng = np.random.default_rng(int(density * 1000))
    for n in (1, 63, 64, 65, 1000, 70_001):
        mask = rng.random(n) < density
        for edge in (None, 0, n - 1):  # the first and the last organisation set too
            if edge is not None:
                mask[edge] = True
            assert bitsets.positions(bitsets.pack(mask), n).tolist() == np.flatnonzero(mask).tolist()


def test_the_whole_maps_bounds_come_from_its_summed_cells_and_are_its_points(db):
    populate(db, random.Random(5), 200)
    columns = mapindex.MapIndex().get(db)
    everyone = mapindex.selection_bits(columns, Filters(), db)
    assert 0 not in columns.levels
    from_points = mapindex.selection_bounds(columns, everyone)
    levels.zoom_level(columns, 0)
    located = ~np.isnan(columns.lat)
    assert mapindex.selection_bounds(columns, everyone) == from_points == [
        float(columns.lon[located].min()), float(columns.lat[located].min()),
        float(columns.lon[located].max()), float(columns.lat[located].max())]


@pytest.mark.parametrize("seed", (1, 2))
def test_a_view_found_from_the_selections_points_or_from_every_point_is_the_same(db, monkeypatch, seed):
    """Clusters at every zoom, of broad and narrow selections: the selection's points read
    first (low zooms, narrow selections) or every point compared with the view first."""
    rng = random.Random(seed)
    populate(db, rng, 400)
    columns = mapindex.MapIndex().get(db)
    for _ in range(40):
        filters = random_filters(db, rng)
        zoom = rng.randint(1, 14)
        lat, lon = rng.uniform(35, 55), rng.uniform(-5, 30)
        span = 360 / 2 ** zoom
        bbox = BBox(max(-180, lon - span), max(-85, lat - span / 2), min(180, lon + span), min(85, lat + span / 2))
        bits = mapindex.selection_bits(columns, filters, db)
        answers = []
        for first in (-1, 99):
            monkeypatch.setattr(mapindex, "POINTS_FIRST_ZOOM", first)
            answers.append(json.dumps(mapindex.clusters(columns, None, bbox, zoom, db, bits=bits)))
            answers.append(json.dumps(mapindex.clusters(columns, mapindex.selection(columns, filters, db), bbox, zoom, db)))
        assert len(set(answers)) == 1, (filters, zoom)


def test_the_snapshot_reads_each_table_in_its_own_order_once(db):
    """Reading the columns costs about as much per organisation at any size: no statement
    sorts the organisations again (3,000,000 rows fetched at random through an index, then
    sorted by id) or walks every published organisation once per filter value (150 million
    index searches at 3,000,000): the snapshot grew 3.8 times for 3 times the organisations."""
    populate(db, random.Random(4), 50)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        mapindex.load(db)
    finally:
        db.conn.set_trace_callback(None)
    plans = {sql: " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
             for sql in statements if sql.lstrip().upper().startswith("SELECT")}
    assert len(plans) > 20
    sorted_again = [sql for sql, plan in plans.items() if "TEMP B-TREE" in plan and "organisations" in plan]
    assert not sorted_again
    # The lists' order is read from the index kept in it: its only walk.
    walks = [sql for sql, plan in plans.items() if "organisations_published_sort" in plan and "count(" not in sql]
    assert [sql for sql in walks if "ORDER BY sort_key" not in sql] == []
    # Each value's members come from its link table's index alone (the columns keep the
    # published ones): with the organisations joined, a catalogue's statistics may lead
    # SQLite to walk them all for each value.
    members = [plan for sql, plan in plans.items()
               if any(table in sql for table in ("organisation_themes", "organisation_resources", "_organisations", "organisation_fields"))]
    assert len(members) > 10
    assert [plan for plan in members if "SEARCH o " in plan or "SCAN o" in plan] == []
