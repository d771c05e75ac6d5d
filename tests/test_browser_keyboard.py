"""The map with the keyboard alone and with a screen reader: clusters named by what they
hold, focus kept on the map after a cluster, a popup that takes the focus and gives it
back, a named map region, a live region that does not repeat itself, a way past the map;
and the filter panel's own state (counts in the headings, "Clear filters" on the map)."""

from __future__ import annotations

import re

from support import route_tiles


def open_map(page, url: str) -> None:
    route_tiles(page)
    page.goto(url)
    page.wait_for_selector("body[data-map-ready=true]")


def active(page) -> dict:
    return page.evaluate("""() => {
        const a = document.activeElement;
        return {cls: a.className && a.className.baseVal === undefined ? a.className : "",
                label: a.getAttribute("aria-label") || "", text: a.textContent.trim(),
                tag: a.tagName, inMap: !!a.closest(".leaflet-container"),
                inPopup: !!a.closest(".leaflet-popup"),
                marker: a.classList.contains("leaflet-marker-icon") && !a.classList.contains("marker-cluster")};
    }""")


def tab_until(page, test, limit: int = 40) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = active(page)
        if test(now):
            return now
    raise AssertionError(f"never reached in {limit} Tabs; last: {now}")


def test_keyboard_only_cluster_marker_popup_and_back(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/")
        # Tab from the top of the page to a cluster, named by what it holds and does.
        page.evaluate('''() => { window.flog = []; document.addEventListener("focusout", e => window.flog.push([e.target.className, String(e.relatedTarget && e.relatedTarget.className), new Error().stack.slice(0, 600)]), true); }''')
        cluster = tab_until(page, lambda a: "marker-cluster" in a["cls"], limit=120)
        assert re.fullmatch(r"\d+ organisations, zoom in", cluster["label"]), cluster
        # Enter on clusters until the view shows organisations: after each, the focus stays on
        # the map (not the body) and the very next Tab reaches a marker of the new view.
        for _ in range(12):
            zoom = page.evaluate("window.mapappMap.getZoom()")
            with page.expect_response(lambda r: "/api/clusters" in r.url):
                page.keyboard.press("Enter")
            page.wait_for_function("z => window.mapappMap.getZoom() > z", arg=zoom)
            page.wait_for_selector("body[data-map-ready=true]")
            assert active(page)["inMap"], active(page)
            page.keyboard.press("Tab")
            page.wait_for_timeout(150)  # a marker focused near an edge pans the map: its redraw
            page.wait_for_selector("body[data-map-ready=true]")
            marker = active(page)
            assert marker["inMap"] and "leaflet-marker-icon" in marker["cls"], marker
            if marker["marker"]:
                break
            assert re.fullmatch(r"\d+ organisations, zoom in", marker["label"]), marker
        name = marker["label"]
        page.keyboard.press("Enter")
        page.wait_for_selector(".org-popup")
        now = active(page)
        assert now["inPopup"] and now["text"], now
        page.wait_for_selector(".org-popup[data-loaded=true]")
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
        back = active(page)
        assert back["marker"] and back["label"] == name, back


def test_the_map_is_a_named_region_and_clusters_are_named_buttons(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/?lang=fr")
        assert page.get_by_role("region", name="Carte des organisations").count() == 1
        named = page.get_by_role("button", name=re.compile(r"^\d+ organisations, zoomer$"))
        assert named.count() >= 1
        # Polish plural forms: 2-4 "organizacje", 5+ "organizacji", per Intl.PluralRules.
        open_map(page, f"{server.url}/?lang=pl")
        labels = page.eval_on_selector_all(".marker-cluster", "els => els.map(e => e.getAttribute('aria-label'))")
        for label in labels:
            n = int(label.split()[0])
            word = "organizacja" if n == 1 else ("organizacje" if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14)
                                                 else "organizacji")
            assert word in label, label


def test_the_live_region_says_each_count_once(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/")
        page.evaluate("""() => {
            window.said = [];
            new MutationObserver(() => window.said.push(document.getElementById('map-status').textContent))
              .observe(document.getElementById('map-status'), {childList: true, characterData: true, subtree: true});
        }""")
        # A move that keeps every organisation in view: the same count, nothing said again.
        with page.expect_response(lambda r: "/api/clusters" in r.url):
            page.evaluate("window.mapappMap.panBy([3, 3], {animate: false})")
        page.wait_for_selector("body[data-map-ready=true]")
        page.wait_for_timeout(100)
        assert page.evaluate("window.said") == []
        assert page.get_by_role("status").first.text_content()


def test_a_skip_link_goes_past_the_map_to_the_list(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/")
        skip = page.get_by_role("link", name="Skip the map")
        skip.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "in-view"


def test_clear_filters_stays_on_the_map_and_headings_count_choices(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/?lang=fr")
        clear = page.locator("#filters a.clear")
        assert clear.is_hidden()
        country = page.locator('details.facet[data-kind="country"]')
        country.locator("summary").click()
        boxes = country.locator("label:not([hidden]) input[type=checkbox]")
        boxes.nth(0).check()
        page.wait_for_selector("body[data-map-ready=true]")
        boxes.nth(1).check()
        page.wait_for_selector("body[data-map-ready=true]")
        assert country.locator("summary").inner_text().strip().endswith("(2)")
        assert clear.is_visible()
        assert page.url.count("country=") == 2
        clear.click()
        page.wait_for_selector("body[data-map-ready=true]")
        assert "country" not in page.url
        assert page.locator(".leaflet-container").count() == 1  # still the map, not the directory
        assert not country.locator(".chosen-count").is_visible()
        assert clear.is_hidden()
        assert country.locator("input:checked").count() == 0


def test_filters_from_the_url_are_counted_and_cleared_on_the_map(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        open_map(page, f"{server.url}/?country=FR&country=BE")
        summary = page.locator('details.facet[data-kind="country"] summary')
        assert summary.inner_text().strip().endswith("(2)")
        page.locator("#filters a.clear").click()
        page.wait_for_selector("body[data-map-ready=true]")
        assert "/directory" not in page.url and "country" not in page.url
        assert page.locator("#map-status").text_content()


def test_a_popup_shows_town_description_needs_and_offers_as_inert_text(db_path, db, tmp_path, page, live_server_for):
    from support import make_org

    from mapapp import create_app

    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache")})
    hostile = "<script>window.owned=1</script>{{ 7*7 }} ${x}"
    make_org(db, name="Popup coop", city="Lefkosia", country="CY", lat=35.17, lon=33.36, status="published",
             description=hostile + " A cooperative.", needs={"funding": ""}, offers={"equipment": ""})
    with live_server_for(app) as server:
        open_map(page, f"{server.url}/?lang=fr")
        page.locator('.leaflet-marker-icon[title="Popup coop"]').focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(".org-popup[data-loaded=true]")
        popup = page.locator(".org-popup")
        assert "Nicosie, Chypre" in popup.inner_text()  # the town, in the visitor's language
        assert hostile in popup.locator(".org-popup-description").inner_text()
        # As icons, read out with their labels: "Besoins : Financement" (a no-break space before the colon).
        assert popup.locator(".resource-needs").text_content() == "Besoins\u00a0: Financement"
        assert popup.locator(".resource-offers").text_content() == "Offres\u00a0: Équipement"
        assert page.evaluate("window.owned") is None
