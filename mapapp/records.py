"""The public shape of an organisation, shared by the API's lists and popups and the
GeoJSON properties: one serialiser, so that every answer names the same fields alike."""

from __future__ import annotations

from . import vocab

FICTIONAL_SOURCE = "demo"  # the source of the bundled demo organisations


def summary(org: dict, lang: str, url: str | None) -> dict:
    """Name, place, relation and themes with their labels in ``lang``, website, page URL."""
    return {
        "slug": org["slug"], "name": org["name"], "city": org["city"], "country": org["country"],
        "country_name": vocab.country_name(org["country"] or "", lang),
        "relation": org["relation"], "relation_label": vocab.relations().label(org["relation"], lang),
        "themes": org["themes"], "theme_labels": [vocab.themes().label(t, lang) for t in org["themes"]],
        "lat": org["lat"], "lon": org["lon"], "website": org["website"], "url": url,
        "fictional": org.get("source") == FICTIONAL_SOURCE,
    }
