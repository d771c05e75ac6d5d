"""The map asks for its view on a fixed grid of tiles: two visitors whose views are a few
pixels apart ask the same URL, which a browser or a caching proxy may answer."""

from urllib.parse import parse_qs, urlsplit

from support import route_tiles

from mapapp.filters import BBox
from mapapp.mapdata import mapindex

PADDED_VIEW = """(() => {
  const map = window.mapappMap, b = map.getBounds().pad(0.1);
  return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180),
          Math.min(b.getNorth(), 90), map.getZoom()];
})()"""


def first_view(browser, url: str, width: int) -> tuple[str, list[float], str]:
    """The clusters URL a visitor with a map ``width`` pixels wide asks first, its padded
    view, and the answer's Cache-Control."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        route_tiles(page)
        with page.expect_response("**/api/clusters?*") as asked:
            page.goto(url)
        page.wait_for_selector("body[data-map-ready=true]")
        response = asked.value
        return response.url, page.evaluate(PADDED_VIEW), response.headers["cache-control"]
    finally:
        context.close()


def test_visitors_a_few_pixels_apart_ask_the_same_cacheable_clusters(demo_app, browser, live_server_for):
    with live_server_for(demo_app) as server:
        asked, view, control = first_view(browser, server.url + "/?lang=en", 1280)
        other, other_view, _ = first_view(browser, server.url + "/?lang=en", 1290)
    assert view != other_view and view[4] == other_view[4]  # not the same view, the same zoom
    assert asked == other
    sent = [float(n) for n in parse_qs(urlsplit(asked).query)["bbox"][0].split(",")]
    snapped = mapindex.snap_bbox(BBox(*view[:4]), int(view[4]))
    assert sent == [snapped.min_lon, snapped.min_lat, snapped.max_lon, snapped.max_lat]
    assert control.startswith("public, max-age=")
