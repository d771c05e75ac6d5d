"""Geometry at the GeoJSON boundary: points in (lon, lat) order, bounds, countries;
and distances, with the one ranking of partners by distance.

Inside mapapp points are lat/lon; GeoJSON and shapely want (lon, lat), and
this module is where that order changes.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import MultiPoint, Point

from . import records, vocab
from .config import DATA_DIR


def feature_collection(found: list[records.Record], *, lang: str = vocab.DEFAULT_LANGUAGE) -> dict:
    """An RFC 7946 FeatureCollection of the located organisations with their main properties."""
    features = []
    for record in found:
        if record.lat is None or record.lon is None:
            continue
        features.append({
            "type": "Feature",
            "id": record.slug,
            "geometry": {"type": "Point", "coordinates": [record.lon, record.lat]},  # GeoJSON order
            "properties": record.geojson_properties(lang),
        })
    return {"type": "FeatureCollection", "features": features}


def latlon_bounds(orgs: list[dict]) -> tuple[float, float, float, float] | None:
    """(min_lat, min_lon, max_lat, max_lon) of the located organisations, or None."""
    points = [(o["lon"], o["lat"]) for o in orgs if o.get("lat") is not None]
    if not points:
        return None
    min_lon, min_lat, max_lon, max_lat = MultiPoint(points).bounds
    return (min_lat, min_lon, max_lat, max_lon)


# -- countries -----------------------------------------------------------------

COUNTRIES_FILE = DATA_DIR / "geo" / "countries.geojson"
# Countries are simplified to ~1 km; points this close to the border still count
# as inside, so that a harbour or a border town is not rejected.
BORDER_TOLERANCE_DEGREES = 0.03
# Natural Earth leaves out small islands (Orkney, Scilly, the Hebrides): a point
# in no country at all is accepted this close to its stated country's coast.
OFFSHORE_TOLERANCE_DEGREES = 0.25
# Territories with ISO codes of their own whose addresses often name the
# country they belong to ("Puerto Rico, US").
TERRITORIES = {
    "US": ("PR", "VI", "GU", "AS", "MP", "UM"),
    "GB": ("GG", "JE", "IM", "GI"),
    "NL": ("AW", "CW", "SX", "BQ"),
    "DK": ("FO", "GL"),
    "FR": ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"),
    "FI": ("AX",),
    "NO": ("SJ",),
}


_ISO_PROPERTY = re.compile(r'"iso"\s*:\s*"([^"]*)"')


@cache
def _countries() -> tuple[dict[str, object], STRtree, list[str]]:
    text = COUNTRIES_FILE.read_text(encoding="utf-8")
    # GEOS parses the whole collection at once, several times faster than shapely.shape.
    geometries = shapely.from_geojson(text).geoms
    # Each feature's one property, in order: found in the text, twice as fast as parsing the
    # JSON again (every process that imports a file loads the outlines); parsed when unsure.
    codes_in_order = _ISO_PROPERTY.findall(text)
    if len(codes_in_order) != len(geometries):
        codes_in_order = [f["properties"]["iso"] for f in json.loads(text)["features"]]
    shapes = {}
    for code, geometry in zip(codes_in_order, geometries):
        shapely.prepare(geometry)
        shapes[code] = geometry
    codes = list(shapes)
    return shapes, STRtree([shapes[c] for c in codes]), codes


def has_outline(country: str) -> bool:
    """True when the shipped outlines include ``country``."""
    return country in _countries()[0]


def country_bounds(country: str) -> tuple[float, float, float, float] | None:
    """``(south, west, north, east)`` of the country's main land (its largest part: France
    without its overseas departments), to open a map on; None without an outline."""
    shape = _countries()[0].get(country)
    if shape is None:
        return None
    parts = getattr(shape, "geoms", [shape])
    west, south, east, north = max(parts, key=lambda g: g.area).bounds
    return south, west, north, east


def country_at(lat: float, lon: float) -> str | None:
    """The ISO code of the country containing the point, or None (sea, unknown)."""
    _, tree, codes = _countries()
    point = Point(lon, lat)
    for index in tree.query(point, predicate="intersects"):
        return codes[index]
    nearest = tree.query_nearest(point, max_distance=BORDER_TOLERANCE_DEGREES)
    return codes[nearest[0]] if len(nearest) else None


def in_country(country: str, lat: float, lon: float) -> bool | None:
    """Whether the point lies in (or within ~3 km of) ``country``; None if the
    country has no outline to check against."""
    shapes = _countries()[0]
    if country not in shapes:
        return None
    for code in (country, *TERRITORIES.get(country, ())):
        geometry = shapes.get(code)
        if geometry is not None and shapely.contains_xy(geometry, lon, lat):
            return True
    distance = shapes[country].distance(Point(lon, lat))
    if distance <= BORDER_TOLERANCE_DEGREES:
        return True
    return distance <= OFFSHORE_TOLERANCE_DEGREES and country_at(lat, lon) is None


def points_in_country(country: str, lats: list[float], lons: list[float]) -> list[bool]:
    """Which points lie inside ``country`` (or its territories), in one vectorised call.

    Points near the border or offshore are False here; ``in_country`` decides those."""
    shapes = _countries()[0]
    inside = [False] * len(lats)
    for code in (country, *TERRITORIES.get(country, ())):
        geometry = shapes.get(code)
        if geometry is not None and lats:
            hits = shapely.contains_xy(geometry, lons, lats)
            inside = [a or bool(b) for a, b in zip(inside, hits)]
    return inside


def points_near_country(country: str, lats: list[float], lons: list[float]) -> list[bool]:
    """``in_country`` of many points at once (False for all when the country has no outline):
    inside it or its territories, within BORDER_TOLERANCE_DEGREES of it, or offshore within
    OFFSHORE_TOLERANCE_DEGREES and in no other country. An import checks its rows' points so,
    chunk by chunk: one point in fourteen of a real-shaped file lies on a coast or a border,
    and asking for each alone was the largest part of locating them."""
    shapes, tree, _codes = _countries()
    if country not in shapes or not lats:
        return [False] * len(lats)
    verdicts = np.array(points_in_country(country, lats, lons), dtype=bool)
    todo = np.flatnonzero(~verdicts)
    if len(todo):
        points = shapely.points(np.asarray(lons, dtype=float)[todo], np.asarray(lats, dtype=float)[todo])
        # dwithin uses the prepared outline: ten times faster than measuring each distance.
        near = shapely.dwithin(shapes[country], points, BORDER_TOLERANCE_DEGREES)
        offshore = np.flatnonzero(~near & shapely.dwithin(shapes[country], points, OFFSHORE_TOLERANCE_DEGREES))
        if len(offshore):
            near[offshore] = ~_near_any_country(points[offshore])
        verdicts[todo] = near
    return verdicts.tolist()


def _near_any_country(points: np.ndarray) -> np.ndarray:
    """Which points lie in or within BORDER_TOLERANCE_DEGREES of any country: the countries
    whose box is that near each point, then each country's prepared outline (``dwithin``)
    for its points. The tree's own nearest query measured the distance to every part of
    every outline and took most of an import's point checks."""
    shapes, tree, codes = _countries()
    d = BORDER_TOLERANCE_DEGREES
    x, y = shapely.get_x(points), shapely.get_y(points)
    found = np.zeros(len(points), dtype=bool)
    which, near_codes = tree.query(shapely.box(x - d, y - d, x + d, y + d))
    for code in np.unique(near_codes):
        mine = which[near_codes == code]
        mine = mine[~found[mine]]
        if len(mine):
            found[mine[shapely.dwithin(shapes[codes[code]], points[mine], d)]] = True
    return found


# -- distances and partners --------------------------------------------------

EARTH_RADIUS_KM = 6371.0


def _haversine_km(m, lat1, lon1, lat2, lon2):
    """The great-circle distance, written once for ``math`` (two points, fast in pure
    Python) and ``numpy`` (a point to arrays of them), so that both compute the same."""
    lat1, lon1, lat2, lon2 = m.radians(lat1), m.radians(lon1), m.radians(lat2), m.radians(lon2)
    h = m.sin((lat2 - lat1) / 2) ** 2 + m.cos(lat1) * m.cos(lat2) * m.sin((lon2 - lon1) / 2) ** 2
    return EARTH_RADIUS_KM * 2 * m.asin(m.sqrt(h))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, in kilometres."""
    return _haversine_km(math, a[0], a[1], b[0], b[1])


def distances_km(here: tuple[float, float], lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """``distance_km`` from ``here`` to each of the points (lats[i], lons[i])."""
    return _haversine_km(np, here[0], here[1], lats, lons)


def boxes_around(here: tuple[float, float], degrees: float) -> list[tuple[float, float, float, float]]:
    """``(min_lat, max_lat, min_lon, max_lon)`` boxes that together hold every point within
    ``degrees`` of arc of ``here``: one box, two where it crosses the antimeridian, and a
    band of every longitude where it reaches a pole."""
    lat, lon = here
    if abs(lat) + degrees >= 90.0:  # past the pole every longitude is near
        return [(max(-90.0, lat - degrees), min(90.0, lat + degrees), -180.0, 180.0)]
    # The widest the circle is in longitude (the meridians tangent to it).
    half = math.degrees(math.asin(math.sin(math.radians(degrees)) / math.cos(math.radians(lat))))
    south, north, west, east = lat - degrees, lat + degrees, lon - half, lon + half
    if east - west >= 360.0:
        return [(south, north, -180.0, 180.0)]
    if west < -180.0:
        return [(south, north, west + 360.0, 180.0), (south, north, -180.0, east)]
    if east > 180.0:
        return [(south, north, west, 180.0), (south, north, -180.0, east - 360.0)]
    return [(south, north, west, east)]


def rank_partners(found: list[dict], here: tuple[float, float] | None) -> list[dict]:
    """Matched organisations (dicts with ``id``, ``name``, ``lat``, ``lon`` and their
    ``shared`` resources) with their ``km`` from ``here``, ranked as every page and path
    shows partners: nearest first, those without a point (or from nowhere) last; at one
    distance, the most shared resources first, then by name, then by id."""
    for m in found:
        m["km"] = distance_km(here, (m["lat"], m["lon"])) if here and m["lat"] is not None else None
    found.sort(key=lambda m: (m["km"] is None, m["km"] or 0, -len(m["shared"]), m["name"], m["id"]))
    return found
