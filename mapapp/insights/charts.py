"""Charts of the insights, drawn with matplotlib (no browser, no network): bars, a
choropleth of the countries from the shipped Natural Earth outlines, a map of points.

A ``Chart`` is the data of one picture and its text twin (the same rows as a table, for
screen readers, copying and CSV); ``draw`` makes the picture as PNG or SVG (its text
kept as text). Labels arrive translated: nothing here knows the visitor's language.
"""

from __future__ import annotations

import io
import json
import math
import threading
from dataclasses import dataclass, field, replace
from functools import cache
from types import SimpleNamespace

from shapely.geometry import box, shape

from ..mapdata.outlines import SOURCE

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
KINDS = ("bars", "paired", "timeline", "choropleth", "points")
# Colours readable by people with the common colour-vision deficiencies (Okabe–Ito).
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"
EUROPE = (-25.0, 34.0, 45.0, 71.5)  # lon, lat: what a map shows at least
# matplotlib's pyplot state is shared: one figure is drawn at a time.
_DRAWING = threading.Lock()


@cache
def _mpl() -> SimpleNamespace:
    """matplotlib, loaded at the first chart drawn: every web worker and the job worker
    import this module (the insights pages, the funders' report), and pyplot alone made each
    of them about 40 MiB larger and 0.3 s slower to start (issue 31)."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into files
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Polygon

    plt.rcParams.update({"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 10,
                         "axes.spines.top": False, "axes.spines.right": False})
    return SimpleNamespace(matplotlib=matplotlib, plt=plt, PatchCollection=PatchCollection, Normalize=Normalize,
                           Polygon=Polygon)


@dataclass(frozen=True)
class Chart:
    """One chart: its kind, title, the table's column headings and rows (label first,
    then one number per series), and for maps the ISO code or position of each row."""

    name: str
    kind: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    keys: tuple = ()  # choropleth: the ISO code of each row
    points: tuple[tuple[float, float], ...] = field(default=(), repr=False)  # points: (lat, lon)
    note: str = ""  # a line under the picture (what "nearby" means…)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.points


def draw(chart: Chart, fmt: str, *, titled: bool = True) -> bytes:
    """The chart as PNG or SVG bytes; ``titled``: with its title in the picture (a file on
    its own), else without (a page that gives the title as text above it)."""
    if fmt not in FORMATS:
        raise ValueError(f"format: use one of {', '.join(FORMATS)}")
    if not titled:
        chart = replace(chart, title="")
    mpl = _mpl()
    with _DRAWING:
        figure = {"bars": _bars, "paired": _paired, "timeline": _timeline, "choropleth": _choropleth,
                  "points": _points}[chart.kind](chart)
        try:
            out = io.BytesIO()
            figure.savefig(out, format=fmt, dpi=150 if fmt == "png" else 72, bbox_inches="tight",
                           metadata={"Date": None} if fmt == "svg" else None)
            return out.getvalue()
        finally:
            mpl.plt.close(figure)


def _height(rows: int) -> float:
    return max(2.2, 0.32 * rows + 1.0)


def _bars(chart: Chart):
    labels = [str(r[0]) for r in chart.rows][::-1]
    values = [r[1] for r in chart.rows][::-1]
    figure, axes = _mpl().plt.subplots(figsize=(7.5, _height(len(labels))))
    bars = axes.barh(labels, values, color=BLUE)
    axes.bar_label(bars, padding=3)
    _finish(axes, chart, horizontal=True)
    return figure


def _paired(chart: Chart):
    """Two or three series side by side per row (needed / offered / unmet)."""
    labels = [str(r[0]) for r in chart.rows][::-1]
    series = len(chart.columns) - 1
    figure, axes = _mpl().plt.subplots(figsize=(7.5, _height(len(labels)) * (1 + 0.15 * (series - 1))))
    width = 0.8 / series
    for s, colour in zip(range(series), (ORANGE, BLUE, GREY)):
        values = [r[1 + s] for r in chart.rows][::-1]
        positions = [i + (series - 1 - s) * width - 0.4 + width / 2 for i in range(len(labels))]
        bars = axes.barh(positions, values, height=width, color=colour, label=chart.columns[1 + s])
        axes.bar_label(bars, padding=2, fontsize=8)
    axes.set_yticks(range(len(labels)), labels)
    axes.legend(loc="upper center", bbox_to_anchor=(0.4, -0.04), ncol=series, frameon=False,
                title=chart.note or None, title_fontsize=8)
    _finish(axes, replace(chart, note=""), horizontal=True)
    return figure


def _timeline(chart: Chart):
    labels = [str(r[0]) for r in chart.rows]
    values = [r[1] for r in chart.rows]
    figure, axes = _mpl().plt.subplots(figsize=(7.5, 3.2))
    bars = axes.bar(labels, values, color=GREEN)
    axes.bar_label(bars, padding=2, fontsize=8)
    if len(labels) > 12:
        axes.set_xticks(range(0, len(labels), max(1, len(labels) // 12)))
    axes.tick_params(axis="x", labelrotation=45)
    _finish(axes, chart, horizontal=False)
    return figure


def _finish(axes, chart: Chart, *, horizontal: bool) -> None:
    axes.set_title(chart.title, loc="left", fontweight="bold")
    (axes.xaxis if horizontal else axes.yaxis).set_major_locator(_mpl().matplotlib.ticker.MaxNLocator(integer=True))
    if chart.note:
        axes.figure.text(0.01, -0.02, chart.note, fontsize=8, color="#444444", ha="left", va="top",
                         transform=axes.figure.transFigure)


@cache
def _countries(tolerance: float) -> tuple[tuple[str, object], ...]:
    """(ISO code, shape) of every country, simplified to ``tolerance`` degrees."""
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    return tuple((f["properties"]["iso"], shape(f["geometry"]).simplify(tolerance, preserve_topology=True))
                 for f in source["features"])


@cache
def _outlines(extent: tuple[float, float, float, float]) -> tuple[tuple[str, tuple], ...]:
    """(ISO code, exterior rings) of the countries in ``extent``, cut to it (a picture of
    Europe carries no Pacific island)."""
    area = box(*extent)
    # Finer for a region than for a continent: a few hundredths of the picture's width.
    tolerance = round(min(0.08, max(0.01, (extent[2] - extent[0]) / 800)), 2)
    out = []
    for iso, geometry in _countries(tolerance):
        if not geometry.intersects(area):
            continue
        part = geometry.intersection(area)
        polygons = [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon" and not g.is_empty]
        if polygons:
            out.append((iso, tuple(tuple((round(x, 3), round(y, 3)) for x, y in p.exterior.coords)
                                   for p in polygons)))
    return tuple(out)


def _extent(lats: list[float], lons: list[float]) -> tuple[float, float, float, float]:
    """Around the points, with a margin (a region's project shows its region; none: Europe)."""
    if not lats:
        return EUROPE
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    pad_lat = max(1.0, (north - south) * 0.15, (4.0 - (north - south)) / 2)
    pad_lon = max(1.5, (east - west) * 0.15, (6.0 - (east - west)) / 2)
    return (max(-180.0, west - pad_lon), max(-85.0, south - pad_lat), min(180.0, east + pad_lon),
            min(85.0, north + pad_lat))


def _map_axes(extent):
    west, south, east, north = extent
    figure, axes = _mpl().plt.subplots(figsize=(7.5, 6.0))
    axes.set_xlim(west, east)
    axes.set_ylim(south, north)
    axes.set_aspect(1 / max(0.2, abs(math.cos(math.radians((south + north) / 2)))))  # degrees, not squashed
    axes.set_axis_off()
    return figure, axes


def _country_patches(values: dict[str, float], norm, colormap, extent):
    patches, colours = [], []
    for iso, rings in _outlines(extent):
        for ring in rings:
            patches.append(_mpl().Polygon(ring, closed=True))
            colours.append(colormap(norm(values[iso])) if iso in values else "#f2f2f2")
    return _mpl().PatchCollection(patches, facecolors=colours, edgecolors="#ffffff", linewidths=0.4)


def _choropleth(chart: Chart):
    values = {key: row[1] for key, row in zip(chart.keys, chart.rows)}
    mpl = _mpl()
    colormap = mpl.matplotlib.colormaps["Blues"]
    top = max(values.values(), default=1)
    norm = mpl.Normalize(vmin=0, vmax=max(1, top))
    figure, axes = _map_axes(EUROPE)
    axes.add_collection(_country_patches(values, norm, colormap, EUROPE))
    bar = figure.colorbar(mpl.matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=axes, shrink=0.6,
                          fraction=0.04, pad=0.02)
    bar.set_label(chart.columns[1])
    axes.set_title(chart.title, loc="left", fontweight="bold")
    return figure


def _points(chart: Chart):
    lats = [p[0] for p in chart.points]
    lons = [p[1] for p in chart.points]
    extent = _extent(lats, lons)
    figure, axes = _map_axes(extent)
    mpl = _mpl()
    axes.add_collection(mpl.PatchCollection([mpl.Polygon(ring, closed=True) for _, rings in _outlines(extent) for ring in rings],
                                        facecolors="#f2f2f2", edgecolors="#bbbbbb", linewidths=0.4))
    axes.scatter(lons, lats, s=22, color=BLUE, edgecolors="white", linewidths=0.6, zorder=3)
    # Marks, not names: a number ties each point to its row of the table (and no stored text
    # reaches matplotlib, whose "$…$" would be read as mathematics).
    for key, (lat, lon) in zip(chart.keys, chart.points):
        axes.annotate(str(key), (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=8, color="#1a1a1a",
                      parse_math=False)
    axes.set_title(chart.title, loc="left", fontweight="bold")
    return figure
