"""Printing the map page gives the map of the view, its legend and the list (no filter panel,
no site header); printing an organisation page gives the page. /stats opens with a table of
contents; projects have their menu entry and index page."""

from __future__ import annotations

import re

from support import published, route_tiles


def shown(page, selector: str) -> bool:
    return page.evaluate("""s => { const e = document.querySelector(s);
        return !!e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().height > 0; }""", selector)


def test_printing_the_map_gives_the_map_legend_and_list_not_the_filters(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(f"{server.url}/?country=BE")
        page.wait_for_selector("body[data-map-ready=true]")
        assert shown(page, "#filters") and shown(page, ".site-header")
        page.emulate_media(media="print")
        assert not shown(page, "#filters")
        assert not shown(page, ".site-header") and not shown(page, ".site-footer")
        assert not shown(page, ".leaflet-control-zoom")
        assert shown(page, ".map-area .leaflet-container")
        assert shown(page, ".map-legend .legend-list")
        assert shown(page, "#results li")
        # The map comes first, then the list.
        map_top = page.locator(".map-area").bounding_box()["y"]
        assert map_top < page.locator("#results").bounding_box()["y"]
        assert page.pdf()[:4] == b"%PDF"


def test_printing_an_organisation_page_gives_the_page(demo_app, demo_db_path, page, live_server_for):
    org = published(demo_db_path, country=("CY",))[0]
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(f"{server.url}/organisations/{org['slug']}")
        page.emulate_media(media="print")
        assert not shown(page, ".site-header") and not shown(page, ".site-footer")
        assert shown(page, "main.org-page")
        assert org["name"] in page.locator("main").inner_text()


def test_stats_has_a_table_of_contents_linking_each_section(demo_client):
    html = demo_client.get("/stats?lang=fr").get_data(as_text=True)
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    assert "Sur cette page" in toc
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) >= 8
    for target in targets:
        assert f'id="{target}"' in html, target


def test_projects_have_a_menu_entry_and_an_index(demo_client):
    html = demo_client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    link = re.search(r'<a href="([^"]+)"[^>]*>\s*Projects\s*</a>', nav).group(1)
    index = demo_client.get(link)
    assert index.status_code == 200 and "/projects/" in index.get_data(as_text=True)


def test_the_embed_builder_takes_several_countries_and_fits_the_iframe(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(f"{server.url}/embed/builder?lang=fr")
        page.get_by_role("checkbox", name="France").check()
        page.get_by_role("checkbox", name="Belgique").check()
        snippet = page.locator("#snippet-iframe")
        page.wait_for_function("() => /country=(BE%2CFR|FR%2CBE)/.test(document.getElementById('snippet-iframe').value)")
        frame = page.frame_locator("#preview")
        frame.locator("body[data-map-ready=true]").wait_for()
        # Only the two countries' organisations are in the preview.
        listed = frame.locator("#results .place").all_inner_texts()
        assert listed and all(p.endswith(("France", "Belgique")) for p in listed), listed
        # The plain snippet's height is the preview's measured content, not the estimate.
        measured = frame.locator(".embed-layout").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
        page.wait_for_function(
            "h => document.getElementById('snippet-iframe').value.includes('height=\"' + h + '\"')", arg=measured)
        assert f'height="{measured}"' in snippet.input_value()
        assert page.locator("#preview").get_attribute("height") == str(measured)
        assert "se redimensionne" in page.locator("#snippet-script-hint").inner_text()
