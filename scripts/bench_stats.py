"""How fast the insights are: ``/stats`` (cold: the first request for a catalogue version
and filters; warm: asked again), its figures alone, each chart drawn, and a project's page
and PDF report, on a synthetic catalogue.

    python scripts/bench_stats.py --size 100000 [--db PATH]

Prints p50/p95 server times in milliseconds (Flask's test client: no network).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import synthetic  # noqa: E402

from mapapp import catalogue, create_app, vocab  # noqa: E402
from mapapp.filters import Filters  # noqa: E402
from mapapp.insights import charts, numbers, views  # noqa: E402
from mapapp.mapdata import mapindex  # noqa: E402


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def line(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"{label:<44} p50 {statistics.median(ordered):8.1f} ms  p95 {p95:8.1f} ms  max {ordered[-1]:8.1f} ms"
          f"  ({len(ordered)} runs)")


def selections(rng: random.Random, n: int) -> list[str]:
    """Query strings as visitors make them: none, a country, a theme, a need, two of them."""
    themes, resources = vocab.themes().codes(), vocab.resources().codes()
    out = [""]
    for _ in range(n - 1):
        kind = rng.choice(("country", "theme", "need", "country+theme"))
        if kind == "country":
            out.append(f"country={rng.choice(synthetic.COUNTRIES)}")
        elif kind == "theme":
            out.append(f"theme={rng.choice(themes)}")
        elif kind == "need":
            out.append(f"need={rng.choice(resources)}")
        else:
            out.append(f"country={rng.choice(synthetic.COUNTRIES)}&theme={rng.choice(themes)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="organisations in the synthetic catalogue")
    parser.add_argument("--db", help="use (or create) this catalogue instead of a temporary one")
    parser.add_argument("--selections", type=int, default=20, help="random filter combinations to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = synthetic.catalogue_at(args.db, args.size, tmp)
        db = catalogue.connect(db_path)
        print(f"{catalogue.organisation_count(db):,} organisations")
        rng = random.Random(3)
        queries = selections(rng, args.selections)

        chosen = [Filters.from_args(dict(p.split("=") for p in q.split("&") if p)) for q in queries]
        line("figures in SQL (drafts included: staff)", [timed(lambda f=f: numbers.compute(
            db, f, statuses=("draft", "published"))) for f in chosen])
        index = mapindex.MapIndex()
        line("map columns read (once per version)", [timed(lambda: index.get(db))])
        columns = index.get(db)
        line("figures from the map columns (public)", [timed(lambda f=f: numbers.compute(db, f, columns=columns))
                                                        for f in chosen])
        found = numbers.compute(db, Filters())
        for name, chart in views.charts_of(found, "en").items():
            line(f"draw {name} (SVG, PNG)", [timed(lambda c=chart: (charts.draw(c, "svg"), charts.draw(c, "png")))])

        app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "CACHE_DIR": str(Path(tmp) / "cache")})
        client = app.test_client()
        client.get("/api/facets")  # the map snapshot the filter panel reads
        line("/stats cold (first time for these filters)", [timed(lambda q=q: client.get(f"/stats?{q}")) for q in queries])
        line("/stats warm (asked again)", [timed(lambda q=q: client.get(f"/stats?{q}")) for q in queries])
        line("/stats/resources.svg cold", [timed(lambda q=q: client.get(f"/stats/resources.svg?{q}")) for q in queries[:5]])
        line("/stats/resources.svg warm", [timed(lambda q=q: client.get(f"/stats/resources.svg?{q}")) for q in queries[:5]])

        project = "bench-project"
        ids = [r[0] for r in db.execute("SELECT id FROM organisations ORDER BY random() LIMIT 300")]
        with catalogue.write_transaction(db):
            project_id = catalogue.save_project(db, {"slug": project, "name": "Benchmark project"})
            for org_id in ids:
                catalogue.add_to_project(db, project_id, org_id)
        line(f"/projects/{project} (300 members) cold", [timed(lambda: client.get(f"/projects/{project}"))])
        line(f"/projects/{project} warm", [timed(lambda: client.get(f"/projects/{project}")) for _ in range(5)])
        line(f"/projects/{project}/report.pdf cold", [timed(lambda: client.get(f"/projects/{project}/report.pdf"))])
        with catalogue.write_transaction(db):
            db.execute("DELETE FROM projects WHERE slug = ?", [project])


if __name__ == "__main__":
    main()
