"""Benchmark the open-data exports on a synthetic catalogue: the first request of each
format computes the file, the next ones stream it from the cache.

    python scripts/bench_exports.py                 # 250,000 organisations
    python scripts/bench_exports.py --size 20000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import synthetic  # noqa: E402

from mapapp import create_app  # noqa: E402

FORMATS = ("csv", "essglobal.csv", "geojson", "xlsx", "gpkg", "html")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=250_000, help="Organisations in the synthetic catalogue.")
    parser.add_argument("--formats", default=",".join(FORMATS), help="Comma-separated formats to measure.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        synthetic.build(db_path, args.size)
        print(f"catalogue of {args.size:,} organisations built in {time.perf_counter() - started:.1f} s")
        app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "CACHE_DIR": str(Path(tmp) / "cache")})
        client = app.test_client()
        print(f"{'format':<14} {'first':>9} {'again*':>9} {'size':>10}  status   (*time to the first byte)")
        for fmt in args.formats.split(","):
            for query in ("", "?country=FR"):
                url = f"/api/organisations.{fmt}{query}"
                began = time.perf_counter()
                first = client.get(url)
                first_s = time.perf_counter() - began
                began = time.perf_counter()
                again = client.get(url)
                cached_s = time.perf_counter() - began
                label = fmt + (" FR" if query else "")
                print(f"{label:<14} {first_s:>8.2f}s {cached_s * 1000:>7.1f}ms {len(again.data) / 1e6:>8.1f}MB  "
                      f"{first.status_code}" + (f" ({(first.get_json() or {}).get('error', '')[:70]}…)"
                                                if first.status_code != 200 else ""))


if __name__ == "__main__":
    main()
