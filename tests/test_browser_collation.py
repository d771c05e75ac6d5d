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


def test_a_greek_visitor_on_a_phone_reads_greek_order_and_greek_town_names(app, db, browser, live_server_for):
    make_org(db, "Ωμέγα Συνεταιρισμός", city="Thessaloniki", country="GR", lat=40.64, lon=22.94)
    make_org(db, "Άλφα Συνεταιρισμός", city="Thessaloniki", country="GR", lat=40.63, lon=22.95)
    make_org(db, "Βήτα Coop", city="Brussels", country="BE", lat=50.85, lon=4.35)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        with live_server_for(app) as server:
            page.goto(server.url + "/organisations?lang=el")
            assert page.locator(".directory-list li > a").all_inner_texts() == [
                "Άλφα Συνεταιρισμός", "Βήτα Coop", "Ωμέγα Συνεταιρισμός"]
            assert page.locator(".directory-list .place").all_inner_texts() == [
                "Θεσσαλονίκη, Ελλάδα", "Βρυξέλλες, Βέλγιο", "Θεσσαλονίκη, Ελλάδα"]
            page.screenshot(path="/tmp/collate-directory-el-phone.png", full_page=True)
    finally:
        context.close()
