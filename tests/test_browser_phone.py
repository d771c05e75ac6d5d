"""The map and the directory on a 390×844 phone, as a Polish visitor uses them: a one-line
header, search always in sight, a map/list switch, a card for the marker tapped, the filters in
a sheet that says how many organisations they give; and the laptop layout as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import published, route_tiles, settle
from test_accessibility import serious_violations

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def polish_show(n: int) -> str:
    """"Show n organisations" in Polish, in the plural form Polish grammar asks for."""
    if n == 1:
        return f"Pokaż {n} organizację"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"Pokaż {n} organizacje"
    return f"Pokaż {n} organizacji"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go (MAPAPP_SCREENSHOTS to keep them)."""
    folder = Path(os.environ.get("MAPAPP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE, bypass_csp=True)  # bypass_csp: for axe-core's script only
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    route_tiles(page)
    yield page
    context.close()
    assert not errors, errors


def ready(page) -> None:
    page.wait_for_selector("body[data-map-ready=true]")


def test_the_polish_phone_journey(demo_app, demo_db_path, phone, live_server_for, shots):
    page = phone
    cypriot = len(published(demo_db_path, country=("CY",)))
    found = published(demo_db_path, q="kooperatywa")
    assert len(found) == 1
    org = found[0]
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=pl")
        ready(page)
        # One line of header and one of the demo note; the navigation behind "Menu".
        header = page.locator(".site-header").bounding_box()
        banner = page.locator(".fictional-banner").bounding_box()
        assert header["height"] + banner["height"] <= 64, (header, banner)
        assert not page.get_by_role("link", name="Katalog").is_visible()
        page.get_by_role("button", name="Menu").tap()
        assert page.get_by_role("link", name="Katalog").is_visible()
        page.keyboard.press("Escape")
        assert not page.get_by_role("link", name="Katalog").is_visible()
        # The map takes the rest of the screen, the search box above it.
        search = page.locator("#q")
        assert search.is_visible()
        page.screenshot(path=shots / "phone-pl-map.png")
        map_box = page.locator(".folium-map").bounding_box()
        assert map_box["height"] >= 844 - 64 - 70 and map_box["width"] >= 388, map_box
        assert map_box["y"] + map_box["height"] <= 845  # no page to scroll in map mode

        search.fill("kooperatywa")
        search.press("Enter")
        page.wait_for_url("**q=kooperatywa**")
        ready(page)
        settle(page, "document.querySelectorAll('#results li a').length", 1)

        # The list, with the whole screen; the map out of the way.
        page.get_by_role("button", name="Lista").tap()
        assert page.get_by_role("button", name="Lista").get_attribute("aria-pressed") == "true"
        assert page.get_by_role("button", name="Mapa", exact=True).get_attribute("aria-pressed") == "false"
        assert not page.locator(".folium-map").is_visible()
        assert page.locator("#q").is_visible()
        assert page.locator("#results li a").all_inner_texts() == [org["name"]]
        page.screenshot(path=shots / "phone-pl-list.png")

        # Back to the map: tapping the marker opens a card at the bottom, no popup.
        page.get_by_role("button", name="Mapa", exact=True).tap()
        marker = page.locator(f'.leaflet-marker-icon[title="{org["name"]}"]')
        marker.wait_for()
        marker.tap()
        card = page.locator(".org-card[data-loaded=true]")
        card.wait_for()
        assert page.locator(".leaflet-popup").count() == 0
        assert card.get_by_role("link", name=org["name"]).get_attribute("href").startswith(f"/organisations/{org['slug']}?")
        assert org["city"] in card.inner_text()
        box = card.bounding_box()
        assert box["y"] + box["height"] <= 844 and box["width"] >= 350
        page.screenshot(path=shots / "phone-pl-card.png")
        card.get_by_role("button", name="Zamknij tę kartę").tap()
        assert not page.locator(".org-card").is_visible()

        # Filters in a sheet: the count of what they give, in Polish plural forms.
        search.fill("")
        search.press("Enter")
        ready(page)
        opener = page.locator(".sheet-opener")
        assert opener.inner_text() == "Filtry"
        opener.tap()
        sheet = page.get_by_role("dialog", name="Filtry")
        assert sheet.is_visible()
        show = sheet.locator(".sheet-show")
        assert show.inner_text() == polish_show(76)
        sheet.locator("details[data-kind=country] summary").tap()
        sheet.locator("label.option", has=page.locator("input[value=CY]")).tap()
        assert settle(page, "document.querySelector('.sheet-show').textContent", polish_show(cypriot)) == polish_show(cypriot)
        page.screenshot(path=shots / "phone-pl-sheet.png")
        for _ in range(40):  # focus stays in the sheet
            page.keyboard.press("Tab")
            assert page.evaluate("document.getElementById('filter-sheet').contains(document.activeElement)")
        show.tap()
        assert not sheet.is_visible()
        assert opener.inner_text() == "Filtry (1)"
        assert page.evaluate("document.activeElement.classList.contains('sheet-opener')")
        ready(page)
        page.get_by_role("button", name="Lista").tap()
        assert settle(page, "document.querySelectorAll('#results li a').length", cypriot) == cypriot
        assert str(cypriot) in page.locator("#map-status").inner_text()

        # Escape closes the sheet and gives focus back to its button.
        opener.tap()
        assert sheet.is_visible()
        page.keyboard.press("Escape")
        assert not page.locator("#filter-sheet").get_by_role("button", name="Zamknij filtry").is_visible()
        assert page.evaluate("document.activeElement.classList.contains('sheet-opener')")


def test_the_directory_on_a_phone_shows_results_before_the_filters(demo_app, demo_db_path, phone, live_server_for,
                                                                     shots):
    page = phone
    belgian = len(published(demo_db_path, country=("BE",)))
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/organisations?lang=pl")
        first = page.locator(".directory-list li").first
        assert first.is_visible() and first.bounding_box()["y"] + 40 < 844
        assert not page.locator("details[data-kind=country]").is_visible()
        page.screenshot(path=shots / "phone-pl-directory.png")
        page.get_by_role("button", name="Filtry").tap()
        sheet = page.get_by_role("dialog", name="Filtry")
        sheet.locator("details[data-kind=country] summary").tap()
        sheet.locator("label.option", has=page.locator("input[value=BE]")).tap()
        show = sheet.locator(".sheet-show")
        assert settle(page, "document.querySelector('.sheet-show').textContent", polish_show(belgian)) == polish_show(belgian)
        show.tap()
        page.wait_for_url("**country=BE**")
        assert page.locator(".directory-list li").count() == belgian
        assert page.locator(".sheet-opener").inner_text() == "Filtry (1)"


def test_greek_phone_screens_pass_axe(demo_app, demo_db_path, phone, live_server_for, shots):
    page = phone
    org = published(demo_db_path, q="kooperatywa")[0]
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=el")
        ready(page)
        page.screenshot(path=shots / "phone-el-map.png")
        assert not serious_violations(page)
        page.locator(".sheet-opener").tap()
        assert page.get_by_role("dialog").locator(".sheet-show").inner_text() == "Εμφάνιση 76 οργανώσεων"
        page.screenshot(path=shots / "phone-el-sheet.png")
        assert not serious_violations(page)
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Λίστα").tap()
        page.screenshot(path=shots / "phone-el-list.png", full_page=True)
        assert not serious_violations(page)
        page.goto(f"{server.url}/?lang=el&q=kooperatywa")
        ready(page)
        page.locator(f'.leaflet-marker-icon[title="{org["name"]}"]').tap()
        page.locator(".org-card[data-loaded=true]").wait_for()
        page.screenshot(path=shots / "phone-el-card.png")
        assert not serious_violations(page)
        page.goto(server.url + "/organisations?lang=el")
        page.screenshot(path=shots / "phone-el-directory.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # long Greek lines wrap
        assert not serious_violations(page)
        page.get_by_role("button", name="Φίλτρα").tap()
        assert not serious_violations(page)


def test_the_laptop_keeps_its_layout(demo_app, page, live_server_for, shots):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=pl")
        ready(page)
        assert page.get_by_role("link", name="Katalog").is_visible()  # the navigation in the header
        assert not page.get_by_role("button", name="Menu").is_visible()
        assert page.locator("details[data-kind=country]").is_visible()  # the filter panel beside the map
        assert not page.locator(".sheet-opener").is_visible() and not page.locator(".view-switch").is_visible()
        assert page.locator("#results li a").count() == 50 and page.locator(".folium-map").is_visible()
        assert page.get_by_role("dialog").count() == 0
        page.screenshot(path=shots / "laptop-pl-map.png")
        page.goto(server.url + "/organisations?lang=pl")
        assert page.locator("details[data-kind=country]").is_visible()
        page.screenshot(path=shots / "laptop-pl-directory.png")


def test_the_card_shows_stored_text_as_text(db, db_path, tmp_path, browser, live_server_for):
    from support import make_org

    from mapapp import create_app

    hostile = '<img src=x onerror="window.__pwned=1">{{7*7}} ${1} =1+1'
    make_org(db, hostile, city="<script>window.__pwned=2</script>", lat=45.76, lon=4.84)
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    context = browser.new_context(**PHONE)
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(app) as server:
            page.goto(server.url + "/")
            ready(page)
            page.locator(".cat-marker, .leaflet-marker-icon:not(.marker-cluster)").first.tap()
            card = page.locator(".org-card[data-loaded=true]")
            card.wait_for()
            assert card.locator("h2").inner_text() == hostile
            assert "<script>window.__pwned=2</script>" in card.inner_text()
            assert page.evaluate("window.__pwned") is None
    finally:
        context.close()
