"""Folium map building: the page's map shell (base layer, controls, attribution).

Folium would link Leaflet and friends from CDNs; here every asset comes from
``static/vendor/``, through the ``asset_url`` callable the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from jinja2 import Template

# Europe, where the projects are, until the data layer fits the map to the data.
DEFAULT_CENTER = (48.5, 10.0)
DEFAULT_ZOOM = 4


# How the first view fits the organisations (map.js fits new selections the same way).
FIT_OPTIONS = {"padding": [30, 30], "maxZoom": 12, "animate": False}
FOCUS_ZOOM = 15


class _FirstView(MacroElement):
    """The map's first view, set before the base layer is added: the tiles of the default
    view are never asked for, and map.js asks for the data of this view at once."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {% if this.focus %}{{ this._parent.get_name() }}.setView({{ this.focus|tojson }}, {{ this.zoom }}, {animate: false});
        {% else %}{{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {{ this.options|tojson }});{% endif %}
        {% endmacro %}
    """)

    def __init__(self, bounds=None, focus=None):
        super().__init__()
        self._name = "FirstView"
        self.bounds, self.focus, self.zoom, self.options = bounds, focus, FOCUS_ZOOM, FIT_OPTIONS


@dataclass(frozen=True)
class MapShell:
    """The rendered pieces of a folium map, to place in a page template."""

    name: str  # the global JS variable holding the Leaflet map
    header: str
    html: str
    script: str


def map_shell(
    *, tile_url: str, attribution: str, max_zoom: int, asset_url: Callable[[str], str],
    center: tuple[float, float] = DEFAULT_CENTER, zoom: int = DEFAULT_ZOOM, nonce: str = "",
    fit: tuple[float, float, float, float] | None = None, focus: tuple[float, float] | None = None,
) -> MapShell:
    """Build the folium map with self-hosted Leaflet and the configured tile server.
    ``nonce`` is given to folium's inline scripts so that the page's CSP lets them run.
    The first view fits ``fit`` (min lon, min lat, max lon, max lat) or shows ``focus``
    (lat, lon) close up; else it is ``center`` at ``zoom``."""
    m = folium.Map(location=list(center), zoom_start=zoom, tiles=None, control_scale=True,
                   min_zoom=2)
    if focus is not None:
        _FirstView(focus=[float(focus[0]), float(focus[1])]).add_to(m)
    elif fit is not None:
        west, south, east, north = (float(v) for v in fit)
        _FirstView(bounds=[[south, west], [north, east]]).add_to(m)
    m.default_js = [("leaflet", asset_url("vendor/leaflet/leaflet.js"))]
    m.default_css = [("leaflet_css", asset_url("vendor/leaflet/leaflet.css"))]
    if tile_url:  # none configured: basemap.js draws the country outlines instead
        folium.TileLayer(tiles=tile_url, attr=attribution, max_zoom=max_zoom,
                         name="base").add_to(m)
    root = m.get_root()
    root.render()  # populates the header with the links above
    # Folium's viewport tag forbids zooming the page (user-scalable=no), which people
    # with low vision need; the page templates set their own.
    header = re.sub(r'<meta name="viewport"[^>]*>', "", root.header.render())
    if nonce:
        header = header.replace("<script>", f'<script nonce="{nonce}">')
    return MapShell(
        name=m.get_name(),
        header=header,
        html=root.html.render(),
        script=root.script.render(),
    )
