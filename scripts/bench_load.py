"""Throughput of the public map under a busy day's traffic, with and without nginx in front.

    python scripts/bench_load.py                                      # 1,000,000 organisations
    python scripts/bench_load.py --size 200000 --db /tmp/load200k.db  # made once, then reused
    python scripts/bench_load.py --worker-class sync --threads 1       # compare worker classes

Builds (or reuses, ``--db``) a synthetic catalogue (``synthetic.py``, as ``bench_map.py``),
starts gunicorn (``--workers`` processes of ``--worker-class``), and, unless ``--no-nginx``,
Debian's nginx in front of it with the repository's ``deploy/nginx-mapapp.conf`` (on
loopback ports, in a temporary folder). Then for ``--seconds`` it drives a fixed mix of
traffic with wrk (``--connections`` connections; the URLs are those of real map visits:
the page, its facets, clusters while panning and zooming on the tile grid the map asks on,
list pages, organisation pages, embeds), while an import of ``--import-rows`` rows runs and
an organisation is added every two seconds (as staff do), and prints requests per second,
p50/p95/p99 latency and errors. wrk is first measured against a fixed answer of nginx, to
show that the load generator is not the bottleneck. The catalogue given with ``--db`` is
written to (the import and the edits): use a copy of the shared one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_import  # noqa: E402
import bench_map  # noqa: E402
import nginx_loopback  # noqa: E402
import synthetic  # noqa: E402

from mapapp import catalogue  # noqa: E402
from mapapp.filters import BBox, Filters  # noqa: E402
from mapapp.mapdata import mapindex  # noqa: E402

# One visit to the map, as the browser asks (weights of a real visit): the page, its
# filter counts, clusters and a list page per view while panning and zooming, an
# organisation's page now and then; embeds on a partner's page ask the same, framed.
VIEWS_PER_VISIT = 6
SCREEN = (1280, 720)  # the map's size on screen
FILTERS = ["", "", "", "country=FR", "theme=AM40", "need=funding"]
PLACES = [(city[2], city[3]) for city in bench_import.CITIES]  # where staff add organisations

WRK_SCRIPT = """
local paths = %s
local n = #paths
local counter = 0
local threads = {}
local gzip = {["Accept-Encoding"] = "gzip"}
function setup(thread) thread:set("seed", counter); counter = counter + 1; table.insert(threads, thread) end
function init(args) math.randomseed(seed * 7919 + os.time()); hits = 0; cached = 0 end
function request() return wrk.format("GET", paths[math.random(n)], gzip) end
function response(status, headers, body)
  local x = headers["X-Cache"]  -- nginx's cache status, where it may keep the answer
  if x then cached = cached + 1; if x == "HIT" or x == "STALE" or x == "UPDATING" then hits = hits + 1 end end
end
function done(summary, latency, requests)
  local s = summary
  local e = s.errors
  local h, c = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); c = c + t:get("cached") end
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%f, "p50": %%d, "p95": %%d, "p99": %%d, '
    .. '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "hits": %%d, "cacheable": %%d}\\n',
    s.requests, s.duration / 1e6, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, h, c))
end
"""


def padded_view(lat: float, lon: float, zoom: int) -> BBox:
    """What map.js asks for: the screen's view padded by a tenth on each side."""
    world = 256 * 2 ** zoom
    x = (lon + 180.0) / 360.0 * world
    y = float(mapindex.mercator_y(lat)) / (2 * math.pi) * world
    half_w, half_h = SCREEN[0] * 0.6, SCREEN[1] * 0.6
    return BBox(max(-180.0, (x - half_w) / world * 360.0 - 180.0),
                max(-85.0, mapindex._latitude((y - half_h) / world * 2 * math.pi)),
                min(180.0, (x + half_w) / world * 360.0 - 180.0),
                min(85.0, mapindex._latitude((y + half_h) / world * 2 * math.pi)))


def view_query(lat: float, lon: float, zoom: int, *, tiled: bool = True) -> str:
    """The view's parameters as map.js sends them: on the tile grid for the clusters, the
    view's own box for the list."""
    box = padded_view(lat, lon, zoom)
    snapped = mapindex.snap_bbox(box, zoom) if tiled else None
    edges = [str(v) for v in (snapped.min_lon, snapped.min_lat, snapped.max_lon, snapped.max_lat)] if snapped else \
        [f"{v:.5f}" for v in (box.min_lon, box.min_lat, box.max_lon, box.max_lat)]
    return f"bbox={','.join(edges)}&zoom={zoom}"


# The views visitors open on: the map fitted to what an entry URL selects (the site's home,
# a partner's embed, a newsletter's link), with its weight.
ENTRIES = [("", 48.0, 8.0, 5, 5), ("country=FR", 46.5, 2.5, 6, 3), ("theme=AM40", 47.0, 7.0, 5, 1),
           ("need=funding", 45.5, 9.0, 6, 1)]
LANGS = ["en"] * 5 + ["fr"] * 3 + ["it", "pl", "nl", "el"]


def visit_paths(rng: random.Random, slugs: list[str]) -> list[str]:
    """The requests of one visit, in the mix a browser sends them: the page (or an embed),
    its filter counts, the clusters and the list of the first view; then, for some, a few
    views panning and zooming, and an organisation's page or two."""
    filters, lat, lon, zoom, _weight = rng.choices(ENTRIES, weights=[e[4] for e in ENTRIES])[0]
    embed = rng.random() < 0.3
    lang = rng.choice(LANGS)
    both = f"{filters}&lang={lang}" if filters else f"lang={lang}"
    paths = [f"/embed?{both}" if embed else f"/?{both}", f"/api/facets?{both}"]
    views = 1 + (rng.randint(1, VIEWS_PER_VISIT) if rng.random() < 0.4 else 0)
    for _ in range(views):
        own = view_query(lat, lon, zoom, tiled=False).split("&zoom=")[0]
        paths += [f"/api/clusters?{both}&{view_query(lat, lon, zoom)}", f"/api/organisations?{both}&{own}&limit=20"]
        if rng.random() < 0.5:  # zoom in towards a cluster, or pan by a third of the screen
            zoom = min(zoom + 1, 15)
        world = 256 * 2 ** zoom
        lon += rng.choice((-1, 0, 1)) * SCREEN[0] / 3 / world * 360.0
        lat += rng.choice((-1, 0, 1)) * SCREEN[1] / 3 / world * 180.0
    if views > 1 or rng.random() < 0.3:
        paths += [f"/organisations/{rng.choice(slugs)}?lang={lang}" for _ in range(rng.randint(1, 2))]
    return paths


def traffic(db_path: Path, visits: int = 3000, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    db = catalogue.connect(db_path)
    slugs = [row[0] for row in db.execute("SELECT slug FROM organisations WHERE status = 'published' "
                                          "ORDER BY random() LIMIT 5000").fetchall()]
    db.close()
    return [path for _ in range(visits) for path in visit_paths(rng, slugs)]


def wrk(url: str, paths: list[str], seconds: int, connections: int, folder: Path) -> dict:
    script = folder / "mix.lua"
    script.write_text(WRK_SCRIPT % ("{" + ",".join(json.dumps(p) for p in paths) + "}"))
    threads = max(1, min(2, connections))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True, check=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    result["rate"] = result["requests"] / result["seconds"]
    return result


def show(what: str, result: dict) -> None:
    hits = f", cache hits {result['hits'] / result['requests']:.0%} of requests" if result.get("cacheable") else ""
    print(f"{what}: {result['rate']:,.0f} requests/s, p50 {result['p50'] / 1000:.1f} ms, "
          f"p95 {result['p95'] / 1000:.1f} ms, p99 {result['p99'] / 1000:.1f} ms, "
          f"{result['errors']} errors ({result['requests']:,} requests in {result['seconds']:.0f} s){hits}", flush=True)
    if result["errors"]:
        print("  errors: " + ", ".join(f"{result[k]} {k}" for k in ("status", "timeout", "connect", "read", "write")
                                      if result[k]) + " (status: an answer other than 2xx/3xx)", flush=True)


@contextmanager
def nginx(upstream: str, folder: Path):
    """Debian's nginx with the repository's configuration, on loopback ports: yields the
    base URL of the app through it and of a fixed answer (to measure the load generator)."""
    fixed = bench_map._free_port()
    os.chmod(folder, 0o755)
    with nginx_loopback.running(upstream, folder / "nginx", connections=2048, fixed_port=fixed) as (base, _):
        bench_map._wait_for(f"http://127.0.0.1:{fixed}/", 30)
        yield base, f"http://127.0.0.1:{fixed}"


class Meanwhile:
    """An import of ``rows`` rows after a few seconds (as staff start one from the browser:
    committed in batches by the job worker's code), and an organisation added every
    ``every`` seconds (none: 0), while the load runs."""

    def __init__(self, db_path: Path, folder: Path, rows: int, every: float = 2.0):
        self.db_path, self.folder, self.rows, self.every = db_path, folder, rows, every
        self.stop = threading.Event()
        self.edits = self.refused = 0
        self.imported: dict | None = None

    def _edits(self) -> None:
        if not self.every:
            return
        db = catalogue.connect(self.db_path)
        rng = random.Random(9)
        while not self.stop.wait(self.every):
            lat, lon = rng.choice(PLACES)
            try:
                catalogue.save_organisation(db, {"name": f"Added during the load {time.time():.0f}", "city": "Lyon",
                                                 "country": "FR", "lat": lat + rng.uniform(-0.1, 0.1),
                                                 "lon": lon + rng.uniform(-0.1, 0.1), "status": "published",
                                                 "source": "bench-load"})
                self.edits += 1
            except sqlite3.OperationalError:  # "database is locked": the import holds the catalogue
                db.conn.rollback()
                self.refused += 1
        db.close()

    def _import(self) -> None:
        if self.stop.wait(5.0) or not self.rows:
            return
        csv = self.folder / f"import-{time.time_ns()}.csv"
        # Other rows at each run (the same file twice is the same organisations: nothing new).
        bench_import.write_csv(csv, self.rows, seed=time.time_ns() % 1_000_000)
        try:
            self.imported = bench_import.run_import(self.db_path, csv, None, browser=True)
        except SystemExit as e:  # run_import's way of saying the import failed, and why
            print(f"  the import failed: {e}", flush=True)

    def __enter__(self):
        self.threads = [threading.Thread(target=self._edits), threading.Thread(target=self._import)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()
        imported = f", an import of {self.rows:,} rows in {self.imported['seconds']:.1f} s" \
            if self.imported and "seconds" in self.imported else ""
        refused = f" ({self.refused} refused: the catalogue locked by the import)" if self.refused else ""
        print(f"  meanwhile: {self.edits} organisations added{refused}{imported}", flush=True)
        return False

    @property
    def failed(self) -> bool:
        return bool(self.refused) or bool(self.rows and not (self.imported and "seconds" in self.imported))


def warm(base: str, paths: list[str], connections: int) -> None:
    """Every worker's map data read before the clock starts (a first request at a million
    takes seconds: that is the cold-start benchmark's, not this one's): the mix's first
    requests, over as many connections as the workers have threads."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda path: urllib.request.urlopen(base + path, timeout=600).read(), paths[:20 * connections]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="organisations in the synthetic catalogue")
    parser.add_argument("--db", help="use (or create) this catalogue (it is written to: import and edits)")
    parser.add_argument("--seconds", type=int, default=60, help="how long each run drives traffic")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections (8, as the issue measured; 32 queues the misses)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread when above 1)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn's worker class (sync, gthread)")
    parser.add_argument("--import-rows", type=int, default=1000, help="rows of the import run meanwhile; 0: none")
    parser.add_argument("--edit-every", type=float, default=2.0,
                        help="seconds between two organisations added meanwhile; 0: none")
    parser.add_argument("--no-nginx", action="store_true", help="only gunicorn, without nginx in front")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (and nginx-light for the run behind nginx)")
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"speed reference: {speed_reference():.2f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        db_path = synthetic.catalogue_at(args.db, args.size, tmp)
        paths = traffic(db_path)
        print(f"{catalogue.count_organisations(catalogue.connect(db_path), Filters()):,} organisations; "
              f"{len(set(paths)):,} different URLs in {len(paths):,} requests of the mix", flush=True)
        settings = {"MAP_CACHE_SECONDS": os.environ.get("MAPAPP_MAP_CACHE_SECONDS", "60")}
        failures = []
        with gunicorn(db_path, folder / "cache", args, settings) as base:
            warm(base, paths, args.workers * args.threads)
            with Meanwhile(db_path, folder, args.import_rows, args.edit_every) as meanwhile:
                alone = wrk(base, paths, args.seconds, args.connections, folder)
                show(f"gunicorn {args.workers} × {args.worker_class} ({args.threads} threads), "
                     f"{args.connections} connections", alone)
            failures += _failures("without nginx", alone, meanwhile)
            if not args.no_nginx:
                with nginx(base.removeprefix("http://"), folder) as (proxied, fixed):
                    show("wrk alone against a fixed nginx answer (the generator's ceiling)",
                         wrk(fixed, ["/"], 5, args.connections, folder))
                    with Meanwhile(db_path, folder, args.import_rows, args.edit_every) as meanwhile:
                        behind = wrk(proxied, paths, args.seconds, args.connections, folder)
                        show(f"nginx in front, {args.connections} connections", behind)
                    failures += _failures("with nginx", behind, meanwhile)
        if failures:
            sys.exit("FAILED: " + "; ".join(failures))


def _failures(run: str, result: dict, meanwhile: Meanwhile) -> list[str]:
    """What went wrong in a run: any request answered with an error or not at all, any
    edit refused, the import failed."""
    found = [f"{run}: {result['errors']} requests failed"] if result["errors"] else []
    if meanwhile.failed:
        found.append(f"{run}: {meanwhile.refused} edits refused" if meanwhile.refused else f"{run}: the import failed")
    return found


@contextmanager
def gunicorn(db_path: Path, cache: Path, args, settings: dict):
    port = bench_map._free_port()
    env = {**os.environ, "MAPAPP_DATABASE": str(db_path), "MAPAPP_CACHE_DIR": str(cache),
           "MAPAPP_SECRET_KEY": "bench",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
           **{f"MAPAPP_{k}": v for k, v in settings.items()}}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers),
                               "--worker-class", args.worker_class, "--threads", str(args.threads),
                               "--bind", f"127.0.0.1:{port}", "--timeout", "600", "--keep-alive", "30",
                               "mapapp:create_app()"], env=env, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        bench_map._wait_for(base + "/healthz")
        yield base
    finally:
        server.terminate()
        server.wait(30)


def speed_reference() -> float:
    """Seconds of a fixed piece of pure Python work: a slow hour shows here too."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i * i % 7
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
