"""A popup opened from a marker near any edge of the map on a laptop stays open through the
redraw that follows the pan and is entirely visible, name included; on a phone the marker
tapped near any edge gives its card, whole, below the map."""

from __future__ import annotations

import pytest
from support import published, route_tiles

EDGES = ("top", "right", "bottom", "left")
SCREENS = {"laptop": (1280, 800), "phone": (390, 844)}


def move_marker_to_edge(page, name: str, edge: str) -> None:
    """Pan the map (without animation) so that the marker called ``name`` sits 12 px from
    ``edge``, and wait for the view the pan asks for to be drawn (as a person would before
    tapping: a tap during that redraw races it)."""
    with page.expect_response(lambda r: "/api/clusters" in r.url):
        page.evaluate("""([name, edge]) => {
        const map = window.mapappMap;
        const icon = document.querySelector(`.leaflet-marker-icon[title="${CSS.escape(name)}"]`);
        const box = map.getContainer().getBoundingClientRect();
        const at = icon.getBoundingClientRect();
        const x = at.left + at.width / 2 - box.left, y = at.top + at.height - box.top;  // the pin's tip
        const size = map.getSize();
        const target = {top: [size.x / 2, 45], bottom: [size.x / 2, size.y - 12],
                        left: [40, size.y / 2], right: [size.x - 14, size.y / 2]}[edge];
        map.panBy([x - target[0], y - target[1]], {animate: false});
    }""", [name, edge])
    page.wait_for_selector("body[data-map-ready=true]")


@pytest.mark.parametrize("screen", SCREENS)
def test_popups_near_every_edge_stay_open_and_whole(demo_app, demo_db_path, browser, live_server_for, screen,
                                                    tmp_path):
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=screen == "phone",
                                  has_touch=screen == "phone")
    page = context.new_page()
    route_tiles(page)
    org = published(demo_db_path, country=("BE",))[0]
    try:
        with live_server_for(demo_app) as server:
            for edge in EDGES:
                page.goto(f"{server.url}/?q={org['slug']}")
                page.wait_for_selector("body[data-map-ready=true]")
                page.wait_for_selector(f'.leaflet-marker-icon[title="{org["name"]}"]')
                move_marker_to_edge(page, org["name"], edge)
                marker = page.locator(f'.leaflet-marker-icon[title="{org["name"]}"]')
                if screen == "phone":  # a phone shows a card below the map instead, wherever the marker is
                    marker.tap()
                    card = page.locator(".org-card[data-loaded=true]")
                    card.wait_for()
                    page.wait_for_selector("body[data-map-ready=true]")
                    assert page.locator(".leaflet-popup").count() == 0
                    box = card.bounding_box()
                    assert box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] >= 0, (edge, box)
                    assert card.get_by_role("link", name=org["name"]).is_visible()
                    continue
                marker.click()
                page.wait_for_selector(".org-popup[data-loaded=true]")
                page.wait_for_selector("body[data-map-ready=true]")  # the redraw after the pan
                page.wait_for_timeout(400)
                popup = page.locator(".leaflet-popup")
                assert popup.count() == 1, f"{screen}, {edge}: the popup closed"
                frame = page.locator(".leaflet-container").bounding_box()
                box = popup.bounding_box()
                assert box["x"] >= frame["x"] - 1 and box["y"] >= frame["y"] - 1, (screen, edge, box, frame)
                assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, (screen, edge, box, frame)
                assert box["y"] + box["height"] <= frame["y"] + frame["height"] + 1, (screen, edge, box, frame)
                name = page.locator(".org-popup-name")
                assert name.is_visible() and name.inner_text() == org["name"]
                if edge == "right":
                    page.screenshot(path=tmp_path / f"popup-{screen}.png")
    finally:
        context.close()


def test_an_entry_not_checked_for_long_is_faded_and_says_so_and_its_popup_takes_corrections(db, db_path, tmp_path, browser, live_server_for):
    from support import make_org

    from mapapp import create_app

    old = make_org(db, "Old Coop", lat=45.7601, lon=4.8401)
    make_org(db, "New Coop", city="Paris", lat=48.8566, lon=2.3522)
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", [old.id])
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(f"{server.url}/")
        page.wait_for_selector("body[data-map-ready=true]")
        faded = page.locator('.leaflet-marker-icon[title^="Old Coop"]')
        faded.wait_for()
        assert faded.get_attribute("title") == "Old Coop (not confirmed for a long time)"
        assert float(faded.evaluate("e => getComputedStyle(e).opacity")) < 0.6
        assert float(page.locator('.leaflet-marker-icon[title="New Coop"]').evaluate(
            "e => getComputedStyle(e).opacity")) == 1
        faded.click()
        page.wait_for_selector(".org-popup[data-loaded=true]")
        assert page.locator(".org-popup-stale").inner_text() == "not confirmed since January 1, 2020: may be out of date"
        suggest = page.get_by_role("link", name="Suggest a correction")
        assert suggest.get_attribute("href").startswith(f"/organisations/{old.slug}/suggest?")
        page.wait_for_timeout(300)  # the popup fades in
        page.screenshot(path=tmp_path / "stale.png")
    page.close()
