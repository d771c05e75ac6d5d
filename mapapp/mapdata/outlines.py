"""Country outlines to draw when no map tiles arrive: the Natural Earth polygons shipped
in data/geo, simplified for drawing (the full ones are for checking coordinates), and the
names to write on them: countries and large towns (GeoNames, from the offline gazetteer)
in the visitor's language.

A map that cannot reach its tile server shows these instead of a blank grey plane, so
that a visitor or a staff member offline still sees which country a pin is in.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache, lru_cache

from babel import Locale
from shapely import set_precision
from shapely.geometry import box, mapping, shape
from shapely.ops import polylabel

from .. import geo, multilingual, vocab
from ..config import ROOT
from . import gazetteer

SOURCE = ROOT / "data" / "geo" / "countries.geojson"
DRAWING_TOLERANCE = 0.02  # degrees (~2 km): borders stay right to within a village at zoom 12
EXPORT_TOLERANCE = 0.05  # coarser where the outlines travel inside every standalone HTML export
ATTRIBUTION = "Natural Earth"
LABELS_ATTRIBUTION = "GeoNames"  # the towns' names and places (CC BY 4.0: it must be named)


@cache
def _features(tolerance: float) -> tuple[tuple[object, dict], ...]:
    """(shape, GeoJSON feature) per country, simplified to ``tolerance`` degrees."""
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    out = []
    for feature in source["features"]:
        geometry = set_precision(shape(feature["geometry"]).simplify(tolerance, preserve_topology=True),
                                 tolerance / 5)
        if geometry.is_empty:
            continue
        out.append((geometry, {"type": "Feature", "properties": {"iso": feature["properties"]["iso"]},
                               "geometry": mapping(geometry)}))
    return tuple(out)


def outlines(*, tolerance: float = DRAWING_TOLERANCE,
             bounds: tuple[float, float, float, float] | None = None) -> dict:
    """The outlines as a GeoJSON FeatureCollection; with ``bounds`` (min lon, min lat, max lon,
    max lat), only the countries that reach into them."""
    area = box(*bounds) if bounds else None
    features = [f for geometry, f in _features(tolerance) if area is None or geometry.intersects(area)]
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


@cache
def outlines_bytes(compressed: bool) -> bytes:
    """Every outline, encoded once per process (gzip-compressed or not)."""
    body = json.dumps(outlines(), separators=(",", ":")).encode()
    return gzip.compress(body, mtime=0) if compressed else body


# -- names on the outlines -------------------------------------------------------------

# The smallest zoom at which a country is named, by the area of its largest part (square
# degrees): a large country from the whole continent, Belgium from zoom 5, Malta closer.
COUNTRY_ZOOMS = ((20.0, 3), (2.0, 5), (0.25, 6), (0.01, 7))
SMALLEST_COUNTRY_ZOOM = 8
# The smallest zoom at which a town is named, by its population: capitals and the largest
# towns over the continent, more as one zooms in.
TOWN_ZOOMS = ((1_000_000, 4), (300_000, 5), (100_000, 6), (50_000, 7))
# A place this near a larger named town is one of its districts or suburbs (Hamburg-Nord,
# Marne-la-Vallée): the town's name says where it is.
DISTRICT_KM = 15
# Russia is named over its European part, where the map's organisations are, not in Siberia.
NAMED_WITHIN = {"RU": (27.0, 50.0, 60.0, 62.0)}
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")


def _zoom(value: float, steps: tuple[tuple[float, int], ...], last: int) -> int:
    return next((zoom for least, zoom in steps if value >= least), last)


@cache
def _country_points() -> tuple[tuple[str, float, float, int], ...]:
    """(code, lat, lon, smallest zoom) of each country's label, largest country first: the
    point deepest inside its largest part (the mainland, not an overseas department)."""
    out = []
    for geometry, feature in _features(DRAWING_TOLERANCE):  # the outlines drawn, read once
        code = feature["properties"]["iso"]
        if code in NAMED_WITHIN:
            geometry = geometry.intersection(box(*NAMED_WITHIN[code]))
        part = max(getattr(geometry, "geoms", [geometry]), key=lambda p: p.area)
        if part.is_empty or part.geom_type != "Polygon":
            continue
        point = polylabel(part, tolerance=0.05)
        out.append((part.area, code, round(point.y, 2), round(point.x, 2)))
    out.sort(reverse=True)
    return tuple((code, lat, lon, _zoom(area, COUNTRY_ZOOMS, SMALLEST_COUNTRY_ZOOM))
                 for area, code, lat, lon in out)


@cache
def _towns() -> tuple[tuple[str, str, tuple[str, ...], float, float, int], ...]:
    """(country, name, other names, lat, lon, smallest zoom) of the gazetteer's towns worth
    naming on the outlines, most populous first, without the districts of larger ones."""
    found = []
    for path in sorted(gazetteer.PLACES_DIR.glob("*.tsv.gz")):
        # Read line by line, not kept: the whole gazetteer is not this module's to hold.
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            next(f)
            for line in f:
                row = line.rstrip("\r\n").split("\t")
                if len(row) == 7 and row[5].isdigit() and int(row[5]) >= TOWN_ZOOMS[-1][0]:
                    found.append((int(row[5]), path.name.split(".")[0], row[1],
                                  tuple(a for a in row[6].split("|") if a), float(row[3]), float(row[4])))
    found.sort(key=lambda t: -t[0])
    kept: list[tuple[str, str, tuple[str, ...], float, float, int]] = []
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}  # half-degree cells: ≥ 19 km up to 70° N
    for population, country, name, aliases, lat, lon in found:
        row, col = int(lat * 2), int(lon * 2)
        near = (p for r in (row - 1, row, row + 1) for c in (col - 1, col, col + 1) for p in cells.get((r, c), ()))
        if any(geo.distance_km((lat, lon), p) < DISTRICT_KM for p in near):
            continue
        cells.setdefault((row, col), []).append((lat, lon))
        kept.append((country, name, aliases, round(lat, 3), round(lon, 3), _zoom(population, TOWN_ZOOMS, 8)))
    return tuple(kept)


def _town_name(name: str, country: str, aliases: tuple[str, ...], lang: str) -> str:
    """The town's name in ``lang`` where CLDR has it; in Greek, else its Greek name from the
    gazetteer's other names (Κρακοβία), which Greek readers know better than a Latin one."""
    local = multilingual.local_town(name, country, lang)
    if lang == "el" and not _GREEK.search(local):
        local = next((a for a in aliases if _GREEK.search(a) and not re.search("[A-Za-z]", a)), local)
    return local


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def _country_label(code: str, lang: str) -> str | None:
    """The country's short everyday name in ``lang`` (CLDR: "Russie", not "Russie,
    Fédération de"), else the app's own; None for an outline no one names (a disputed area)."""
    name = _territories(lang).get(code)
    if name:
        return name
    name = vocab.country_name(code, lang)
    return None if name == code else name


def labels(lang: str) -> dict:
    """The names drawn on the outlines in ``lang``: ``countries`` and ``towns`` as
    ``[name, lat, lon, smallest zoom]``, in the order they claim room on the map."""
    countries = [[name, lat, lon, zoom] for code, lat, lon, zoom in _country_points()
                 if (name := _country_label(code, lang))]
    towns = [[_town_name(name, country, aliases, lang), lat, lon, zoom]
             for country, name, aliases, lat, lon, zoom in _towns()]
    return {"attribution": LABELS_ATTRIBUTION, "countries": countries, "towns": towns}


@lru_cache(maxsize=2 * 6)
def labels_bytes(lang: str, compressed: bool) -> bytes:
    """``labels(lang)`` encoded once per process and language (gzip-compressed or not)."""
    body = json.dumps(labels(lang), separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(body, mtime=0) if compressed else body
