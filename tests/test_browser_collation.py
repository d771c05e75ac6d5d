"""A French visitor reads the directory and the map's list in French alphabetical order."""

from __future__ import annotations

from support import make_org, route_tiles

_FRENCH_ORDER = ["Atelier du Rhône", "Bélarus Coop", "Bulgarie Coop", "Eau vive", "Économie solidaire", "Zèbre"]


def test_a_french_visitor_reads_names_in_french_order(app, db, page, live_server_for):
    for i, name in enumerate(("Zèbre", "Économie solidaire", "Bulgarie Coop", "Eau vive", "Bélarus Coop",
                              "Atelier du Rhône")):
        make_org(db, name, lat=45.70 + i / 100, lon=4.80)
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(server.url + "/organisations?lang=fr")
        assert page.locator(".directory-list li > a").all_inner_texts() == _FRENCH_ORDER
        page.screenshot(path="/tmp/collate-directory-fr.png", full_page=True)
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector("body[data-map-ready=true]")
        page.wait_for_function("() => document.querySelectorAll('#results li > a').length === 6")
        assert page.locator("#results li > a").all_inner_texts() == _FRENCH_ORDER
        page.screenshot(path="/tmp/collate-map-list-fr.png")
