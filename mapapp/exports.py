"""Open-data exports of the published organisations: GeoJSON, CSV, XLSX, GeoPackage,
a standalone HTML map, and ESSGLOBAL's "standard" CSV for other solidarity-economy maps.

Text cells that a spreadsheet would run as formulas are neutralised in CSV and XLSX;
numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from markupsafe import escape

from . import geo, vocab
from .config import ROOT
from .csvsafe import neutralise

FORMATS = ("geojson", "csv", "xlsx", "gpkg", "html", "essglobal")
COLUMNS = ("slug", "name", "description", "relation", "structure", "legal_form", "street", "postcode",
           "city", "region", "country", "lat", "lon", "geo_precision", "website", "email", "phone",
           "themes", "theme_labels", "needs", "offers", "projects", "url")
ESSGLOBAL_COLUMNS = ("Identifier", "Name", "Description", "Organisational Structure", "Primary Activity",
                     "Activities", "Street Address", "Locality", "Region", "Postcode", "Country ID",
                     "Territory ID", "Website", "Phone", "Email", "Twitter", "Facebook",
                     "Companies House Number", "Qualifiers", "Membership Type", "Latitude", "Longitude",
                     "Geo Container", "Geo Container Latitude", "Geo Container Longitude")
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "gpkg": "application/geopackage+sqlite3", "html": "text/html; charset=utf-8",
               "essglobal": "text/csv; charset=utf-8"}
EXTENSIONS = {"geojson": "geojson", "csv": "csv", "xlsx": "xlsx", "gpkg": "gpkg", "html": "html",
              "essglobal": "essglobal.csv"}


def _resources(items: dict[str, str]) -> str:
    return "; ".join(f"{code}: {detail}" if detail else code for code, detail in items.items())


def table(orgs: list[dict], *, lang: str, base_url: str) -> list[list]:
    """One row per organisation, in ``COLUMNS`` order."""
    rows = []
    for o in orgs:
        rows.append([
            o["slug"], o["name"], o["description"], o["relation"], o["structure"] or "", o["legal_form"],
            o["street"], o["postcode"], o["city"], o["region"], o["country"] or "", o["lat"], o["lon"],
            o["geo_precision"] or "", o["website"], o["email"], o["phone"], "; ".join(o["themes"]),
            "; ".join(vocab.themes().label(t, lang) for t in o["themes"]), _resources(o["needs"]),
            _resources(o["offers"]), "; ".join(o["projects"]), f"{base_url}/organisations/{o['slug']}",
        ])
    return rows


def to_csv(orgs: list[dict], *, lang: str, base_url: str) -> bytes:
    """UTF-8 CSV (with BOM, so that Excel reads accents), formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in table(orgs, lang=lang, base_url=base_url):
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(orgs: list[dict], *, lang: str, base_url: str) -> bytes:
    """An XLSX workbook with one sheet, formula-safe, coordinates as numbers."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("organisations")
    sheet.append(list(COLUMNS))
    for row in table(orgs, lang=lang, base_url=base_url):
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_geojson(orgs: list[dict], *, lang: str, base_url: str) -> bytes:
    """An RFC 7946 FeatureCollection."""
    collection = geo.feature_collection(orgs, lang=lang, url_for_slug=lambda s: f"{base_url}/organisations/{s}")
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def to_gpkg(orgs: list[dict], *, lang: str, base_url: str) -> bytes:
    """A GeoPackage (layer ``organisations``, EPSG:4326) for QGIS and GDAL."""
    import tempfile

    import geopandas as gpd
    from shapely.geometry import Point

    located = [o for o in orgs if o["lat"] is not None]
    rows = table(located, lang=lang, base_url=base_url)
    frame = gpd.GeoDataFrame(
        [dict(zip(COLUMNS, r)) for r in rows] or None, columns=list(COLUMNS),
        geometry=[Point(o["lon"], o["lat"]) for o in located], crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "organisations.gpkg"
        frame.to_file(path, layer="organisations", driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def to_essglobal(orgs: list[dict], *, lang: str, base_url: str) -> bytes:
    """The ESSGLOBAL "standard" CSV, with vocabulary URIs, for other solidarity-economy maps."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ESSGLOBAL_COLUMNS)
    for o in orgs:
        themes = [vocab.THEME_URI_BASE + t for t in o["themes"]]
        writer.writerow([neutralise(v) for v in (
            o["slug"], o["name"], o["description"],
            vocab.STRUCTURE_URI_BASE + o["structure"] if o["structure"] else "",
            themes[0] if themes else "", ";".join(themes), o["street"], o["city"], o["region"],
            o["postcode"], o["country"] or "", "", o["website"], o["phone"], o["email"], "", "", "", "", "",
            o["lat"] if o["lat"] is not None else "", o["lon"] if o["lon"] is not None else "", "", "", "")])
    return out.getvalue().encode("utf-8")


_VENDOR = ROOT / "static" / "vendor"
_INLINE_JS = ("jquery/jquery.min.js", "leaflet/leaflet.js", "leaflet.markercluster/leaflet.markercluster.js")
_INLINE_CSS = ("leaflet/leaflet.css", "leaflet.markercluster/MarkerCluster.css",
               "leaflet.markercluster/MarkerCluster.Default.css")


def to_html(orgs: list[dict], *, lang: str, base_url: str, tile_url: str, attribution: str) -> bytes:
    """A standalone HTML map: Leaflet, markercluster and the data inlined, so it opens from
    disk with no server (only the tiles come from the tile server)."""
    import folium
    from folium.plugins import MarkerCluster

    located = [o for o in orgs if o["lat"] is not None]
    bounds = geo.bounds(located)
    m = folium.Map(location=[48.5, 10.0], zoom_start=4, tiles=None, control_scale=True)
    m.default_js, m.default_css = [], []
    folium.TileLayer(tiles=tile_url, attr=attribution).add_to(m)
    cluster = MarkerCluster(name="organisations")
    cluster.default_js, cluster.default_css = [], []
    cluster.add_to(m)
    for o in located:
        place = ", ".join(p for p in (o["city"], vocab.country_name(o["country"] or "", lang)) if p)
        popup = (f'<strong><a href="{escape(base_url)}/organisations/{escape(o["slug"])}" target="_blank"'
                 f' rel="noopener">{escape(o["name"])}</a></strong><br>{escape(place)}')
        folium.CircleMarker([o["lat"], o["lon"]], radius=7, color="#1f6f5c", fill=True, fill_opacity=0.8,
                            weight=2, popup=folium.Popup(popup, max_width=300),
                            tooltip=str(escape(o["name"]))).add_to(cluster)
    if bounds:
        m.fit_bounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], padding=(20, 20))
    html = m.get_root().render()
    inline = "".join(f"<style>{(_VENDOR / p).read_text(encoding='utf-8')}</style>\n" for p in _INLINE_CSS)
    inline += "".join(f"<script>{(_VENDOR / p).read_text(encoding='utf-8')}</script>\n" for p in _INLINE_JS)
    return html.replace("<head>", "<head>\n" + inline, 1).encode("utf-8")


def export(orgs: list[dict], fmt: str, *, lang: str, base_url: str, tile_url: str = "",
           attribution: str = "") -> bytes:
    """The organisations in format ``fmt`` (one of ``FORMATS``)."""
    if fmt == "html":
        return to_html(orgs, lang=lang, base_url=base_url, tile_url=tile_url, attribution=attribution)
    writer = {"geojson": to_geojson, "csv": to_csv, "xlsx": to_xlsx, "gpkg": to_gpkg,
              "essglobal": to_essglobal}.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format '{fmt}'; choose from {', '.join(FORMATS)}")
    return writer(orgs, lang=lang, base_url=base_url)
