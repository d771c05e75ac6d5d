"""What a visitor sees and does in a real browser (Debian chromium through Playwright)."""

from urllib.parse import parse_qs, urlsplit

from support import DRAWN_TOTAL, make_org, published, route_tiles, settle

from mapapp import catalogue, create_app, vocab

HOSTILE = '<img src=x onerror="window.__pwned=1">Hostile & Co'


def test_map_draws_clusters_and_asks_no_other_host(demo_app, page, live_server_for):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    tiles = route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]", timeout=10_000)
        assert page.locator(".marker-cluster").count() > 0
        # Clusters and single markers on screen add up to every published demo
        # organisation (drafts and archived ones excluded).
        assert settle(page, DRAWN_TOTAL, 76) == 76
        assert page.locator("#results li a").count() == 50  # the list beside the map
        assert "76" in page.locator("#map-status").inner_text()
    assert tiles, "the base map asked for no tiles"
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts <= {"127.0.0.1", "tile.openstreetmap.org"}, hosts


def test_filtering_by_country_updates_url_markers_and_list_and_survives_reload(
        demo_app, demo_db_path, page, live_server_for):
    italian = published(demo_db_path, country=("IT",))
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]")
        page.locator("details[data-kind=country] summary").click()
        page.get_by_label("Italy").check()
        page.wait_for_url("**/?country=IT")
        assert settle(page, DRAWN_TOTAL, len(italian)) == len(italian)
        expected_names = sorted(o["name"] for o in italian)
        names = settle(page, "[...document.querySelectorAll('#results li a')].map(a => a.textContent).sort()",
                       expected_names)
        assert names == expected_names
        assert page.locator("#total").inner_text() == f"{len(italian)} organisations"

        page.reload()
        page.wait_for_selector("body[data-map-ready=true]")
        assert page.get_by_label("Italy").is_checked()
        assert settle(page, DRAWN_TOTAL, len(italian)) == len(italian)

        page.go_back()
        page.wait_for_url(server.url + "/")
        assert settle(page, DRAWN_TOTAL, 76) == 76
        assert not page.get_by_label("Italy").is_checked()


def test_filters_combine_and_counts_follow(demo_app, demo_db_path, page, live_server_for):
    expected = published(demo_db_path, theme=("AM40",), need=("funding",))
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?theme=AM40&need=funding")
        page.wait_for_selector("body[data-map-ready=true]")
        assert settle(page, DRAWN_TOTAL, len(expected)) == len(expected)
        query = parse_qs(urlsplit(page.url).query)
        assert query == {"theme": ["AM40"], "need": ["funding"]}
        education = page.locator("details[data-kind=theme] label", has_text="Education")
        assert education.locator(".count").inner_text() == str(len(expected))


def test_popup_shows_a_hostile_name_as_text_and_links_to_the_page(db_path, db, page, live_server_for):
    make_org(db, HOSTILE, themes=["AM40"])
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test"})
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]")
        page.locator(".leaflet-marker-icon").first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.get_by_text("Education").wait_for()
        assert HOSTILE in popup.inner_text()
        assert popup.locator("img").count() == 0
        assert page.evaluate("window.__pwned") is None
        assert HOSTILE in page.locator("#results").inner_text()
        popup.locator("a.org-popup-name").click()
        page.wait_for_url("**/organisations/**")
        assert page.locator("h1").inner_text() == HOSTILE


def test_organisation_page_shows_its_matches(demo_app, demo_db_path, demo_db, page, live_server_for):
    db = demo_db
    org = published(demo_db_path, country=("PL",), need=("funding",))[0]
    expected = catalogue.matches(db, org["id"])
    assert expected["offering"], "the demo data should offer funding to someone"
    with live_server_for(demo_app) as server:
        page.goto(f"{server.url}/organisations/{org['slug']}")
        offering = page.locator("[data-matches=offering] li")
        assert offering.count() == len(expected["offering"])
        first = offering.first.inner_text()
        shared = vocab.resources().label(expected["offering"][0]["shared"][0], "en")
        assert expected["offering"][0]["name"] in first and f"Shared: {shared}" in first
        offering.first.locator("a").click()
        page.wait_for_url(f"**/organisations/{expected['offering'][0]['slug']}")


def test_polish_interface(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=pl")
        page.wait_for_selector("body[data-map-ready=true]")
        assert page.locator("html").get_attribute("lang") == "pl"
        assert page.locator("details[data-kind=country] summary").inner_text().startswith("Kraj")
        page.locator("details[data-kind=theme] summary").click()
        assert page.get_by_label("Edukacja").count() == 1
        assert "Dane demonstracyjne" in page.locator(".fictional-banner").inner_text()
        page.get_by_role("link", name="Katalog").click()  # the choice is remembered
        page.wait_for_url("**/organisations**")
        assert page.locator("h1").inner_text() == "Katalog organizacji"


def test_phone_sized_viewport_keeps_map_and_filters_usable(demo_app, demo_db_path, browser, live_server_for):
    cypriot = len(published(demo_db_path, country=("CY",)))
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(demo_app) as server:
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-map-ready=true]")
            box = page.locator(".folium-map").bounding_box()
            assert box["width"] >= 380 and box["height"] >= 300
            assert page.locator("#q").is_visible()  # search in sight, the other filters folded away…
            assert not page.locator("details[data-kind=country]").is_visible()
            page.locator(".sheet-opener").click()  # …until asked for
            page.locator("details[data-kind=country] summary").click()
            page.get_by_label("Cyprus").check()
            page.wait_for_url("**/?country=CY")
            page.get_by_role("button", name=f"Show {cypriot} organisations").click()
            assert settle(page, DRAWN_TOTAL, cypriot) == cypriot
    finally:
        context.close()


def test_map_says_so_when_the_data_cannot_be_loaded(demo_app, page, live_server_for):
    route_tiles(page)
    page.route("**/api/clusters*", lambda route: route.fulfill(status=500, body="boom"))
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        status = page.locator("#map-status.error")
        status.wait_for(timeout=10_000)
        assert "could not be loaded" in status.inner_text()


def test_directory_works_without_javascript(demo_app, demo_db_path, browser, live_server_for):
    belgian = published(demo_db_path, country=("BE",))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        with live_server_for(demo_app) as server:
            page.goto(server.url + "/organisations")
            assert page.locator(".directory-list li").count() == 25
            page.locator("details[data-kind=country] summary").click()
            page.get_by_label("Belgium").check()
            page.get_by_role("button", name="Apply").click()
            page.wait_for_url("**country=BE**")
            items = page.locator(".directory-list li")
            assert items.count() == len(belgian) and all("Belgium" in t for t in items.all_inner_texts())
            assert page.get_by_role("link", name="Next").count() == 0
    finally:
        context.close()
