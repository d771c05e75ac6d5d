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

The job worker (``mapapp worker``, a process of its own) runs meanwhile, as in production: it
counts the figures of /stats once after the changes, and every answer of /stats is the figures
it kept (``--no-worker``: each web worker counts them in a thread, the behaviour without one).
Each figure is printed with the CPU time this process spent on it (on a shared host, the time
waits for a core; the CPU time less so), and the host reference (``hostref.py``) at the start
and the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
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

from mapapp.mapdata import levels  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)

VIEWS = ("/api/clusters?bbox=-25,34,45,72&zoom=4", "/api/clusters?bbox=2.2,48.8,2.5,48.9&zoom=13",
         "/api/clusters?bbox=-10,35,30,60&zoom=6&theme=AM40")


def timed(client, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.get(path)
    return (time.perf_counter() - start) * 1000, response.status_code


def timed_cpu(client, path: str) -> tuple[float, float, int, str]:
    """Milliseconds, CPU milliseconds (this process) and status of a request, and its text."""
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    return ((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000, response.status_code,
            response.get_data(as_text=True))


def start_worker(db: Path, cache: Path) -> subprocess.Popen:
    """The job worker over the catalogue, in a process of its own (as ``mapapp worker`` runs)."""
    env = {**os.environ, "MAPAPP_DATABASE": str(db), "MAPAPP_CACHE_DIR": str(cache), "MAPAPP_SECRET_KEY": "bench",
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "from mapapp.cli import main; main()", "worker", "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    t, cpu = time.perf_counter(), time.process_time()
    code = client.get(path).status_code
    out[name] = [(time.perf_counter() - t) * 1000, code, (time.process_time() - cpu) * 1000]
print(json.dumps(out))
"""


def fresh_worker(db: Path, cache: Path) -> dict:
    """A new process's first answers (imports, app and all), as a new gunicorn worker's."""
    done = subprocess.run([sys.executable, "-c", FRESH.format(root=str(ROOT), db=str(db), cache=str(cache),
                                                              view=VIEWS[0])],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def after_import(app, client, db: Path, rows: int, folder: Path, *, worker: bool) -> None:
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
    summed = levels.levels_summed
    print(f"\nimport of {rows:,} rows: {result.get('seconds', 0):.1f} s in its own process "
          f"({result.get('counts', {}).get('created', 0):,} created)")
    for path in (*VIEWS, "/", "/stats"):
        ms, cpu, code, text = timed_cpu(client, path)
        dated = " (the previous figures, dated)" if "being counted" in text else ""
        print(f"  first {path:55s} {ms:8.1f} ms  CPU {cpu:7.1f} ms  ({code}){dated}")
    with app.app_context():
        index = map_index()
        start = time.perf_counter()
        index.wait()
        waited = time.perf_counter() - start
        print(f"  map columns read again in the background: {index.reads - before} time(s)"
              f" (this waited {waited:.1f} s more for it); low zooms summed from every point: "
              f"{levels.levels_summed - summed} (the others patched)")
    start = time.perf_counter()
    if worker:  # the job worker counts them: until then, the previous figures with their date
        while "being counted" in client.get("/stats").get_data(as_text=True) and time.perf_counter() - start < 600:
            time.sleep(0.5)
    else:
        app.extensions["mapapp.stats"].wait()
    print(f"  new figures of /stats counted after {time.perf_counter() - start:.1f} s more"
          f" ({'by the job worker' if worker else 'in a thread of this process'})")
    times = [timed_cpu(client, "/stats")[:2] for _ in range(20)]
    print(f"  /stats once counted (20 requests): p50 {statistics.median(t for t, _ in times):.1f} ms, "
          f"p95 {sorted(t for t, _ in times)[18]:.1f} ms, CPU p95 {sorted(c for _, c in times)[18]:.1f} ms")
    ms, cpu, _code, _text = timed_cpu(client, VIEWS[0])
    print(f"  {VIEWS[0]} on the new columns: {ms:.1f} ms  CPU {cpu:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a catalogue to use (it is changed: pass a copy)")
    parser.add_argument("--size", type=int, default=100_000, help="without --db: build a synthetic one this big")
    parser.add_argument("--rows", type=int, default=100_000, help="the large import's rows")
    parser.add_argument("--fresh", type=int, default=2, help="fresh workers started after the first")
    parser.add_argument("--no-worker", action="store_true", help="no job worker: /stats counted by each web worker")
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
            print(f"fresh worker {n + 1}, snapshot on disk: start {fresh['start_ms']:.0f} ms, first /api/clusters "
                  f"{fresh['clusters'][0]:.0f} ms (CPU {fresh['clusters'][2]:.0f} ms, {fresh['clusters'][1]}), "
                  f"first / {fresh['page'][0]:.0f} ms (CPU {fresh['page'][2]:.0f} ms, {fresh['page'][1]})")

        from mapapp import create_app

        worker = None if args.no_worker else start_worker(db, cache)
        try:
            app = create_app({"DATABASE": str(db), "CACHE_DIR": str(cache), "SECRET_KEY": "bench"})
            client = app.test_client()
            for path in (*VIEWS, "/", "/stats"):
                ms, cpu, _code, _text = timed_cpu(client, path)
                print(f"warm-up {path:55s} {ms:8.1f} ms  CPU {cpu:7.1f} ms")
            after_import(app, client, db, 1, folder, worker=worker is not None)
            after_import(app, client, db, 1000, folder, worker=worker is not None)
            after_import(app, client, db, args.rows, folder, worker=worker is not None)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
        print(hostref.line())


if __name__ == "__main__":
    main()
