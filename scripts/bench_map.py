"""Benchmark the map's data layer on a synthetic catalogue.

    python scripts/bench_map.py                  # 100,000 organisations
    python scripts/bench_map.py --size 20000 --requests 200

Targets: /api/clusters answers random viewports at every zoom, with and without
filters, in p95 <= 50 ms server time, each answer <= 20 KB; in headless Chromium
the first clusters are drawn <= 1.5 s after navigation on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import synthetic  # noqa: E402

from mapapp import catalogue, create_app  # noqa: E402

VIEW = (1920, 1080)
FILTERS = ["", "country=FR", "theme=AM40", "need=funding&offer=premises", "relation=visited",
           "theme=AM60,AM130&country=IT,FR", "q=synthetic"]


def viewport(center_lat: float, center_lon: float, zoom: int) -> str:
    """The bbox a 1920x1080 screen shows around a point at ``zoom`` (padded like map.js)."""
    world = 256 * 2 ** zoom
    half_w = VIEW[0] * 1.2 / 2 / world * 360
    y = math.log(math.tan(math.pi / 4 + math.radians(center_lat) / 2))
    half_h = VIEW[1] * 1.2 / 2 / world * 2 * math.pi

    def lat(v: float) -> float:
        return math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)

    return ",".join(f"{v:.5f}" for v in (max(-180, center_lon - half_w), max(-85, lat(y - half_h)),
                                         min(180, center_lon + half_w), min(85, lat(y + half_h))))


def bench_api(db_path: Path, requests: int, seed: int = 1) -> None:
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench"})
    client = app.test_client()
    db = catalogue.connect(db_path)
    centres = [(r[1], r[2]) for r in db.execute(
        "SELECT id, lat, lon FROM organisations WHERE lat IS NOT NULL ORDER BY random() LIMIT 2000")]
    started = time.perf_counter()
    client.get(f"/api/clusters?bbox={viewport(48, 10, 4)}&zoom=4")  # builds the snapshot
    print(f"snapshot of {catalogue.organisation_count(db):,} organisations built in "
          f"{time.perf_counter() - started:.2f} s (after each catalogue change)")
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


def bench_browser(db_path: Path, runs: int = 5) -> None:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    blank = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for run in range(runs + 1):
            page = browser.new_page(viewport={"width": VIEW[0], "height": VIEW[1]})
            page.route("https://tile.openstreetmap.org/**",
                       lambda route: route.fulfill(status=200, content_type="image/png", body=blank))
            page.goto(url)
            page.wait_for_selector("body[data-first-draw-ms]", timeout=30_000)
            if run:  # the first run warms the server's snapshot
                timings.append(int(page.locator("body").get_attribute("data-first-draw-ms")))
            page.close()
        browser.close()
    server.shutdown()
    print(f"first clusters drawn after navigation: median {statistics.median(timings)} ms, "
          f"max {max(timings)} ms over {runs} loads (1920x1080, tiles stubbed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="organisations in the synthetic catalogue")
    parser.add_argument("--requests", type=int, default=1120, help="cluster requests to time")
    parser.add_argument("--db", help="use (or create) this catalogue instead of a temporary one")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        if not db_path.exists():
            started = time.perf_counter()
            synthetic.build(db_path, args.size)
            print(f"built a synthetic catalogue of {args.size:,} in {time.perf_counter() - started:.1f} s")
        bench_api(db_path, args.requests)
        if not args.no_browser:
            bench_browser(db_path)


if __name__ == "__main__":
    main()
