"""Country outlines to draw when no map tiles arrive: the Natural Earth polygons shipped
in data/geo, simplified for drawing (the full ones are for checking coordinates).

A map that cannot reach its tile server shows these instead of a blank grey plane, so
that a visitor or a staff member offline still sees which country a pin is in.
"""

from __future__ import annotations

import gzip
import json
from functools import cache

from shapely import set_precision
from shapely.geometry import box, mapping, shape

from ..config import ROOT

SOURCE = ROOT / "data" / "geo" / "countries.geojson"
DRAWING_TOLERANCE = 0.02  # degrees (~2 km): borders stay right to within a village at zoom 12
EXPORT_TOLERANCE = 0.05  # coarser where the outlines travel inside every standalone HTML export
ATTRIBUTION = "Natural Earth"


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
