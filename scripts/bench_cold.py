"""Benchmark the cold paths of a large catalogue: a fresh worker's first answers, and the
first map and /stats answers after an import.

    python scripts/bench_cold.py --db /tmp/copy-of-1m.db      # the catalogue is changed: pass a copy
    python scripts/bench_cold.py --size 100000                # builds a synthetic catalogue first

Prints, with the host's speed reference (``bench_map.host_speed`` when present, else a
fixed loop's time):
- a fresh process's first ``/api/clusters`` and ``/`` (the map's snapshot already on disk,
  as when gunicorn starts or replaces a worker), and the first one that builds it;
- after ``mapapp``'s importer adds one organisation (in its own process, as a sync or a
  command-line import does), the next ``/api/clusters``, ``/`` and ``/stats``: the import is
  patched in, the previous figures of /stats served while the new ones are counted;
- the same after an import of ``--rows`` organisations (100,000): the previous snapshot
  answers while the new one is read in the background; then how long that read took.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import logging  # noqa: E402

import bench_import  # noqa: E402
import hostref  # noqa: E402
import synthetic  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)

VIEWS = ("/api/clusters?bbox=-25,34,45,72&zoom=4", "/api/clusters?bbox=2.2,48.8,2.5,48.9&zoom=13",
         "/api/clusters?bbox=-10,35,30,60&zoom=6&theme=AM40")


def speed_reference() -> float:
    """Milliseconds of a fixed pure-Python loop: the host's speed at this hour."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i * i % 7
    return (time.perf_counter() - start) * 1000


def timed(client, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.get(path)
    return (time.perf_counter() - start) * 1000, response.status_code


FRESH = """
import json, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
from mapapp import create_app
app = create_app({{"DATABASE": {db!r}, "CACHE_DIR": {cache!r}, "SECRET_KEY": "bench"}})
client = app.test_client()
ready = time.perf_counter()
out = {{"start_ms": (ready - start) * 1000}}
for name, path in (("clusters", {view!r}), ("page", "/")):
    t = time.perf_counter()
    code = client.get(path).status_code
    out[name] = [(time.perf_counter() - t) * 1000, code]
print(json.dumps(out))
"""


def fresh_worker(db: Path, cache: Path) -> dict:
    """A new process's first answers (imports, app and all), as a new gunicorn worker's."""
    done = subprocess.run([sys.executable, "-c", FRESH.format(root=str(ROOT), db=str(db), cache=str(cache),
                                                              view=VIEWS[0])],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def after_import(app, client, db: Path, rows: int, folder: Path) -> None:
    from mapapp.web.mapcontext import map_index

    file = folder / f"import-{rows}.csv"
    run = f"C{int(time.time()) % 100000:05d}-"  # references of this run: every row is a new organisation
    with file.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(bench_import.HEADER)
        writer.writerows([run + row[0], *row[1:]] for row in bench_import.rows(rows))
    result = bench_import.run_import(db, file, None)
    with app.app_context():
        before = map_index().reads
    print(f"\nimport of {rows:,} rows: {result.get('seconds', 0):.1f} s in its own process "
          f"({result.get('counts', {}).get('created', 0):,} created)")
    for path in (*VIEWS, "/", "/stats"):
        ms, code = timed(client, path)
        print(f"  first {path:55s} {ms:8.1f} ms  ({code})")
    with app.app_context():
        index = map_index()
        start = time.perf_counter()
        index.wait()
        waited = time.perf_counter() - start
        print(f"  map columns read again in the background: {index.reads - before} time(s)"
              f" (this waited {waited:.1f} s more for it)")
    app.extensions["mapapp.stats"].wait()
    times = [timed(client, "/stats")[0] for _ in range(20)]
    print(f"  /stats after the new figures are counted: p50 {statistics.median(times):.1f} ms, "
          f"p95 {sorted(times)[18]:.1f} ms")
    ms, _ = timed(client, VIEWS[0])
    print(f"  {VIEWS[0]} on the new columns: {ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a catalogue to use (it is changed: pass a copy)")
    parser.add_argument("--size", type=int, default=100_000, help="without --db: build a synthetic one this big")
    parser.add_argument("--rows", type=int, default=100_000, help="the large import's rows")
    parser.add_argument("--fresh", type=int, default=2, help="fresh workers started after the first")
    parser.add_argument("--cache", help="the app's cache folder (default: a temporary one); a snapshot kept there "
                                        "from an earlier run of the same catalogue is used, not built again")
    args = parser.parse_args()
    print(hostref.line())
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        folder = Path(tmp)
        db = Path(args.db) if args.db else synthetic.catalogue_at(None, args.size, folder)
        cache = Path(args.cache) if args.cache else folder / "cache"
        first = fresh_worker(db, cache)
        print(f"first process, snapshot built: start {first['start_ms']:.0f} ms, /api/clusters "
              f"{first['clusters'][0]:.0f} ms, / {first['page'][0]:.0f} ms")
        for n in range(args.fresh):
            fresh = fresh_worker(db, cache)
            print(f"fresh worker {n + 1}, snapshot on disk: start {fresh['start_ms']:.0f} ms, /api/clusters "
                  f"{fresh['clusters'][0]:.0f} ms ({fresh['clusters'][1]}), / {fresh['page'][0]:.0f} ms "
                  f"({fresh['page'][1]})")

        from mapapp import create_app

        app = create_app({"DATABASE": str(db), "CACHE_DIR": str(cache), "SECRET_KEY": "bench"})
        client = app.test_client()
        for path in (*VIEWS, "/", "/stats"):
            ms, _ = timed(client, path)
            print(f"warm-up {path:55s} {ms:8.1f} ms")
        after_import(app, client, db, 1, folder)
        after_import(app, client, db, args.rows, folder)
        print(hostref.line())


if __name__ == "__main__":
    main()
