"""Benchmark offline geocoding on a file whose points are known.

    python scripts/bench_geocode.py FILE.csv [--lat COLUMN --lon COLUMN] [--country GB] [--limit N]

Drops every coordinate column (and any column whose header speaks of latitude,
longitude, coordinates or a geo container), imports the rest into a fresh catalogue
with the offline chain (provided, cache, postcode, gazetteer), and prints the share of
imported organisations within 1, 10 and 50 km of their known point, the number more
than 100 km off, and how many of those carried a warning. Targets (issue 29): 90 % or
more within 10 km; none more than 100 km off without a warning.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapapp import catalogue, geo  # noqa: E402
from mapapp.importing import importer  # noqa: E402
from mapapp.mapdata import geocode  # noqa: E402

COORDINATE_HEADER = re.compile(r"lat|lon|geo|coord|^x$|^y$", re.I)
GEO_COLUMNS = ("location", "city", "postcode", "country", "street", "region")


def _numeric(value: str | None) -> bool:
    try:
        float(value or "")
    except ValueError:
        return False
    return True


def _known_column(headers: list[str], given: str | None, words: tuple[str, ...], rows: list[dict]) -> str:
    if given:
        return given
    for word in words:
        for header in headers:
            # An empty "Latitude" next to a filled "Geo Container Latitude" (ESSGLOBAL): the filled one.
            if header.strip().lower() == word and any(_numeric(r.get(header)) for r in rows[:500]):
                return header
    sys.exit(f"no column of known points found; name it with --lat/--lon (headers: {', '.join(headers)})")


def bench(path: Path, *, lat_column: str | None, lon_column: str | None, country: str | None,
          limit: int | None) -> dict:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        headers = list(reader.fieldnames or [])
        rows = list(reader)
    lat_column = _known_column(headers, lat_column, ("latitude", "lat", "geo container latitude"), rows)
    lon_column = _known_column(headers, lon_column, ("longitude", "lon", "lng", "geo container longitude"), rows)
    known, kept = {}, [h for h in headers if not COORDINATE_HEADER.search(h)]
    with tempfile.TemporaryDirectory() as folder:
        stripped = Path(folder) / path.name
        with stripped.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(kept)
            n = 0
            for row in rows:
                try:
                    point = float(row[lat_column]), float(row[lon_column])
                except (TypeError, ValueError):
                    continue
                n += 1
                known[n + 1] = point  # the report numbers rows from the header's 1
                writer.writerow([row[h] for h in kept])
                if limit and n >= limit:
                    break
        db = catalogue.connect(Path(folder) / "bench.db")
        chain = geocode.Chain.from_config("provided,cache,postcode,gazetteer", db, user_agent="")
        report = importer.import_file(db, stripped, importer.Options(country=country), chain)
        warned = {i.row for i in report.issues if i.level == "warning" and str(i.column) in GEO_COLUMNS}
        placed = {o.row: o.slug for o in report.rows if o.slug}
        points = {org["slug"]: (org["lat"], org["lon"]) for org in db.query(
            "select slug, lat, lon from organisations where lat is not null")}
        db.close()
    distances, far, far_warned, imported = [], 0, 0, 0
    for row, truth in known.items():
        if row not in placed:
            continue  # skipped by the import (a duplicate row, no name): not a placement
        imported += 1
        point = points.get(placed[row])
        if point is None:
            continue
        km = geo.distance_km(truth, point)
        distances.append(km)
        if km > 100:
            far += 1
            far_warned += row in warned
    total = imported

    def share(km: float) -> float:
        return round(100 * sum(d <= km for d in distances) / total, 1) if total else 0.0

    return {"rows": len(known), "imported": imported, "located": len(distances), "within_1km": share(1), "within_10km": share(10),
            "within_50km": share(50), "over_100km": far, "over_100km_warned": far_warned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--lat", help="column of the known latitudes [default: Latitude, lat…]")
    parser.add_argument("--lon", help="column of the known longitudes [default: Longitude, lon…]")
    parser.add_argument("--country", help="the file's country, as mapapp import --country")
    parser.add_argument("--limit", type=int, help="only the first N rows with a known point")
    args = parser.parse_args()
    figures = bench(args.file, lat_column=args.lat, lon_column=args.lon, country=args.country, limit=args.limit)
    print(f"{args.file.name}: {figures['rows']} rows with a known point, {figures['imported']} imported, "
          f"{figures['located']} located")
    print(f"  within 1 km {figures['within_1km']} %, 10 km {figures['within_10km']} %, "
          f"50 km {figures['within_50km']} %")
    print(f"  more than 100 km off: {figures['over_100km']} ({figures['over_100km_warned']} with a warning)")


if __name__ == "__main__":
    main()
