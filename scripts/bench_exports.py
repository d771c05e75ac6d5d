"""Benchmark the open-data exports on a synthetic catalogue: time to the first byte, the whole
answer, and the server's peak memory above its resting size, for the first request of each
format (computed: streamed as it is read, or built whole) and the next one (the whole
catalogue's exports are kept, so it is sent from the file). The host's speed reference is
printed before and after, so that a slow hour is told apart from a regression.

    python scripts/bench_exports.py                 # 250,000 organisations
    python scripts/bench_exports.py --size 50000 --formats csv,geojson
    cp /tmp/bench1m.db /tmp/mine.db && python scripts/bench_exports.py --db /tmp/mine.db --whole-only

The GeoPackage is measured as a server without a job worker makes it (in the request); with a
worker the request waits at most a few seconds, then gets a page that asks again.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import hostref  # noqa: E402
import synthetic  # noqa: E402

from mapapp import create_app  # noqa: E402

FORMATS = ("csv", "essglobal.csv", "geojson", "xlsx", "gpkg", "html", "jsonld", "ttl")
PAGE = 4096


def rss_bytes() -> int:
    """This process's resident memory now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakMemory:
    """The highest resident memory seen (sampled every 20 ms) while the block runs."""

    def __enter__(self):
        self.base = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def above(self) -> float:
        return (self.peak - self.base) / 1e6


def fetch(client, url: str, read_bytes: int | None = None) -> tuple[int, float, float, int, str]:
    """(status, seconds to the first byte, seconds in all, bytes, error) of one GET, read as a
    client reads a download: chunk by chunk (with ``read_bytes``, it stops reading past that)."""
    began = time.perf_counter()
    response = client.get(url, buffered=False)
    first_s, size = None, 0
    for chunk in response.response:
        if first_s is None and chunk:
            first_s = time.perf_counter() - began
        size += len(chunk)
        if read_bytes is not None and size >= read_bytes:
            break
    response.close()
    total_s = time.perf_counter() - began
    error = ""
    if response.status_code != 200:
        error = (response.get_json(silent=True) or {}).get("error", "")[:70]
    return response.status_code, first_s or total_s, total_s, size, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=250_000, help="Organisations in the synthetic catalogue.")
    parser.add_argument("--formats", default=",".join(FORMATS), help="Comma-separated formats to measure.")
    parser.add_argument("--db", help="Use this catalogue (it is changed: pass a copy) instead of building one.")
    parser.add_argument("--whole-only", action="store_true", help="Only the whole catalogue's exports, not one country's.")
    parser.add_argument("--read-mb", type=float, help="Read only the first N MB of each download (the first byte and "
                        "the memory while streaming, without waiting for a million rows on a busy host).")
    args = parser.parse_args()
    print(hostref.line("host reference at start"), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        if not args.db:
            started = time.perf_counter()
            # Built in another process: this one's memory then holds only what serving needs.
            builder = multiprocessing.get_context("spawn").Process(target=synthetic.build, args=(db_path, args.size))
            builder.start()
            builder.join()
            print(f"catalogue of {args.size:,} organisations built in {time.perf_counter() - started:.1f} s")
        app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "CACHE_DIR": str(Path(tmp) / "cache"),
                          "PUBLIC_URL": "https://map.example.org"})
        client = app.test_client()
        client.get("/api/organisations?limit=1")  # the map's columns, loaded once for every request
        count = client.get("/api/facets").get_json()["total"]
        print(f"{count:,} published organisations; peak memory: the server's resident size above its size "
              "before the request (sampled every 20 ms)", flush=True)
        print(f"{'format':<17} {'1st byte':>9} {'whole' if not args.read_mb else 'read':>8} {'peak mem':>9} {'again: 1st byte':>16} "
              f"{'size':>9}  status", flush=True)
        for fmt in args.formats.split(","):
            for query in ("",) if args.whole_only else ("", "?country=FR"):
                url = f"/api/organisations.{fmt}{query}"
                limit = int(args.read_mb * 1e6) if args.read_mb else None
                with PeakMemory() as memory:
                    status, first_s, total_s, size, error = fetch(client, url, limit)
                _, again_s, _, _, _ = fetch(client, url, 1)
                label = fmt + (" FR" if query else "")
                print(f"{label:<17} {first_s * 1000:>7.0f}ms {total_s:>7.1f}s {memory.above:>7.0f}MB "
                      f"{again_s * 1000:>14.0f}ms {size / 1e6:>7.1f}MB  {status}" + (f" ({error}…)" if error else ""),
                      flush=True)
        print(hostref.line("host reference at the end"))


if __name__ == "__main__":
    main()
