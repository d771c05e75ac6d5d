"""What a visitor sees in a real browser (Debian chromium through Playwright)."""

import time
from urllib.parse import urlsplit

from conftest import make_org

from mapapp import create_app

HOSTILE = '<img src=x onerror="window.__pwned=1">Hostile & Co'
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


DRAWN_TOTAL = """(() => {
  let n = 0;
  document.querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon").forEach(m => {
    n += m.classList.contains("marker-cluster") ? parseInt(m.textContent, 10) : 1;
  });
  return n;
})()"""


def settle(page, expression: str, expected, timeout: float = 10.0):
    """Evaluate ``expression`` until it gives ``expected`` or time runs out; return the last value.

    (``wait_for_function`` would need 'unsafe-eval', which the pages' CSP refuses.)
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value == expected or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


def route_tiles(page, tile_host: str) -> list[str]:
    """Answer tile requests with a blank PNG so that tests never leave the machine."""
    asked: list[str] = []

    def fulfil(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    page.route(f"https://{tile_host}/**", fulfil)
    return asked


def test_map_draws_clusters_and_asks_no_other_host(demo_app, page, live_server_for):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    tiles = route_tiles(page, "tile.openstreetmap.org")
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]", timeout=10_000)
        assert page.locator(".marker-cluster").count() > 0
        # Once the zoom animation settles, the clusters and single markers on screen
        # add up to every published demo organisation (drafts and archived excluded).
        assert settle(page, DRAWN_TOTAL, 76) == 76
        assert "76 organisations" in page.locator("#map-status").inner_text()
    assert tiles, "the base map asked for no tiles"
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts <= {"127.0.0.1", "tile.openstreetmap.org"}, hosts


def test_popup_shows_a_hostile_name_as_text(db_path, db, page, live_server_for):
    make_org(db, HOSTILE, themes=["AM40"])
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test"})
    route_tiles(page, "tile.openstreetmap.org")
    with live_server_for(app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]", timeout=10_000)
        page.locator(".leaflet-marker-icon").first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert HOSTILE in popup.inner_text()
        assert "Education" in popup.inner_text()
        assert popup.locator("img").count() == 0
        assert page.evaluate("window.__pwned") is None
        popup.locator("a").click()
        page.wait_for_url("**/organisations/**")
        assert page.locator("h1").inner_text() == HOSTILE


def test_map_says_so_when_the_data_cannot_be_loaded(demo_app, page, live_server_for):
    route_tiles(page, "tile.openstreetmap.org")
    page.route("**/api/organisations.geojson*", lambda route: route.fulfill(status=500, body="boom"))
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        status = page.locator("#map-status.error")
        status.wait_for(timeout=10_000)
        assert "could not be loaded" in status.inner_text()
