"""Benchmark the public pages and the map's data layer on a synthetic catalogue.

    python scripts/bench_map.py                         # 100,000 organisations
    python scripts/bench_map.py --size 1000000 --db /tmp/bench1m.db
    python scripts/bench_map.py --size 1000000 --db /tmp/bench1m.db --workers 3
    python scripts/bench_map.py --size 3000000 --workers 3 --no-browser --no-import   # issue 31: 7.8 GB of /tmp

Prints, for random viewports at every zoom, with and without each kind of filter and
free text: server time (p50, p95) of /api/clusters, /api/organisations, /api/facets,
/, /organisations, /embed and organisation pages; how long after an edit the map shows
it; the snapshot's build time; the memory the map data holds (with ``--workers``, of a
gunicorn server of that many workers: their proportional set size, shared pages counted
once); in headless Chromium, when the map has settled after navigation; and, unless
``--no-import``, ``mapapp import`` of a generated CSV of ``--size`` rows and of a
100,000-row XLSX (time and peak memory, see ``bench_import.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import logging  # noqa: E402

import bench_import  # noqa: E402
import hostref  # noqa: E402
import synthetic  # noqa: E402

from mapapp import catalogue, create_app  # noqa: E402
from mapapp.mapdata.mapindex import mercator_y  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

VIEW = (1920, 1080)
FILTERS = ["", "country=FR", "theme=AM40", "need=funding&offer=premises", "relation=visited",
           "theme=AM60,AM130&country=IT,FR", "q=synthetic"]


def viewport(center_lat: float, center_lon: float, zoom: int) -> str:
    """The bbox a 1920x1080 screen shows around a point at ``zoom`` (padded like map.js)."""
    world = 256 * 2 ** zoom
    half_w = VIEW[0] * 1.2 / 2 / world * 360
    y = float(mercator_y(center_lat))
    half_h = VIEW[1] * 1.2 / 2 / world * 2 * math.pi

    def lat(v: float) -> float:
        return math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)

    return ",".join(f"{v:.5f}" for v in (max(-180, center_lon - half_w), max(-85, lat(y - half_h)),
                                         min(180, center_lon + half_w), min(85, lat(y + half_h))))


def bench_api(db_path: Path, requests: int, cache: Path, seed: int = 1) -> None:
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "CACHE_DIR": str(cache)})
    client = app.test_client()
    db = catalogue.connect(db_path)
    centres = [(r[1], r[2]) for r in db.execute(
        "SELECT id, lat, lon FROM organisations WHERE lat IS NOT NULL ORDER BY random() LIMIT 2000")]
    started = time.perf_counter()
    client.get(f"/api/clusters?bbox={viewport(48, 10, 4)}&zoom=4")  # builds the snapshot
    print(f"snapshot of {catalogue.organisation_count(db):,} organisations built in "
          f"{time.perf_counter() - started:.2f} s, peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
          " (once; changes are patched in)")
    rng = random.Random(seed)
    rows = []
    for zoom in range(2, 18):
        for filters in FILTERS:
            for _ in range(max(1, requests // (16 * len(FILTERS)))):
                lat, lon = rng.choice(centres) if zoom > 4 else (rng.uniform(40, 55), rng.uniform(-5, 25))
                url = f"/api/clusters?bbox={viewport(lat, lon, zoom)}&zoom={zoom}&{filters}"
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, response.get_data(as_text=True)
                rows.append((zoom, filters, elapsed, len(response.get_data())))
    times = sorted(r[2] for r in rows)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"/api/clusters: {len(rows)} requests, p50 {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms; largest answer {max(r[3] for r in rows):,} bytes")
    for band in ((2, 5), (6, 9), (10, 13), (14, 17)):
        sub = sorted(r[2] for r in rows if band[0] <= r[0] <= band[1])
        size = max(r[3] for r in rows if band[0] <= r[0] <= band[1])
        print(f"  zoom {band[0]:>2}-{band[1]:<2}: p95 {sub[int(len(sub) * 0.95) - 1]:.1f} ms, "
              f"max {sub[-1]:.1f} ms, largest {size:,} bytes")
    for filters in FILTERS:
        sub = sorted(r[2] for r in rows if r[1] == filters)
        print(f"  filters {filters or '(none)':<32} p95 {sub[int(len(sub) * 0.95) - 1]:.1f} ms")


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    return f"p50 {statistics.median(times):6.1f} ms, p95 {times[max(0, int(len(times) * 0.95) - 1)]:6.1f} ms"


def bench_pages(db_path: Path, cache: Path, seed: int = 2) -> None:
    """Server time of every public page and API answer the map and the directory use."""
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "CACHE_DIR": str(cache)})
    client = app.test_client()
    client.get("/api/facets")  # the snapshot
    db = catalogue.connect(db_path)
    rng = random.Random(seed)
    slugs = [r[0] for r in db.execute("SELECT slug FROM organisations WHERE status = 'published'"
                                      " ORDER BY random() LIMIT 40")]

    def views(n: int) -> list[str]:
        out = []
        for _ in range(n):
            zoom = rng.randint(2, 14)
            lat, lon = rng.uniform(40, 55), rng.uniform(-5, 25)
            out.append(f"bbox={viewport(lat, lon, zoom)}&{rng.choice(FILTERS)}")
        return out

    pages = {
        "/api/organisations (list, bbox)": [f"/api/organisations?{v}&limit=50" for v in views(60)],
        "/api/facets": [f"/api/facets?{f}" for f in FILTERS * 6],
        "/": [f"/?{f}" for f in FILTERS * 4],
        "/organisations (any page)": [f"/organisations?{f}&page={rng.randint(1, 30)}" for f in FILTERS * 4],
        "/embed": [f"/embed?{f}" for f in FILTERS * 4],
        "/organisations/<slug>": [f"/organisations/{s}" for s in slugs],
    }
    for label, urls in pages.items():
        times = []
        for url in urls:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code in (200, 400), (url, response.status_code)  # 400: a page past the last
        print(f"{label:<34} {percentiles(times)}  ({len(urls)} requests)")
    # An edit, then the map: how long until it shows the change (patched, not rebuilt).
    org_id = db.execute("SELECT id FROM organisations WHERE status = 'published' LIMIT 1").fetchone()[0]
    for field_, value in (("country", "CY"), ("name", "Renamed by the benchmark")):
        state = catalogue.organisation_state(db, org_id)
        state["values"][field_] = value
        t0 = time.perf_counter()
        catalogue.restore_state(db, org_id, state)
        answer = client.get("/api/facets?country=CY").get_json()
        print(f"edit ({field_}) then the map's answer shows it: {(time.perf_counter() - t0) * 1000:.0f} ms "
              f"({answer['total']:,} in CY)")


@contextmanager
def gunicorn(db_path: Path, cache: Path, workers: int, threads: int = 2, **settings: str):
    """A gunicorn server of the app in its own processes (as deployed): yields its base URL
    once it answers."""
    port = _free_port()
    env = {**os.environ, "MAPAPP_DATABASE": str(db_path), "MAPAPP_CACHE_DIR": str(cache),
           "MAPAPP_SECRET_KEY": "bench", "PYTHONPATH": str(ROOT),
           **{f"MAPAPP_{k}": v for k, v in settings.items()}}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
                               "--bind", f"127.0.0.1:{port}", "--timeout", "600", "mapapp:create_app()"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        server.base = base
        yield server
    finally:
        server.terminate()
        server.wait(30)


# A tile server answering every tile with one blank PNG, in its own process: the browser
# gets its tiles at once without the benchmark's own process (Playwright) serving them.
_TILES = """
import http.server, sys
BLANK = bytes.fromhex(sys.argv[2])
class Tiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(BLANK)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(BLANK)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Tiles).serve_forever()
"""
BLANK_PNG = ("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
             "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@contextmanager
def tile_server():
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", _TILES, str(port), BLANK_PNG])
    try:
        _wait_for(f"http://127.0.0.1:{port}/0/0/0.png")
        yield f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"
    finally:
        server.terminate()
        server.wait(30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 600) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def bench_workers(db_path: Path, cache: Path, workers: int, size: int) -> None:
    """Memory of a gunicorn server with ``workers`` processes once each has its map data:
    the sum of their proportional set sizes (shared pages, as the memory-mapped snapshot,
    counted once), each worker's own (unique set size) and proportional size, and their RSS."""
    with gunicorn(db_path, cache, workers) as server:
        for _ in range(workers * 8):
            urllib.request.urlopen(f"{server.base}/healthz", timeout=60)
        before = _memory(server.pid)
        started = time.perf_counter()
        for _ in range(workers * 8):  # enough requests for every worker to hold its columns
            urllib.request.urlopen(f"{server.base}/api/clusters?bbox=-10,35,30,60&zoom=5", timeout=600)
        print(f"{workers} workers answering (first answers in {time.perf_counter() - started:.1f} s)")
        after = _memory(server.pid)
        pss, rss = sum(w["pss"] for w in after), sum(w["rss"] for w in after)
        map_data = pss - sum(w["pss"] for w in before)
        print(f"gunicorn --workers {workers}: proportional set size {pss:.0f} MB in total, of which the map "
              f"data {map_data:.0f} MB (the workers before any map request: {sum(w['pss'] for w in before):.0f} MB); "
              f"RSS summed {rss:.0f} MB (shared pages counted in each)")
        for number, (was, now) in enumerate(zip(before, after), start=1):
            print(f"  worker {number}: PSS {now['pss']:.0f} MB (map data {now['pss'] - was['pss']:.0f} MB), "
                  f"USS (its own pages) {now['uss']:.0f} MB, RSS {now['rss']:.0f} MB")
        print(f"  map data per 1,000,000 organisations, {workers} workers together: "
              f"{map_data / size * 1e6:.0f} MB (target at 3,000,000: <= 900 MB for three workers)")


def _memory(master: int) -> list[dict[str, float]]:
    """Each worker process of ``master``: its PSS, USS (private pages) and RSS in MB, from
    /proc/PID/smaps_rollup."""
    found = []
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[name] = int(rest.split()[0]) / 1024
        found.append({"pss": fields.get("Pss", 0), "rss": fields.get("Rss", 0),
                      "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)})
    return found


def bench_browser(db_path: Path, cache: Path, runs: int = 5) -> None:
    """When the map has settled in headless Chromium: its last view drawn with every
    request done and nothing moving, and how many views (cluster requests) it asked for.
    The app runs under gunicorn (one worker, four threads) and the tiles come from a blank
    tile server, each in its own process, as they would in use."""
    from playwright.sync_api import sync_playwright

    first, settled, views = [], [], []
    with tile_server() as tiles, gunicorn(db_path, cache, 1, threads=4, TILE_URL=tiles) as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        tile_host = tiles.split("/{z}")[0]
        for run in range(runs + 1):
            page = browser.new_page(viewport={"width": VIEW[0], "height": VIEW[1]})
            asked = []
            page.on("request", lambda r: asked.append(r.url) if "/api/clusters" in r.url else None)
            page.goto(server.base + "/")
            page.wait_for_selector("body[data-map-ready=true]", timeout=60_000)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)  # a pan or zoom still to come would start by now
            if run:  # the first run warms the server's snapshot
                body = page.locator("body")
                first.append(int(body.get_attribute("data-first-draw-ms")))
                done = page.evaluate("host => Math.max(...performance.getEntriesByType('resource')"
                                     ".filter(e => !e.name.startsWith(host)).map(e => e.responseEnd))", tile_host)
                settled.append(max(int(body.get_attribute("data-ready-ms")), int(done)))
                views.append(len(asked))
            page.close()
        browser.close()
    print(f"Chromium, 1920x1080, blank tiles from loopback, {runs} loads: first clusters drawn "
          f"{statistics.median(first)} ms, settled {statistics.median(settled)} ms (max {max(settled)} ms) "
          f"after navigation; cluster requests per load {statistics.median(views)}")


# Disk a synthetic catalogue takes while it is written, per organisation: the file (1.03 GB at
# 1,000,000) and its write-ahead log, as large again until the log is folded in.
BUILD_BYTES_PER_ORGANISATION = 2_600


def _room_for(db_path: Path, size: int) -> None:
    """Stop at once, saying why, when the catalogue to build would not fit on its disk."""
    if db_path.exists():
        return
    need = size * BUILD_BYTES_PER_ORGANISATION
    free = shutil.disk_usage(db_path.parent).free
    if free < need:
        sys.exit(f"{db_path.parent} has {free / 1e9:.1f} GB free; a catalogue of {size:,} needs about "
                 f"{need / 1e9:.1f} GB while it is built: free some room, or pass --db with a path on a larger disk")
    print(f"building a catalogue of {size:,} at {db_path} ({need / 1e9:.1f} GB needed while it is written, "
          f"{free / 1e9:.0f} GB free)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="organisations in the synthetic catalogue")
    parser.add_argument("--requests", type=int, default=1120, help="cluster requests to time")
    parser.add_argument("--db", help="use (or create) this catalogue instead of a temporary one")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    parser.add_argument("--workers", type=int, default=0, help="also measure a gunicorn server of N workers")
    parser.add_argument("--browser-only", action="store_true", help="only the Chromium measurement")
    parser.add_argument("--no-import", action="store_true", help="skip the import measurement")
    args = parser.parse_args()
    print(hostref.line("host reference at start"), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        _room_for(Path(args.db) if args.db else Path(tmp) / "bench.db", args.size)
        db_path = synthetic.catalogue_at(args.db, args.size, tmp)
        print(f"catalogue file {db_path.stat().st_size / 1e9:.2f} GB "
              f"({db_path.stat().st_size / args.size * 1e6 / 1e9:.2f} GB per 1,000,000 organisations)")
        print(hostref.line("host reference after the catalogue"), flush=True)
        cache = Path(tmp) / "cache"
        if args.browser_only:
            return bench_browser(db_path, cache)
        bench_api(db_path, args.requests, cache)
        snapshot = sum(f.stat().st_size for f in (cache / "map").rglob("*") if f.is_file())
        print(f"snapshot files (memory-mapped, shared by the workers): {snapshot / 1e6:.0f} MB "
              f"({snapshot / args.size * 1e6 / 1e6:.0f} MB per 1,000,000 organisations)", flush=True)
        bench_pages(db_path, cache)
        print(hostref.line("host reference after the server times"), flush=True)
        if args.workers:
            bench_workers(db_path, Path(tmp) / "cache-workers", args.workers, args.size)
        if not args.no_browser:
            bench_browser(db_path, cache)
        if not args.no_import:
            imports = Path(tmp) / "imports"
            imports.mkdir()
            bench_import.import_figures(imports, xlsx_rows=min(args.size, 100_000), csv_rows=args.size)


if __name__ == "__main__":
    main()
