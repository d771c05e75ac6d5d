"""Open-data exports of the published organisations: GeoJSON, CSV, XLSX, GeoPackage,
a standalone HTML map, and ESSGLOBAL's "standard" CSV for other solidarity-economy maps.

Text cells that a spreadsheet would run as formulas are neutralised in CSV and XLSX;
numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2

from .. import brand, geo, kinds, vocab
from ..config import ROOT
from ..csvsafe import neutralise
from ..errors import MapappError
from ..filters import KINDS, Filters
from ..records import ESSGLOBAL_COLUMNS, Record, columns, organisation_url
from ..site import Site
from ..text import slugify
from ..translate import gettext_in
from . import linked, outlines, xlsxstream
from .shell import DEFAULT_CENTER, DEFAULT_ZOOM

FORMATS = ("geojson", "csv", "xlsx", "gpkg", "html", "essglobal", "jsonld", "ttl")
# Media types without parameters: the web layer adds the one charset of text types.
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "gpkg": "application/geopackage+sqlite3", "html": "text/html", "essglobal": "text/csv",
               "jsonld": "application/ld+json", "ttl": "text/turtle"}
# Text: worth gzipping once for the clients that accept it.
COMPRESSIBLE = ("geojson", "csv", "html", "essglobal", "jsonld", "ttl")
EXTENSIONS = {"geojson": "geojson", "csv": "csv", "xlsx": "xlsx", "gpkg": "gpkg", "html": "html",
              "essglobal": "essglobal.csv", "jsonld": "jsonld", "ttl": "ttl"}
# Limited in size (see ``check_size``): the map is built whole; linked data streams, but slowly.
WHOLE_IN_MEMORY = ("html", "jsonld", "ttl")
# Written a batch of organisations at a time, as they are read: the others are built whole
# (a GeoPackage is a database file, and a graph is finished before its first byte is right).
STREAMED = ("csv", "essglobal", "geojson", "xlsx", "jsonld", "ttl")


def download_name(filters: Filters, fmt: str, day: str) -> str:
    """``organisations-IT-AM40-2026-12-01.csv``: what the file holds and as of when."""
    chosen = [v for kind in KINDS for v in getattr(filters, kind)] + [v for _k, values in filters.extra for v in values]
    if filters.q:
        chosen.append(slugify(filters.q))
    stem = "-".join(["organisations", *chosen[:6]])[:100]
    return f"{stem}-{day}.{EXTENSIONS[fmt]}"


def table(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False, fields: Sequence = ()) -> list[list]:
    """One row per organisation, in ``columns(contacts)`` order (its public record's ``csv_row``),
    then a column per public field of ``fields``: e-mail and phone only with ``contacts``
    (the site setting ``export_contacts``)."""
    records = (Record.of(o, base=base_url, contacts=contacts) for o in orgs)
    return [r.csv_row(lang) + r.custom_cells(fields, lang) for r in records]


def header(contacts: bool, fields: Sequence = ()) -> list[str]:
    """The header of the CSV and XLSX exports: the columns, then the public fields' slugs."""
    return [*columns(contacts), *(f.slug for f in fields)]


def _csv_text(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def csv_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False,
               fields: Sequence = ()) -> Iterator[bytes]:
    """UTF-8 CSV (with BOM, so that Excel reads accents), formula-safe, a batch of
    organisations at a time: the header goes out before anything is read."""
    yield ("\ufeff" + _csv_text([[neutralise(v) for v in header(contacts, fields)]])).encode("utf-8")
    for orgs in batches:
        rows = table(orgs, lang=lang, base_url=base_url, contacts=contacts, fields=fields)
        yield _csv_text([neutralise(v) for v in row] for row in rows).encode("utf-8")


def to_csv(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False, fields: Sequence = ()) -> bytes:
    """UTF-8 CSV (with BOM, so that Excel reads accents), formula-safe."""
    return b"".join(csv_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts, fields=fields))


# Column widths of the XLSX sheet, in characters (others get the default).
_XLSX_WIDTHS = {"slug": 24, "name": 36, "description": 50, "street": 28, "city": 18, "country": 8,
                "website": 30, "email": 28, "phone": 18, "themes": 16, "theme_labels": 36, "needs": 28,
                "offers": 28, "url": 40}


def xlsx_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False,
                fields: Sequence = ()) -> Iterator[bytes]:
    """An XLSX workbook, a batch of organisations at a time (``xlsxstream``): one sheet with
    a frozen, filterable header and sized columns; formula-safe (text is never read as a
    formula, and what would run when pasted elsewhere is neutralised as in the CSV),
    coordinates as numbers. Its first bytes leave before anything is read."""
    names = [neutralise(n) for n in header(contacts, fields)]
    rows = ([[neutralise(v) if isinstance(v, str) else v for v in row]
             for row in table(orgs, lang=lang, base_url=base_url, contacts=contacts, fields=fields)]
            for orgs in batches)
    return xlsxstream.chunks(names, rows, sheet="organisations", widths=_XLSX_WIDTHS)


def to_xlsx(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False, fields: Sequence = ()) -> bytes:
    """An XLSX workbook (see ``xlsx_chunks``)."""
    return b"".join(xlsx_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts, fields=fields))


def geojson_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False) -> Iterator[bytes]:
    """An RFC 7946 FeatureCollection, a batch of organisations at a time (the same bytes as
    ``json.dumps`` of the whole collection)."""
    yield b'{"type": "FeatureCollection", "features": ['
    separator = ""
    for orgs in batches:
        features = geo.feature_collection([Record.of(o, base=base_url, contacts=contacts) for o in orgs], lang=lang)
        if features["features"]:
            yield (separator + ", ".join(json.dumps(f, ensure_ascii=False) for f in features["features"])).encode("utf-8")
            separator = ", "
    yield b"]}"


def to_geojson(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """An RFC 7946 FeatureCollection."""
    return b"".join(geojson_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts))


def to_gpkg(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """A GeoPackage (see ``write_gpkg``)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "organisations.gpkg"
        write_gpkg([orgs], path, lang=lang, base_url=base_url, contacts=contacts)
        return path.read_bytes()


GPKG_ROWS = 20_000  # organisations written to the GeoPackage at a time (its memory: about one such frame)


def write_gpkg(batches: Iterable[list[dict]], path: Path, *, lang: str, base_url: str, contacts: bool = False) -> None:
    """A GeoPackage (layer ``organisations``, EPSG:4326) for QGIS and GDAL, written to ``path``
    from batches of organisations, GPKG_ROWS located ones at a time (appended to the layer),
    so that a million take no more memory than a few thousand."""
    import geopandas as gpd
    from shapely import points

    names = list(columns(contacts))
    pending: list[dict] = []
    written = False

    def flush() -> None:
        nonlocal written, pending
        if written and not pending:
            return
        rows = table(pending, lang=lang, base_url=base_url, contacts=contacts)
        frame = gpd.GeoDataFrame(
            [dict(zip(names, r)) for r in rows] or None, columns=names,
            geometry=points([(o["lon"], o["lat"]) for o in pending]) if pending else [], crs="EPSG:4326")
        frame.to_file(path, layer="organisations", driver="GPKG", engine="pyogrio", mode="a" if written else "w")
        written, pending = True, []

    for orgs in batches:
        pending.extend(o for o in orgs if o["lat"] is not None)
        if len(pending) >= GPKG_ROWS:
            flush()
    flush()


def _essglobal_row(o: dict, contacts: bool) -> list:
    return [neutralise(v) for v in Record.of(o, base=None, contacts=contacts).essglobal_row()]


def essglobal_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False) -> Iterator[bytes]:
    """The ESSGLOBAL "standard" CSV, with vocabulary URIs, for other solidarity-economy maps,
    a batch of organisations at a time."""
    yield _csv_text([ESSGLOBAL_COLUMNS]).encode("utf-8")
    for orgs in batches:
        yield _csv_text(_essglobal_row(o, contacts) for o in orgs).encode("utf-8")


def to_essglobal(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """The ESSGLOBAL "standard" CSV."""
    return b"".join(essglobal_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts))


_INLINE_JS = ("vendor/leaflet/leaflet.js", "vendor/leaflet.markercluster/leaflet.markercluster.js",
              "js/basemap.js", "js/export_map.js")
_INLINE_CSS = ("vendor/leaflet/leaflet.css", "vendor/leaflet.markercluster/MarkerCluster.css",
               "vendor/leaflet.markercluster/MarkerCluster.Default.css")
# A standalone page holds every marker in memory: past this, a browser struggles and
# GeoJSON or GeoPackage in a GIS serves better.
MAX_HTML_ORGANISATIONS = 50_000


class ExportTooLarge(MapappError):
    """The standalone HTML map would hold more organisations than a browser draws well."""

    status = 413


@cache
def _templates() -> jinja2.Environment:
    # Our own environment, autoescaping: organisation data is passed as JSON (tojson),
    # never into text that is compiled as a template (as folium's popups would).
    return jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True)


@cache
def _static_text(path: str) -> str:
    return (ROOT / "static" / path).read_text(encoding="utf-8")


def check_size(fmt: str, count: int) -> None:
    """Refuse an export built whole in memory (the HTML map, linked data) of more
    organisations than it holds well (``count``: located ones for the map, all for the rest)."""
    if fmt not in WHOLE_IN_MEMORY:
        return
    limit = MAX_HTML_ORGANISATIONS if fmt == "html" else linked.MAX_ORGANISATIONS
    if count > limit:
        instead = "GeoJSON or GeoPackage" if fmt == "html" else "GeoJSON or the ESSGLOBAL CSV"
        what = "the HTML map" if fmt == "html" else "a linked-data download"
        raise ExportTooLarge(
            f"{what} holds at most {limit:,} organisations and these filters match "
            f"{count:,}: narrow them (country, theme…) or download {instead} instead")


@dataclass(frozen=True)
class About:
    """What a standalone HTML map says about itself: whose map, as of when, under which
    licence, and which filters chose its organisations."""

    site_name: str = "mapapp"
    day: str = ""  # ISO date of the catalogue
    licence: str = ""
    licence_url: str = ""
    filters: Filters = field(default_factory=Filters)
    site: Site | None = None  # its EU funding block shows when staff switched it on


def _filter_lines(filters: Filters, lang: str) -> list[str]:
    """"Country: Italy, France" per chosen filter, in ``lang``."""
    lines = [f"{gettext_in(lang, 'Search')}: {filters.q}"] if filters.q else []
    for kind in kinds.registry():
        values = filters.values(kind.name)
        if values:
            labels = ", ".join(kind.vocabulary.label(v, lang) for v in values)
            title = kind.title(lang, lambda _m: gettext_in(lang, kind.summary_label))
            lines.append(f"{title}: {labels}")
    return lines


def _outline_bounds(bounds: list[float] | None) -> tuple[float, float, float, float] | None:
    """The export's extent (``[min lat, min lon, max lat, max lon]``) widened by a margin, as
    (min lon, min lat, max lon, max lat), so that panning a little still shows countries."""
    if not bounds:
        return None
    margin = 10.0
    return (max(bounds[1] - margin, -180), max(bounds[0] - margin, -90),
            min(bounds[3] + margin, 180), min(bounds[2] + margin, 90))


def _compact_json(data) -> str:
    """JSON without spaces, safe inside a <script> element (as Jinja's tojson)."""
    return jinja2.utils.htmlsafe_json_dumps(data, separators=(",", ":"))


def to_html(orgs: list[dict], *, lang: str, base_url: str, tile_url: str, attribution: str,
            about: About = About()) -> bytes:
    """A standalone HTML map: Leaflet, markercluster and the data inlined, so it opens from
    disk with no server (only the tiles come from the tile server; without them it draws
    the country outlines it carries). It names its source, date, licence and filters."""
    located = [o for o in orgs if o["lat"] is not None]
    check_size("html", len(located))
    rows = [{"name": o["name"], "lat": o["lat"], "lon": o["lon"],
             "place": ", ".join(p for p in (o["city"], vocab.country_name(o["country"] or "", lang)) if p),
             "url": organisation_url(base_url, o["slug"])} for o in located]
    bounds = geo.latlon_bounds(located)
    settings = {"center": list(DEFAULT_CENTER), "zoom": DEFAULT_ZOOM, "tileUrl": tile_url, "attribution": attribution,
                "maxZoom": 19, "bounds": bounds,
                "basemap": {"attribution": outlines.ATTRIBUTION,
                            "notice": gettext_in(lang, "The map tiles could not be loaded: showing country outlines only."),
                            "words": {"zoomIn": gettext_in(lang, "Zoom in"), "zoomOut": gettext_in(lang, "Zoom out"),
                                      "closePopup": gettext_in(lang, "Close this popup"),
                                      "leaflet": gettext_in(lang, "Leaflet, a JavaScript library for interactive maps")}}}
    count = len(located)
    texts = {
        "title": gettext_in(lang, "%(site)s: social and solidarity economy organisations", site=about.site_name),
        "count": gettext_in(lang, "1 organisation") if count == 1 else gettext_in(lang, "%(n)s organisations", n=count),
        "date": gettext_in(lang, "Data as of %(day)s", day=about.day) if about.day else "",
        "source": gettext_in(lang, "Source"),
        "licence": gettext_in(lang, "Licence"),
        "legend": gettext_in(lang, "Legend"),
        "one": gettext_in(lang, "One organisation: click for its name and page"),
        "several": gettext_in(lang, "Several organisations: click to zoom in"),
        "filters": _filter_lines(about.filters, lang),
    }
    shapes = outlines.outlines(tolerance=outlines.EXPORT_TOLERANCE, bounds=_outline_bounds(bounds))
    page = _templates().get_template("export/map.html").render(
        lang=lang, texts=texts, about=about, base_url=base_url, settings=settings,
        organisations=_compact_json(rows), outlines=_compact_json(shapes),
        styles=[_static_text(p) for p in _INLINE_CSS], scripts=[_static_text(p) for p in _INLINE_JS],
        funding=brand.funding(about.site, lang) if about.site else None, eu_emblem_src=brand.emblem_data_uri())
    return page.encode("utf-8")


def export(orgs: list[dict], fmt: str, *, lang: str, base_url: str, tile_url: str = "",
           attribution: str = "", about: About = About(), contacts: bool = False, fields: Sequence = ()) -> bytes:
    """The organisations in format ``fmt`` (one of ``FORMATS``); ``fields``: the public fields
    that get a column of their own in CSV and XLSX."""
    if fmt == "html":
        return to_html(orgs, lang=lang, base_url=base_url, tile_url=tile_url, attribution=attribution, about=about)
    if fmt in ("jsonld", "ttl"):
        check_size(fmt, len(orgs))
    writer = {"geojson": to_geojson, "csv": to_csv, "xlsx": to_xlsx, "gpkg": to_gpkg,
              "essglobal": to_essglobal, "jsonld": linked.to_jsonld, "ttl": linked.to_turtle}.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format '{fmt}'; choose from {', '.join(FORMATS)}")
    if fmt in ("csv", "xlsx"):
        return writer(orgs, lang=lang, base_url=base_url, contacts=contacts, fields=fields)
    return writer(orgs, lang=lang, base_url=base_url, contacts=contacts)


def stream(batches: Iterable[list[dict]], fmt: str, *, lang: str, base_url: str, contacts: bool = False,
           fields: Sequence = ()) -> Iterator[bytes]:
    """The organisations in a ``STREAMED`` format, as chunks of bytes, a batch at a time."""
    if fmt in ("csv", "xlsx"):
        chunks = csv_chunks if fmt == "csv" else xlsx_chunks
        return chunks(batches, lang=lang, base_url=base_url, contacts=contacts, fields=fields)
    chunks = {"essglobal": essglobal_chunks, "geojson": geojson_chunks, "jsonld": linked.jsonld_chunks,
              "ttl": linked.turtle_chunks}[fmt]
    return chunks(batches, lang=lang, base_url=base_url, contacts=contacts)


def write(orgs: Iterable[dict], fmt: str, path: Path, *, lang: str, base_url: str, tile_url: str = "",
          attribution: str = "", about: About = About(), contacts: bool = False,
          fields: Sequence = ()) -> None:
    """The organisations in format ``fmt`` written to ``path`` (the GeoPackage is written
    there directly, not built in memory first)."""
    orgs = list(orgs)
    if fmt == "gpkg":
        write_gpkg([orgs], path, lang=lang, base_url=base_url, contacts=contacts)
    else:
        path.write_bytes(export(orgs, fmt, lang=lang, base_url=base_url, tile_url=tile_url,
                                attribution=attribution, about=about, contacts=contacts, fields=fields))
