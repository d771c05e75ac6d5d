"""A French and a Polish visitor on the map: searching in their own words, towns named in
their language, and counts that read the same after a filter change as on first load."""

from __future__ import annotations

import pytest
from support import make_org, route_tiles


@pytest.fixture
def catalogue_in_three_countries(app, db):
    make_org(db, "Repair Café Marolles", city="Brussels", country="BE", lat=50.84, lon=4.35,
             description="Volunteers fix what you bring.", themes=["AM120"])
    make_org(db, "Boulangerie du Parc", city="Lyon", country="FR", lat=45.76, lon=4.84, description="Pain au levain.")
    for i in range(5):
        make_org(db, f"Spółdzielnia {i}", city="Warszawa", country="PL", lat=52.2 + i / 100, lon=21.0)
    return app


def search(page, words: str) -> list[str]:
    page.fill("#q", words)
    page.press("#q", "Enter")
    page.wait_for_url("**q=**")
    page.wait_for_selector("body[data-map-ready=true]")
    page.wait_for_function("() => !document.querySelector('#map-status').textContent.includes('…')")
    return page.locator("#results li").all_inner_texts()


def test_a_french_visitor_finds_brussels_and_repairs_in_french(catalogue_in_three_countries, page, live_server_for):
    route_tiles(page)
    with live_server_for(catalogue_in_three_countries) as server:
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector("body[data-map-ready=true]")
        found = search(page, "Bruxelles")
        assert len(found) == 1 and "Repair Café Marolles" in found[0] and "Bruxelles, Belgique" in found[0]
        found = search(page, "réparation")
        assert len(found) == 1 and "Repair Café Marolles" in found[0]
        found = search(page, "Varsovie")
        assert len(found) == 5 and all("Varsovie, Pologne" in item for item in found)
        page.screenshot(path="/tmp/mlang-fr-varsovie.png")


def test_the_polish_count_reads_the_same_after_a_filter_change(catalogue_in_three_countries, page, live_server_for):
    route_tiles(page)
    with live_server_for(catalogue_in_three_countries) as server:
        page.goto(server.url + "/?lang=pl&country=BE&country=FR")
        page.wait_for_selector("body[data-map-ready=true]")
        written_by_server = page.locator("#total").inner_text()
        assert written_by_server == "2 organizacje"
        page.goto(server.url + "/?lang=pl")
        page.wait_for_selector("body[data-map-ready=true]")
        assert page.locator("#total").inner_text() == "7 organizacji"
        page.locator("details[data-kind=country] summary").click()
        page.get_by_label("Belgia").check()
        page.wait_for_function("() => document.querySelector('#total').textContent.startsWith('1 ')")
        assert page.locator("#total").inner_text() == "1 organizacja"
        page.get_by_label("Francja").check()
        page.wait_for_function("() => document.querySelector('#total').textContent.startsWith('2 ')")
        assert page.locator("#total").inner_text() == written_by_server
        page.wait_for_function("() => /^2 /.test(document.querySelector('#map-status').textContent)")
        assert page.locator("#map-status").inner_text() == "2 organizacje w widoku"
        page.screenshot(path="/tmp/mlang-pl-count.png")
