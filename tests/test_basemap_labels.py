"""The names written on the offline outlines: countries and large towns in the visitor's
language, apart from each other, under the markers and never over real tiles."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from support import make_org, route_tiles
from test_basemap import OUTLINED, block_tiles
from test_browser_phone import PHONE

from mapapp.mapdata import outlines

LABELS = ".basemap-label span"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go (MAPAPP_SCREENSHOTS to keep them)."""
    folder = Path(os.environ.get("MAPAPP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def over_europe(page, zoom: int = 5, lat: float = 50.5, lon: float = 12.0) -> dict[str, dict]:
    """Show Europe at ``zoom`` on a map whose tiles failed; the names drawn and their boxes."""
    page.wait_for_selector(OUTLINED, state="attached", timeout=30_000)  # a busy host draws slowly
    # `void`: setView returns the map, which Playwright would copy back whole (every outline's
    # points), half a minute of a busy host for an answer nobody reads.
    page.evaluate(f"void window.mapappMap.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    page.wait_for_selector(LABELS, state="attached", timeout=10_000)
    page.wait_for_timeout(300)  # the moveend redraw after setView
    # Read in one call, at one instant: a call per name and per property (hundreds of names)
    # took minutes on a busy host, and the names could move between two of them.
    drawn = page.evaluate(_DRAWN, LABELS)
    unrendered = [text for text, box in drawn if box is None]
    assert not unrendered, f"names without a box on screen: {unrendered}"
    return {text: box for text, box in drawn}


# Each name's text, box (as Playwright's bounding_box: relative to the viewport; none when not
# rendered) and class.
_DRAWN = """selector => [...document.querySelectorAll(selector)].map(label => {
  const r = label.getBoundingClientRect();
  const box = label.getClientRects().length ? {x: r.x, y: r.y, width: r.width, height: r.height,
                                                kind: label.getAttribute("class")} : null;
  return [label.innerText, box];
})"""


def overlapping(boxes: dict[str, dict]) -> list[tuple[str, str]]:
    items = list(boxes.items())
    return [
        (a, b)
        for i, (a, p) in enumerate(items)
        for b, q in items[i + 1 :]
        if p["x"] < q["x"] + q["width"]
        and q["x"] < p["x"] + p["width"]
        and p["y"] < q["y"] + q["height"]
        and q["y"] < p["y"] + p["height"]
    ]


def test_labels_are_small_cacheable_and_in_each_language(client):
    fr = client.get("/basemap/labels.fr.json")
    assert fr.status_code == 200 and fr.mimetype == "application/json"
    assert "max-age=86400" in fr.headers["Cache-Control"] and fr.headers["ETag"]
    names = {c[0] for c in fr.get_json()["countries"]}
    assert {"Pologne", "Belgique", "Chypre", "Russie"} <= names and "XK" not in names
    assert "Varsovie" in {t[0] for t in fr.get_json()["towns"]}
    again = client.get("/basemap/labels.fr.json", headers={"If-None-Match": fr.headers["ETag"]})
    assert again.status_code == 304
    greek = client.get("/basemap/labels.el.json", headers={"Accept-Encoding": "gzip"})
    assert greek.headers["Content-Encoding"] == "gzip" and len(greek.data) < 30_000
    towns = {t[0] for t in json.loads(gzip.decompress(greek.data))["towns"]}
    assert {"Βαρσοβία", "Κρακοβία", "Θεσσαλονίκη"} <= towns
    assert client.get("/basemap/labels.de.json").status_code == 404


def test_towns_are_thinned_by_zoom_without_districts():
    towns = {name: zoom for name, _lat, _lon, zoom in outlines.labels("en")["towns"]}
    assert towns["Warsaw"] == 4 and towns["Kraków"] == 5 and towns["Lublin"] == 5
    assert 6 <= towns["Gdynia"] <= 7  # a town of ~250,000 appears only closer in
    assert "Hamburg-Nord" not in towns and "Hamburg" in towns  # a district of a larger town


def test_french_names_at_zoom_5_over_europe_do_not_overlap(demo_app, page, live_server_for, shots):
    block_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=fr")
        boxes = over_europe(page)
        assert {"Pologne", "Belgique", "Allemagne", "France"} <= boxes.keys(), sorted(boxes)
        assert {"Varsovie", "Paris"} <= boxes.keys()  # large towns, in French
        assert "basemap-label-town" in boxes["Varsovie"]["kind"]
        assert not overlapping(boxes)
        assert page.locator(".leaflet-pane.leaflet-basemapLabels-pane[aria-hidden=true]").count() == 1
        assert "GeoNames" in page.locator(".leaflet-control-attribution").inner_text()
        page.screenshot(path=shots / "labels-fr-laptop.png")
        # Closer in, more towns, still apart.
        closer = over_europe(page, zoom=7, lat=50.8, lon=4.5)
        assert {"Bruxelles", "Anvers"} & closer.keys() or "Antwerp" in closer, sorted(closer)
        assert len([b for b in closer.values() if "town" in b["kind"]]) > 5
        assert not overlapping(closer)


def test_greek_names_on_the_outlines(demo_app, page, live_server_for, shots):
    block_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=el")
        boxes = over_europe(page)
        assert {"Πολωνία", "Βέλγιο", "Γαλλία"} <= boxes.keys(), sorted(boxes)
        assert {"Βαρσοβία", "Παρίσι"} & boxes.keys()
        assert not overlapping(boxes)
        page.screenshot(path=shots / "labels-el-laptop.png")


def test_a_marker_under_a_name_still_opens_its_popup(app, db, page, live_server_for):
    lat, lon = next((c[1], c[2]) for c in outlines.labels("fr")["countries"] if c[0] == "Allemagne")
    make_org(db, name="Coopérative sous le nom", city="Kassel", country="DE", lat=lat, lon=lon)
    block_tiles(page)
    with live_server_for(app) as server:
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector("body[data-map-ready=true]")
        boxes = over_europe(page, lat=lat, lon=lon)
        page.wait_for_selector("body[data-map-ready=true]")  # the markers of the new view
        name = boxes["Allemagne"]
        marker = page.locator(".leaflet-marker-pane .leaflet-marker-icon").first.bounding_box()
        x = max(name["x"], marker["x"]) + 2
        y = max(name["y"], marker["y"]) + 2
        assert x < min(name["x"] + name["width"], marker["x"] + marker["width"])
        assert y < min(name["y"] + name["height"], marker["y"] + marker["height"])  # the name covers the pin
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup .org-popup-name", timeout=5_000)
        assert "Coopérative sous le nom" in page.locator(".leaflet-popup").inner_text()


def test_no_names_over_real_tiles(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector("img.leaflet-tile-loaded")
        page.evaluate("window.mapappMap.setView([50.5, 12], 5, {animate: false})")
        page.wait_for_selector("img.leaflet-tile-loaded")
        assert page.locator(LABELS).count() == 0


def test_names_on_a_phone_with_tiles_failing(demo_app, browser, live_server_for, shots):
    for lang, country in (("fr", "Pologne"), ("el", "Πολωνία")):
        context = browser.new_context(**PHONE)
        page = context.new_page()
        block_tiles(page)
        with live_server_for(demo_app) as server:
            page.goto(f"{server.url}/?lang={lang}")
            boxes = over_europe(page, zoom=5, lat=51.0, lon=17.0)
            assert country in boxes and not overlapping(boxes)
            page.screenshot(path=shots / f"labels-{lang}-phone.png")
        context.close()
