"""Geometry at the GeoJSON boundary: points in (lon, lat) order, bounds.

Inside mapapp points are lat/lon; GeoJSON and shapely want (lon, lat), and
this module is where that order changes.
"""

from __future__ import annotations

from shapely.geometry import MultiPoint, Point, mapping

from . import vocab


def feature_collection(orgs: list[dict], *, lang: str = vocab.DEFAULT_LANGUAGE,
                       url_for_slug=None) -> dict:
    """An RFC 7946 FeatureCollection of located organisations with their main properties."""
    features = []
    for org in orgs:
        if org.get("lat") is None or org.get("lon") is None:
            continue
        geometry = mapping(Point(org["lon"], org["lat"]))
        features.append({
            "type": "Feature",
            "id": org["slug"],
            "geometry": {"type": "Point", "coordinates": list(geometry["coordinates"])},
            "properties": {
                "slug": org["slug"],
                "name": org["name"],
                "city": org["city"],
                "country": org["country"],
                "country_name": vocab.country_name(org["country"] or "", lang),
                "relation": org["relation"],
                "themes": org["themes"],
                "theme_labels": [vocab.themes().label(t, lang) for t in org["themes"]],
                "website": org["website"],
                "url": url_for_slug(org["slug"]) if url_for_slug else None,
                "fictional": org.get("source") == "demo",
            },
        })
    return {"type": "FeatureCollection", "features": features}


def bounds(orgs: list[dict]) -> tuple[float, float, float, float] | None:
    """(min_lat, min_lon, max_lat, max_lon) of the located organisations, or None."""
    points = [(o["lon"], o["lat"]) for o in orgs if o.get("lat") is not None]
    if not points:
        return None
    min_lon, min_lat, max_lon, max_lat = MultiPoint(points).bounds
    return (min_lat, min_lon, max_lat, max_lon)
