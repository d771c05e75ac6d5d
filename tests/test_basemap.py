"""When the tile server cannot be reached, every map surface draws the shipped country
outlines with a notice instead of a blank grey plane."""

from __future__ import annotations

import gzip
import json

import pytest
from support import make_org, published, route_tiles, sign_in_browser

from mapapp.mapdata import outlines

OUTLINED = ".leaflet-container[data-basemap=outlines] path.basemap-outline"


def block_tiles(page) -> list[str]:
    """Refuse every tile request, as a firewall or an offline laptop does."""
    refused: list[str] = []

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    page.route("https://tile.openstreetmap.org/**", refuse)
    return refused


def notice(page, lang_text: str) -> None:
    box = page.locator(".basemap-notice")
    assert box.is_visible() and lang_text in box.inner_text()


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_outlines_are_served_compressed_and_cacheable(client):
    plain = client.get("/basemap/countries.geojson")
    assert plain.status_code == 200 and plain.mimetype == "application/geo+json"
    countries = {f["properties"]["iso"] for f in plain.get_json()["features"]}
    assert {"FR", "IT", "PL", "CY", "BE", "LV"} <= countries
    zipped = client.get("/basemap/countries.geojson", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert "max-age=86400" in plain.headers["Cache-Control"] and len(zipped.data) < 700_000


def test_outlines_within_bounds_keep_only_the_countries_there():
    cyprus = outlines.outlines(bounds=(32.0, 34.5, 34.6, 35.8))
    assert {f["properties"]["iso"] for f in cyprus["features"]} <= {"CY", "XC"} | {"TR", "SY", "LB"}
    assert "CY" in {f["properties"]["iso"] for f in cyprus["features"]}


def test_the_map_falls_back_to_outlines_when_tiles_are_refused(demo_app, page, live_server_for, tmp_path):
    refused = block_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
        notice(page, "tuiles")
        assert refused  # it did try the tile server first
        assert page.locator(".marker-cluster, .leaflet-marker-icon").count() > 0  # markers still drawn on top
        page.screenshot(path=tmp_path / "basemap-map.png")


def test_a_working_tile_server_shows_no_outlines(demo_app, page, live_server_for):
    route_tiles(page)
    page.clock.install()  # the page's timers run when the test says so
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]")
        page.wait_for_selector("img.leaflet-tile-loaded")
        # Past basemap.js's 4 s wait for a first tile: had it not counted the tiles, it falls back now.
        page.clock.run_for(10_000)
        assert page.locator(".basemap-notice").count() == 0
        assert page.locator("path.basemap-outline").count() == 0
        assert page.locator(".leaflet-container.basemap-fallback").count() == 0


def test_a_silent_tile_server_also_falls_back(demo_app, demo_db_path, page, live_server_for):
    # Requests that never answer (a firewall dropping packets): the wait ends it.
    page.route("https://tile.openstreetmap.org/**", lambda route: None)
    with live_server_for(demo_app) as server:
        # The page never finishes loading (its tiles hang): wait for the document only.
        page.goto(server.url + "/organisations/" + published(demo_db_path)[0]["slug"], wait_until="domcontentloaded")
        page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
        notice(page, "Outlines only")  # the organisation page's small map: the short notice


def test_embed_and_organisation_page_fall_back(demo_app, demo_db_path, page, live_server_for):
    block_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/embed?country=CY&lang=el")
        page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
        assert page.locator(".basemap-notice").is_visible()
        page.goto(server.url + "/organisations/" + published(demo_db_path, country=("CY",))[0]["slug"])
        page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
        assert page.locator("#org-map .leaflet-marker-icon").count() == 1


def test_no_tile_server_configured_draws_outlines_at_once(demo_app, page, live_server_for):
    demo_app.config["TILE_URL"] = ""
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector(OUTLINED, state="attached", timeout=3_000)
        assert page.locator(".leaflet-tile").count() == 0


def test_the_pin_editor_offline_still_shows_which_country_a_pin_is_in(app, db, staff, page, live_server_for,
                                                                         tmp_path):
    org = make_org(db, name="Offline coop", city="Lefkosia", country="CY", lat=35.17, lon=33.36)
    block_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, f"{server.url}/admin/organisations/{org.id}/edit", "editor@example.org")
        page.wait_for_selector("#edit-map" + OUTLINED[len(".leaflet-container"):], state="attached", timeout=10_000)
        assert page.locator("#edit-map .basemap-notice").is_visible()
        assert page.locator("#edit-map .leaflet-marker-icon").count() == 1
        page.screenshot(path=tmp_path / "basemap-editor.png", full_page=True)


def test_the_standalone_html_export_carries_its_outlines(demo_app, demo_client, page, tmp_path):
    html = demo_client.get("/api/organisations.html?country=IT").data
    path = tmp_path / "italy.html"
    path.write_bytes(html)
    block_tiles(page)
    page.goto(path.as_uri())
    page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
    assert page.locator(".basemap-notice").is_visible()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.reload()
    page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
    assert not [u for u in requested if u.startswith("http") and "tile.openstreetmap.org" not in u]


def test_the_outline_notice_closes_is_short_on_small_maps_and_the_attribution_says_natural_earth(
        demo_app, browser, live_server_for):
    for size, wording in (((1280, 800), "Les tuiles"), ((420, 700), "Contours seulement")):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = context.new_page()
        block_tiles(page)
        with live_server_for(demo_app) as server:
            page.goto(server.url + "/?lang=fr")
            page.wait_for_selector(OUTLINED, state="attached", timeout=10_000)
            notice(page, wording)
            attribution = page.locator(".leaflet-control-attribution").inner_text()
            assert "Natural Earth" in attribution and "OpenStreetMap" not in attribution
            page.get_by_role("button", name="Fermer cet avis").click()
            assert page.locator(".basemap-notice").count() == 0
        context.close()
