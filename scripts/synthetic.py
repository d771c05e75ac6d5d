"""A synthetic catalogue spread like real organisations: dense in cities, sparse elsewhere,
and named like them: some names repeat (see ``organisation_name``).

Used by the benchmarks (``bench_map.py``, ``bench_import.py``); every organisation is
fictional and marked with source ``synthetic``.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapapp import catalogue, vocab  # noqa: E402
from mapapp.mapdata import gazetteer  # noqa: E402

COUNTRIES = ("FR", "BE", "IT", "PL", "CY", "NL", "DE", "ES", "PT", "GR")
# Real directories repeat names: the same kind of organisation in many towns, several in a
# big one, often with the town or a number in the name ("Agora Repair Café Lyon 2"). Unique
# names hid an import that failed on them (issue 24): "Agora Repair Café Lyon 2" took
# agora-repair-cafe-lyon-2 before the second plain "Agora Repair Café Lyon" asked for it.
WORDS = ("Green", "Solidaire", "Agora", "Harvest", "Terra", "Ponte", "Most", "Brug", "Kolo", "Lumen")
FORMS = ("Cooperative", "Association", "Repair Café", "Credit Union", "Food Bank", "Community Garden",
         "Makerspace", "Housing Co-op", "Energy Co-op", "Solidarity Shop")
SHARED_SHARE = 0.25  # of the organisations, named from WORDS, FORMS and their town
NUMBERED_SHARE = 0.3  # of those, with a number after the name
CHUNK = 100_000  # organisations written at a time (3,000,000 held at once took several GB)


def organisation_name(unique: str, city: str, rng: random.Random) -> str:
    """``unique`` for most organisations; for SHARED_SHARE of them a name made of a word, a
    kind of organisation and the town, NUMBERED_SHARE of the time with a number (2 to 9),
    as the shared generator of benchmark data names them all. A town's common names then
    repeat: at 100,000 rows over the twelve towns of ``bench_import``, each about 15 times."""
    if rng.random() >= SHARED_SHARE:
        return unique
    name = f"{rng.choice(WORDS)} {rng.choice(FORMS)} {city}"
    if rng.random() < NUMBERED_SHARE:
        name += f" {rng.randint(2, 9)}"
    return name


def build(path: Path, n: int, seed: int = 42) -> None:
    """Create ``path`` holding ``n`` published synthetic organisations."""
    rng = random.Random(seed)
    names = random.Random(seed + 1)  # its own: the places and points stay those of earlier runs
    places = [p for c in COUNTRIES for p in gazetteer._index(c).values() for p in p]
    places = list({(p.name, p.country, p.lat): p for p in places}.values())
    weights = [max(p.population, 500) ** 0.9 for p in places]
    themes, resources = vocab.themes().codes(), vocab.resources().codes()
    relations = vocab.relations().codes()
    db = catalogue.connect(path)
    picker, first_id, items = catalogue.slugs.Picker(db), None, []
    with catalogue.write_transaction(db):  # as a large import writes it: the spatial index packed
        for i, place in enumerate(rng.choices(places, weights, k=n)):
            spread = 0.03 if rng.random() < 0.9 else 0.6  # most near a town, some in the countryside
            lat = max(-89.0, min(89.0, place.lat + rng.gauss(0, spread)))
            lon = max(-179.0, min(179.0, place.lon + rng.gauss(0, spread * 1.4)))
            values = {"name": organisation_name(f"Synthetic organisation {i}", place.name, names), "city": place.name,
                      "country": place.country, "lat": round(lat, 5), "lon": round(lon, 5), "geo_precision": "provided",
                      "geo_source": "synthetic", "status": "published", "source": "synthetic",
                      "source_ref": str(i), "relation": rng.choice(relations),
                      "description": f"A synthetic organisation in {place.name} for benchmarks."}
            related = catalogue.related_of(
                rng.sample(themes, rng.randint(1, 3)),
                {r: "" for r in rng.sample(resources, rng.randint(0, 3))},
                {r: "" for r in rng.sample(resources, rng.randint(0, 3))})
            items.append((values, related))
            if len(items) == CHUNK or i == n - 1:
                inserted = catalogue.bulk_insert(db, items, picker=picker, spatial=False)
                first_id = inserted[0][0] if first_id is None else first_id
                items = []
        if first_id is not None:
            catalogue.index_new_points(db, first_id)
    db.execute("ANALYZE")
    db.close()


def catalogue_at(db: str | None, size: int, folder: str | Path) -> Path:
    """The benchmarks' catalogue: ``db`` (made if missing), else a new one in ``folder``;
    building one says how long it took."""
    path = Path(db) if db else Path(folder) / "bench.db"
    if not path.exists():
        started = time.perf_counter()
        build(path, size)
        print(f"built a synthetic catalogue of {size:,} in {time.perf_counter() - started:.1f} s")
    return path


if __name__ == "__main__":
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
