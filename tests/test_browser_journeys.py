"""The visitor's journey at the points people touch: no JavaScript, a search that finds
nothing, a language switch after filtering, clusters from the keyboard."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from support import make_org, route_tiles, settle

from mapapp import create_app
from mapapp.mapdata.shell import LEGEND_ROOM


def test_the_map_without_javascript_points_to_the_directory_with_the_filters(demo_app, browser, live_server_for):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        with live_server_for(demo_app) as server:
            page.goto(server.url + "/?country=IT&lang=fr")
            assert "Cette carte a besoin de JavaScript" in page.content()
            assert "Chargement" not in page.locator("#map-status").inner_text()  # no "Loading…" forever
            link = page.get_by_role("link", name="L'annuaire présente les mêmes organisations sans JavaScript.")
            assert parse_qs(urlsplit(link.get_attribute("href")).query)["country"] == ["IT"]
            link.click()
            page.wait_for_url("**/organisations?**")
            assert page.locator(".directory-list li").count() == 16
    finally:
        context.close()


def test_a_search_that_matches_nothing_says_so(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?q=zzzznothing")
        page.wait_for_selector("body[data-map-ready=true]")
        assert "No organisation matches these filters or this search anywhere" in page.locator("#map-status").inner_text()
        page.goto(server.url + "/?country=IT")
        page.wait_for_selector("body[data-map-ready=true]")
        assert "matches" not in page.locator("#map-status").inner_text()


def test_switching_language_after_filtering_keeps_the_filters(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]")
        page.locator("details[data-kind=country] summary").click()
        page.get_by_label("Italy").check()
        page.wait_for_url("**/?country=IT")
        page.locator("nav.languages a[hreflang=fr]").click()
        page.wait_for_url("**lang=fr**")
        page.wait_for_selector("body[data-map-ready=true]")
        assert parse_qs(urlsplit(page.url).query)["country"] == ["IT"]
        assert page.get_by_label("Italie").is_checked()
        assert page.locator("#total").inner_text() == "16 organisations"
        page.locator('nav.site-nav a[data-nav="directory"]').click()
        page.wait_for_url("**/organisations?**")
        assert parse_qs(urlsplit(page.url).query)["country"] == ["IT"]


ZOOM = "window.mapappMap.getZoom()"


def wait_until_still(page, timeout: float = 10.0) -> None:
    """Until the map's zoom and markers have stayed the same for half a second."""
    state = f"{ZOOM} + ':' + document.querySelectorAll('.leaflet-marker-icon').length"
    deadline = time.monotonic() + timeout
    last = page.evaluate(state)
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        now = page.evaluate(state)
        if now == last and page.evaluate("document.body.dataset.mapReady") == "true":
            return
        last = now
    raise AssertionError("the map kept moving")


def test_enter_or_space_on_a_focused_cluster_zooms_to_it(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]")
        for key in (" ", "Enter"):
            wait_until_still(page)
            cluster = page.locator(".marker-cluster").first
            cluster.wait_for()
            before = page.evaluate(ZOOM)
            cluster.focus()
            assert page.evaluate("document.activeElement.classList.contains('marker-cluster')")
            page.keyboard.press(key)
            assert settle(page, f"{ZOOM} > {before}", True, timeout=3.0), f"{key!r} did not zoom in"


def test_the_builder_is_linked_from_the_map_and_confirms_a_copy(demo_app, browser, live_server_for):
    context = browser.new_context()
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(demo_app) as server:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
            for start in ("/?lang=fr", "/organisations?lang=fr"):
                page.goto(server.url + start)
                page.get_by_role("link", name="Intégrer cette carte").click()
                page.wait_for_url("**/embed/builder**")
            page.locator('[data-copy="snippet-iframe"]').click()
            status = page.locator("#snippet-iframe-status")
            assert settle(page, "document.getElementById('snippet-iframe-status').textContent", "Copié") == "Copié"
            assert status.get_attribute("role") == "status"
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith("<iframe") and "/embed?" in copied
    finally:
        context.close()


def test_the_list_stays_in_sight_on_a_laptop_with_filter_panels_open(demo_app, browser, live_server_for, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(demo_app) as server:
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-map-ready=true]")
            for kind in ("country", "theme", "need", "offer"):
                page.locator(f'details[data-kind="{kind}"] summary').click()
            page.wait_for_load_state("networkidle")  # the first view's redraws are over
            page.wait_for_selector("body[data-map-ready=true]")
            first = page.locator("#results li a").first
            first.wait_for()
            box = first.bounding_box()
            assert first.is_visible() and box["y"] + box["height"] <= 768, box
            assert page.evaluate("document.scrollingElement.scrollHeight") <= 768  # nothing to scroll past
            # The panels scroll within the filters, their last option reachable.
            last = page.locator('details[data-kind="offer"] label.option:not([hidden])').last
            last.scroll_into_view_if_needed()
            assert last.is_visible()
            page.screenshot(path=tmp_path / "laptop-panels.png")
    finally:
        context.close()


def test_back_to_the_map_from_an_organisation_keeps_the_filters_and_search(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?country=IT&lang=fr")
        page.wait_for_selector("body[data-map-ready=true]")
        page.fill("#q", "bologna")
        page.press("#q", "Enter")
        page.locator("#results li a[href*='q=bologna']").first.wait_for()  # the list of the search
        page.wait_for_selector("body[data-map-ready=true]")
        page.locator("#results li a").first.click()
        page.wait_for_url("**/organisations/**")
        back = page.locator("#back")
        assert back.inner_text() == "← Retour à la carte"
        back.click()
        page.wait_for_selector("body[data-map-ready=true]")
        query = parse_qs(urlsplit(page.url).query)
        assert query["country"] == ["IT"] and query["q"] == ["bologna"] and query["lang"] == ["fr"]
        assert page.locator('input[name=country][value=IT]').is_checked()
        assert page.input_value("#q") == "bologna"


def test_back_to_the_directory_returns_to_the_same_page_of_results(demo_client):
    listing = demo_client.get("/organisations?country=FR&country=IT&page=2").get_data(as_text=True)
    link = listing.split('class="directory-list"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["from"] == ["directory"] and query["page"] == ["2"] and query["country"] == ["FR", "IT"]
    org_page = demo_client.get(link).get_data(as_text=True)
    back = org_page.split('id="back" href="')[1].split('"')[0].replace("&amp;", "&")
    assert urlsplit(back).path == "/organisations"
    assert parse_qs(urlsplit(back).query) == {"country": ["FR", "IT"], "page": ["2"]}
    assert '<link rel="canonical" href="http://127.0.0.1:5000/organisations/' in org_page  # the site's address


def test_the_embeds_full_map_link_keeps_every_filter(demo_client):
    page = demo_client.get("/embed?country=IT&country=FR&q=coop&lock=country&height=500").get_data(as_text=True)
    href = page.split('id="full-map" href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(href).query) == {"country": ["IT", "FR"], "q": ["coop"]}


def test_the_builder_fits_its_panels_in_every_language_and_its_snippet_fits_the_embed(demo_app, browser,
                                                                                         live_server_for):
    from mapapp.vocab import LANGUAGES

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(demo_app) as server:
            for lang in LANGUAGES:
                page.goto(f"{server.url}/embed/builder?lang={lang}")
                form = page.locator("#builder").bounding_box()
                preview = page.locator("#preview").bounding_box()
                for i in range(page.locator("#builder fieldset, #builder select, #builder label").count()):
                    box = page.locator("#builder fieldset, #builder select, #builder label").nth(i).bounding_box()
                    assert box["x"] + box["width"] <= preview["x"], (lang, i, box, preview)
                assert form["x"] + form["width"] <= preview["x"]
                # The snippet's height is the preview's content, measured at the preview's width.
                page.frame_locator("#preview").locator("body[data-map-ready=true]").wait_for()
                page.wait_for_function("() => document.getElementById('preview').height"
                                       " !== String(document.getElementById('preview').dataset.estimate)")
                snippet = page.input_value("#snippet-iframe")
                height = int(snippet.split('height="')[1].split('"')[0])
                url = snippet.split('src="')[1].split('"')[0].replace("&amp;", "&")
                # The partner's page at the preview's width: the iframe's height holds all of the embed.
                narrow = context.new_page()
                narrow.set_viewport_size({"width": int(preview["width"]), "height": height})
                route_tiles(narrow)
                narrow.goto(url.replace("http://localhost", server.url))
                narrow.wait_for_selector("body[data-map-ready=true]")
                content = narrow.evaluate("document.querySelector('.embed-layout').getBoundingClientRect().height")
                assert content <= height, (lang, content, height)
                narrow.close()
    finally:
        context.close()


def test_the_map_draws_its_first_view_with_one_request_for_clusters_and_one_for_the_list(demo_app, page,
                                                                                         live_server_for):
    tiles = route_tiles(page)
    asked, images = [], []
    page.on("request", lambda r: asked.append(urlsplit(r.url).path) if "/api/" in r.url else None)
    page.on("request", lambda r: images.append(r.url) if "/leaflet/images/" in r.url else None)
    with live_server_for(demo_app) as server:
        for start in ("/", "/?country=IT&theme=AM60", "/embed?country=CY"):
            asked.clear()
            tiles.clear()
            page.goto(server.url + start)
            page.wait_for_selector("body[data-map-ready=true]")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)  # a second view would have been asked for by now
            # The list of the first view came with the page: it is the API's for that view.
            assert asked == ["/api/clusters"], (start, asked)
            shown = page.locator("#results li a").all_inner_texts()
            box = page.evaluate("window.mapappMap.getBounds().pad(0.1).toBBoxString()")
            query = urlsplit(start).query
            api = page.request.get(f"{server.url}/api/organisations?{query}&bbox={box}&limit=50").json()
            assert shown == [o["name"] for o in api["items"]] and shown, start
            assert str(api["total"]) in page.locator("#map-status").inner_text()
            # The page opens at its fitted view: only that zoom's tiles were asked for,
            # none of the default view the map would have shown before fitting.
            # (Beside the open legend on a wide map: its room is added on the right, as the shell fits.)
            zoom, fitted = page.evaluate("""(room) => {
                const s = JSON.parse(document.getElementById('mapapp-settings').textContent), b = s.initial.bounds;
                const m = window.mapappMap, size = m.getSize(), c = s.categories && s.categories.categories;
                const legend = c && c.some((x, i) => i && x.present) && size.x > 600 && size.y > 360 && room <= size.x / 3;
                const padding = L.point(60 + (legend ? room : 0), 60);
                return [m.getZoom(), Math.min(12, m.getBoundsZoom([[b[1], b[0]], [b[3], b[2]]], false, padding))];
            }""", LEGEND_ROOM)
            assert zoom == fitted, (start, zoom, fitted)
            if not start.startswith("/embed"):  # "tell me about new organisations here" follows the view
                follow = parse_qs(urlsplit(page.locator("#subscribe").get_attribute("href")).query)
                assert follow["bbox"] and follow.get("country") == parse_qs(urlsplit(start).query).get("country")
            assert tiles and {int(urlsplit(u).path.split("/")[1]) for u in tiles} == {zoom}, (start, zoom)
        # Markers are drawn in the page (their category's colour and icon): no marker image is asked for.
        assert images == [], images
        # Changing a filter asks for the counts, then for one new view.
        asked.clear()
        page.goto(server.url + "/")
        page.wait_for_load_state("networkidle")
        asked.clear()
        page.locator('details[data-kind="country"] summary').click()
        page.locator('input[name=country][value=FR]').check()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(400)
        assert sorted(asked) == ["/api/clusters", "/api/facets", "/api/organisations"], asked


def test_a_view_narrower_than_the_organisations_asks_for_its_own_list(db_path, db, browser, live_server_for, tmp_path):
    # As far north and south as the map goes: a small screen cannot show both even at the
    # widest zoom, so the list that came with the page (every organisation) is not the
    # view's; the view's own is asked for.
    make_org(db, "Far North Co-op", country="NO", lat=84.5, lon=15.65)
    make_org(db, "Far South Co-op", country="AQ", lat=-84.5, lon=166.67)
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    context = browser.new_context(viewport={"width": 300, "height": 250})
    page = context.new_page()
    route_tiles(page)
    asked = []
    page.on("request", lambda r: asked.append(urlsplit(r.url).path) if "/api/" in r.url else None)
    try:
        with live_server_for(app) as server:
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-map-ready=true]")
            box = page.evaluate("""() => {
                const b = window.mapappMap.getBounds().pad(0.1);
                return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180),
                        Math.min(b.getNorth(), 90)].join(",");
            }""")
            api = page.request.get(f"{server.url}/api/organisations?bbox={box}&limit=50").json()
            assert api["total"] < 2, (box, api)  # the view does not show both
            assert sorted(asked) == ["/api/clusters", "/api/organisations"], asked
            assert page.locator("#results li a").all_inner_texts() == [o["name"] for o in api["items"]]
    finally:
        context.close()
