"""The low zooms' sums are patched with a staff edit, not summed again: exactly what summing
them again gives (issue 31: every worker re-summed every zoom after each edit)."""

from __future__ import annotations

import random

import numpy as np

from mapapp import catalogue
from mapapp.catalogue import staff
from mapapp.mapdata import levels, mapindex


def _org(rng: random.Random, n: int) -> dict:
    lat, lon = rng.choice([(45.76, 4.83), (48.85, 2.35), (41.9, 12.5), (52.23, 21.01)])
    return {"name": f"Cooperative {n}", "city": "Somewhere", "country": "FR", "status": "published",
            "lat": lat + rng.uniform(-2, 2), "lon": lon + rng.uniform(-2, 2), "source": "test"}


def _same(patched: levels.Level, fresh: levels.Level) -> None:
    assert np.array_equal(patched.keys, fresh.keys) and np.array_equal(patched.starts, fresh.starts)
    assert np.array_equal(patched.order, fresh.order)
    for name in levels.Sums.__dataclass_fields__:
        assert np.array_equal(getattr(patched.sums, name), getattr(fresh.sums, name)), name


def test_patched_levels_are_those_summed_again(db):
    rng = random.Random(3)
    saved = [catalogue.save_organisation(db, _org(rng, n)) for n in range(400)]
    index = mapindex.MapIndex()
    columns = index.get(db)
    for zoom in range(levels.LEVELS_MAX_ZOOM + 1):
        levels.zoom_level(columns, zoom)
    # A staff member adds two, moves one to another cell, takes one off the map, removes its place.
    catalogue.save_organisation(db, _org(rng, 1000))
    catalogue.save_organisation(db, {**_org(rng, 1001), "lat": columns.lat[5], "lon": columns.lon[5]})
    moved = catalogue.get_organisation(db, saved[10].slug)
    db.execute("UPDATE organisations SET lat = 60.1, lon = 10.7 WHERE id = ?", [moved["id"]])
    staff.set_status(db, [saved[20].id], "draft")
    db.execute("UPDATE organisations SET lat = NULL, lon = NULL WHERE id = ?", [saved[30].id])
    db.conn.commit()
    patched = index.get(db)
    assert patched is not columns and patched.version > columns.version
    # Each zoom patched when first asked for (t-cold): none left to sum again from every point.
    assert all(levels.has_level(patched, zoom) for zoom in range(levels.LEVELS_MAX_ZOOM + 1))
    summed = levels.levels_summed
    mine = {zoom: levels.zoom_level(patched, zoom) for zoom in range(levels.LEVELS_MAX_ZOOM + 1)}
    assert levels.levels_summed == summed
    fresh = mapindex.MapColumns(patched.version, patched.ids, patched.lat, patched.lon, patched.merc_y,
                                patched.facets, name_order=patched.name_order, live=patched.live,
                                names=patched.names, category=patched.category, palette=patched.palette)
    for zoom in range(levels.LEVELS_MAX_ZOOM + 1):
        _same(mine[zoom], levels.zoom_level(fresh, zoom))
    assert sum(int(n) for n in patched.levels[3].sums.counts) == 400 + 2 - 2
