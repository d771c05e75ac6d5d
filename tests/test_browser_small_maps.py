"""The small maps (organisation page, staff pin editor) use the tile server as configured,
as the main map does."""

from __future__ import annotations

import re

from support import make_org, route_tiles, sign_in_browser

from mapapp import create_app


def deepest_tile(asked: list[str]) -> int:
    return max(int(re.search(r"/(\d+)/\d+/\d+\.png", url).group(1)) for url in asked)


def zoom_in_fully(page, box: str) -> None:
    button = page.locator(f"{box} .leaflet-control-zoom-in")
    for _ in range(25):
        if "leaflet-disabled" in (button.get_attribute("class") or ""):
            return
        button.click()
        page.wait_for_timeout(300)  # Leaflet's zoom animation
    raise AssertionError("the zoom-in button never stopped")


def test_the_pin_editor_zooms_as_far_as_the_tile_server_goes(db_path, db, staff, page, tmp_path, live_server_for):
    # A pin is placed street by street: 19 is OpenStreetMap's deepest level, past Leaflet's 18.
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache"), "TILE_MAX_ZOOM": 19})
    org = make_org(db, name="Street coop", city="Lefkosia", country="CY", lat=35.17, lon=33.36)
    asked = route_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, f"{server.url}/admin/organisations/{org.id}/edit", "editor@example.org")
        page.wait_for_selector("body[data-edit-ready=true]")
        zoom_in_fully(page, "#edit-map")
        assert deepest_tile(asked) == 19


def test_the_organisation_page_stops_where_the_tile_server_stops(db_path, db, page, tmp_path, live_server_for):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache"), "TILE_MAX_ZOOM": 16})
    org = make_org(db, name="Shallow coop", city="Lefkosia", country="CY", lat=35.17, lon=33.36,
                   status="published")
    asked = route_tiles(page)
    with live_server_for(app) as server:
        page.goto(f"{server.url}/organisations/{org.slug}")
        page.wait_for_selector("#org-map .leaflet-tile-loaded")
        zoom_in_fully(page, "#org-map")
        assert deepest_tile(asked) == 16
