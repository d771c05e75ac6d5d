"""Folium map building: the page's map shell (Leaflet map, base layer, scale, attribution).

The shell depends on settings only (tile server, attribution, maximum zoom, asset
addresses), never on a request: it is built once per set of them and kept. What changes
per page reaches it as data: the first view is read from the page's settings JSON (the
``<script type="application/json" id="mapapp-settings">`` placed before the shell's
script), and the CSP nonce is written by the page template on the ``<script>`` tag around
``MapShell.script``. No organisation text ever goes into a folium or branca template.

The Leaflet map is the global ``window.mapappMap`` (``MAP_NAME``), on the element of that
id: map.js and the browser tests find it there.

Folium would link Leaflet from a CDN; here every asset comes from ``static/vendor/``,
through the addresses the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import folium
from branca.element import MacroElement
from folium.template import Template
from markupsafe import Markup

# Europe, where the projects are, until the data layer fits the map to the data.
DEFAULT_CENTER = (48.5, 10.0)
DEFAULT_ZOOM = 4

# How the first view fits the organisations (map.js fits new selections the same way).
FIT_OPTIONS = {"padding": [30, 30], "maxZoom": 12, "animate": False}
# The width (px) an open legend takes at the map's right edge (15rem and its margin, see
# .map-legend in mapapp.css): a first view fits the organisations beside it.
LEGEND_ROOM = 250
FOCUS_ZOOM = 15

# The stable handle on the Leaflet map: global variable and element id.
MAP_NAME = "mapappMap"
SETTINGS_ID = "mapapp-settings"


class _ShellMap(folium.Map):
    """folium's map under a fixed name, without folium's page boilerplate: no viewport tag
    (folium's forbids zooming the page, which people with low vision need; the page
    templates set their own) and no inline script in the header (its two switches are
    Leaflet's defaults), so that the header needs no CSP nonce."""

    _template = Template("""
        {% macro header(this, kwargs) %}
            <style>
                #{{ this.get_name() }} { position: relative; width: 100%; height: 100%; left: 0; top: 0; }
                .leaflet-container { font-size: {{ this.font_size }}; }
                html, body { width: 100%; height: 100%; margin: 0; padding: 0; }
            </style>
        {% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
                center: {{ this.location|tojson }},
                crs: L.CRS.{{ this.crs }},
                ...{{ this.options|tojavascript }}
            });
            {%- if this.control_scale %}
            L.control.scale().addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
    """)

    def get_name(self) -> str:
        return MAP_NAME


class _FirstView(MacroElement):
    """The map's first view, set before the base layer is added: the tiles of the default
    view are never asked for, and map.js asks for the data of this view at once. It is
    the page's own: the organisation in focus (embeds) or the selection's bounds
    (``initial.bounds``: min lon, min lat, max lon, max lat), read from the settings JSON."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function (s) {
                var map = {{ this._parent.get_name() }}, b = s.initial && s.initial.bounds;
                if (s.focus) map.setView([s.focus.lat, s.focus.lon], s.focusZoom, {animate: false});
                else if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]], beside(s.fit));
                // map.js opens the legend in the top right corner of a map this wide when
                // organisations have categories: fit them beside it, not under it.
                function beside(fit) {
                    var size = map.getSize(), room = {{ this.legend_room }}, c = s.categories && s.categories.categories;
                    var legend = c && c.some(function (x, i) { return i && x.present; });
                    if (!legend || size.x <= 600 || size.y <= 360 || room > size.x / 3) return fit;
                    var p = fit.padding || [0, 0], out = Object.assign({}, fit, {paddingTopLeft: p,
                                                                             paddingBottomRight: [p[0] + room, p[1]]});
                    delete out.padding;
                    return out;
                }
            })(JSON.parse(document.getElementById({{ this.settings_id|tojson }}).textContent));
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "FirstView"
        self.settings_id = SETTINGS_ID
        self.legend_room = LEGEND_ROOM


@dataclass(frozen=True)
class MapShell:
    """The rendered pieces of the folium map, to place in a page template: ``header`` in
    the head, ``html`` where the map goes, ``script`` in a ``<script>`` with the page's
    nonce, after the settings JSON."""

    header: Markup
    html: Markup
    script: Markup


@lru_cache(maxsize=64)
def map_shell(*, tile_url: str, attribution: str, max_zoom: int, leaflet_js: str, leaflet_css: str) -> MapShell:
    """The map with self-hosted Leaflet (``leaflet_js``, ``leaflet_css``: their addresses)
    and the configured tile server; none configured (``tile_url`` empty): basemap.js draws
    the country outlines instead. Built once per set of arguments (the attribution
    carries the language)."""
    m = _ShellMap(location=list(DEFAULT_CENTER), zoom_start=DEFAULT_ZOOM, tiles=None,
                  control_scale=True)
    _FirstView().add_to(m)
    m.default_js = [("leaflet", leaflet_js)]
    m.default_css = [("leaflet_css", leaflet_css)]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=attribution, max_zoom=max_zoom, name="base").add_to(m)
    root = m.get_root()
    root.render()  # populates the header with the links above
    # folium's own markup from the settings above (asset addresses, the operator's tile URL and
    # attribution): never organisation text, which reaches the page as JSON data only.
    header = Markup(root.header.render())  # nosec B704 # settings only, see above
    html = Markup(root.html.render())  # nosec B704 # settings only, see above
    script = Markup(root.script.render())  # nosec B704 # settings only, see above
    return MapShell(header=header, html=html, script=script)
