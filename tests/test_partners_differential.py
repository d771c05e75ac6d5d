"""An organisation's possible partners are the same whichever path finds them: the
columns' fast path (``mapindex.matches``), the SQL's widening boxes (``catalogue.matches``)
and the SQL's search over every organisation, on random catalogues: the same partners,
in the same order, with the same shared resources and distances."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from mapapp import catalogue, geo, vocab
from mapapp.catalogue import reads
from mapapp.mapdata import mapindex

# Few names, so that partners tie on name too (then the id decides).
NAMES = ("Coop", "coop", "Atelier", "Zèbre", "Épicerie")
# Places partners crowd around, including both sides of the antimeridian and the far north.
PLACES = ((45.76, 4.83), (50.85, 4.35), (-17.7, 178.9), (-17.6, -179.8), (64.1, -21.9), (78.2, 15.6),
          (0.0, 0.0), (-33.9, 18.4))


def populate(db, rng: random.Random, n: int) -> list[int]:
    """``n`` organisations: most near a few places, some anywhere, some at the very same
    point (ties in distance), some with no point; a few resources, so that many match."""
    resources = rng.sample(vocab.resources().codes(), 4)
    ids = []
    for i in range(n):
        where = rng.random()
        if where < 0.1:
            lat = lon = None
        elif where < 0.25:
            lat, lon = rng.choice(PLACES)  # exactly at the place
        elif where < 0.4:
            lat, lon = rng.uniform(-89.9, 89.9), rng.uniform(-180, 180)
        else:
            lat, lon = rng.choice(PLACES)
            lat = max(-89.9, min(89.9, lat + rng.gauss(0, rng.choice((0.05, 1.0, 8.0)))))
            lon = (lon + rng.gauss(0, rng.choice((0.05, 1.0, 8.0))) + 180) % 360 - 180
        saved = catalogue.save_organisation(db, {
            "name": rng.choice(NAMES), "country": "FR", "lat": lat, "lon": lon,
            "status": rng.choice(("published",) * 5 + ("draft",)), "source": "t", "source_ref": str(i)},
            themes=[], needs={r: "" for r in rng.sample(resources, rng.randint(0, 3))},
            offers={r: "" for r in rng.sample(resources, rng.randint(0, 3))})
        ids.append(saved.id)
    return ids


def partners(found: dict[str, list[dict]]) -> dict[str, list[tuple]]:
    return {kind: [(m["id"], m["shared"], m["km"]) for m in found[kind]] for kind in ("offering", "needing")}


@pytest.mark.parametrize("seed", (1, 2, 3, 4))
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_partners_from_the_columns_are_those_of_the_sql_on_random_catalogues(db, monkeypatch, seed):
    rng = random.Random(seed)
    populate(db, rng, 500)
    columns = mapindex.MapIndex().get(db)
    published = [r[0] for r in db.execute("SELECT slug FROM organisations WHERE status = 'published'")]
    compared = 0
    for slug in rng.sample(published, 60):
        org = catalogue.get_organisation(db, slug)
        limit = rng.choice((1, 3, 8, 20))
        fast = partners(mapindex.matches(columns, db, org, limit=limit))
        boxes = partners(catalogue.matches(db, org["id"], limit=limit))
        with monkeypatch.context() as only_the_full_search:
            only_the_full_search.setattr(reads, "MATCH_RADII", ())
            full = partners(catalogue.matches(db, org["id"], limit=limit))
        assert fast == boxes == full, (slug, org["lat"], org["lon"], limit)
        compared += sum(len(v) for v in full.values())
    assert compared > 400


def test_the_numpy_distances_are_those_of_distance_km():
    rng = random.Random(8)
    here = (rng.uniform(-90, 90), rng.uniform(-180, 180))
    points = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(2000)]
    many = geo.distances_km(here, np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    assert all(abs(a - geo.distance_km(here, p)) < 1e-9 for a, p in zip(many.tolist(), points))
    # Lyon to Brussels, as a map measures it.
    assert round(geo.distance_km((45.76, 4.83), (50.85, 4.35))) == 567


def test_the_boxes_around_a_point_hold_every_point_within_the_distance():
    # What lets the SQL stop widening: nothing within the distance is outside its boxes,
    # across the antimeridian and past the poles too.
    rng = random.Random(12)
    for _ in range(300):
        here = (rng.choice((rng.uniform(-90, 90), rng.uniform(80, 90), rng.uniform(-90, -80))),
                rng.choice((rng.uniform(-180, 180), rng.uniform(170, 180), rng.uniform(-180, -170))))
        degrees = rng.choice((0.1, 1.0, 8.0, 45.0))
        boxes = geo.boxes_around(here, degrees)
        km = geo.EARTH_RADIUS_KM * math.radians(degrees)
        for _ in range(200):
            point = (here[0] + rng.uniform(-2, 2) * degrees, here[1] + rng.uniform(-6, 6) * degrees)
            point = (max(-90.0, min(90.0, point[0])), (point[1] + 180) % 360 - 180)
            if geo.distance_km(here, point) <= km:
                assert any(s <= point[0] <= n and w <= point[1] <= e for s, n, w, e in boxes), (here, degrees, point)


def test_the_nearest_partner_across_the_antimeridian_comes_first(db):
    # Fiji straddles 180°: a partner 10 km east, at -179.95, is nearer than ten at 179.0.
    def add(ref, lat, lon, **resources):
        return catalogue.save_organisation(db, {"name": f"Coop {ref}", "country": "FJ", "lat": lat, "lon": lon,
                                                "status": "published", "source": "t", "source_ref": ref},
                                           themes=[], **resources).id
    seeker = add("seeker", -17.7, 179.95, needs={"premises": ""})
    across = add("across", -17.7, -179.95, offers={"premises": ""})
    west = [add(f"west{i}", -17.7 + i / 100, 179.0, offers={"premises": ""}) for i in range(10)]
    found = catalogue.matches(db, seeker, limit=8)["offering"]
    assert [m["id"] for m in found][:1] == [across] and round(found[0]["km"]) == 11
    assert {m["id"] for m in found[1:]} <= set(west)
