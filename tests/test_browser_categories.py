"""Categories seen on the map (#28): pins in their category's colour with its icon, clusters
ringed with their mix, a legend on the map and the embed that filters when chosen, and a
faded marker that stays named and told apart by more than its colour."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from support import DRAWN_TOTAL, route_tiles, settle
from test_map_categories import add_category

from mapapp import catalogue, create_app
from mapapp.filters import Filters
from mapapp.importing import demo

HOSTILE = '<img src=x onerror="window.pwned=1">{{ 7*7 }}'


@pytest.fixture
def categorised(db, db_path, tmp_path):
    """The demo catalogue, with a staff-made child category (with a hostile label) that some
    organisations in Lyon have as their main one, and one entry not confirmed for years."""
    demo.load_demo(db)
    add_category(db, "plumbing", parent="AM140", colour="#0055aa", icon="droplet",
                 labels={"en": "Plumbing " + HOSTILE, "fr": "Plomberie"}, position=1)
    lyon = [r[0] for r in db.execute("SELECT id FROM organisations WHERE city = 'Lyon' AND status = 'published'"
                                     " AND lat IS NOT NULL ORDER BY id")]
    assert len(lyon) >= 4
    db.execute("UPDATE organisation_themes SET rank = rank + 1 WHERE organisation_id IN (?, ?)", lyon[:2])
    for org_id in lyon[:2]:
        db.execute("INSERT INTO organisation_themes (organisation_id, theme, rank) VALUES (?, 'plumbing', 0)", [org_id])
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", [lyon[2]])
    db.conn.commit()
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    return app, {r[0]: r[1] for r in db.execute("SELECT id, name FROM organisations")}, lyon


def settings_of(page) -> dict:
    return json.loads(page.locator("#mapapp-settings").text_content())


def main_category(db, org_id: int, codes: list[str]) -> str:
    themes = [r[0] for r in db.execute("SELECT theme FROM organisation_themes WHERE organisation_id = ?"
                                       " ORDER BY rank, theme", [org_id])]
    return next((t for t in themes if t in codes), "")


def test_markers_clusters_and_the_legend_show_the_categories_and_filter(categorised, db, browser, live_server_for,
                                                                        tmp_path):
    app, names, lyon = categorised
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(f"{server.url}/?lang=en")
        page.wait_for_selector("body[data-map-ready=true]")
        legend = settings_of(page)["categories"]
        codes = [c["code"] for c in legend["categories"]]
        by_code = {c["code"]: c for c in legend["categories"]}

        # A legend on the map, open on a laptop, with the categories present, children under their parent.
        toggle = page.get_by_role("button", name="Categories")
        assert toggle.get_attribute("aria-expanded") == "true"
        child = page.locator(".legend-parent:has(.legend-child) .legend-child .legend-entry")
        assert child.inner_text() == "Plumbing " + HOSTILE  # as text, never as markup
        assert page.evaluate("window.pwned") is None
        assert page.locator(".legend-entry").count() == sum(1 for c in legend["categories"][1:] if c["present"])
        assert child.evaluate("e => getComputedStyle(e).color") == "rgb(29, 38, 36)"  # readable on the white box

        # A cluster at the first view is ringed with the colours of the categories inside it.
        rings = page.locator(".cat-cluster div").evaluate_all("els => els.map(e => e.style.background)")
        assert rings and all("conic-gradient" in r for r in rings)
        assert any(r.count("rgb(") >= 3 for r in rings), rings  # a mix: two categories and more

        # Zoomed in: each pin in its main category's colour, drawn with that category's icon.
        page.evaluate("window.mapappMap.setView([45.7615, 4.835], 14)")
        page.wait_for_selector(f'.cat-marker[title="{names[lyon[0]]}"]')
        page.wait_for_selector("body[data-map-ready=true]")
        for org_id in lyon[:2] + lyon[3:5]:
            code = main_category(db, org_id, codes)
            marker = page.locator(f'.cat-marker[title="{names[org_id]}"]')
            colour = marker.locator(".cat-pin").evaluate("e => e.style.getPropertyValue('--cat')")
            drawn = marker.locator("svg path").evaluate_all("ps => ps.map(p => p.getAttribute('d'))")
            assert colour == by_code[code]["colour"], (names[org_id], code)
            assert drawn == legend["icons"][by_code[code]["icon"]], (names[org_id], code)
        assert by_code["plumbing"]["icon"] == "droplet" != by_code["AM140"]["icon"]  # the child's own icon

        # Faded and outlined in dashes, still named, and saying why.
        stale = page.locator(f'.cat-marker[title^="{names[lyon[2]]}"]')
        assert stale.get_attribute("title") == f"{names[lyon[2]]} (not confirmed for a long time)"
        assert float(stale.evaluate("e => getComputedStyle(e).opacity")) < 0.6
        assert stale.locator(".cat-pin").evaluate("e => getComputedStyle(e, '::before').borderTopStyle") == "dashed"
        fresh = page.locator(f'.cat-marker[title="{names[lyon[3]]}"] .cat-pin')
        assert fresh.evaluate("e => getComputedStyle(e, '::before').borderTopStyle") == "solid"
        page.screenshot(path=tmp_path / "lyon.png")

        # Choosing a category in the legend filters as the panel does: URL, panel, markers.
        before = page.evaluate(DRAWN_TOTAL)
        education = len(catalogue.find_organisations(db, Filters(theme=("AM40",)), located_only=True))
        page.evaluate("window.mapappMap.setView([47, 8], 4)")
        page.wait_for_selector("body[data-map-ready=true]")
        entry = page.locator('.legend-entry[data-code="AM40"]')
        entry.click()
        page.wait_for_selector("body[data-map-ready=true]")
        assert parse_qs(urlsplit(page.url).query)["theme"] == ["AM40"]
        assert page.locator('input[name=theme][value=AM40]').is_checked()
        assert entry.get_attribute("aria-pressed") == "true"
        assert settle(page, DRAWN_TOTAL, education) == education != before
        entry.focus()
        page.keyboard.press("Enter")  # again, from the keyboard: every category again
        page.wait_for_selector("body[data-map-ready=true]")
        assert "theme" not in parse_qs(urlsplit(page.url).query)
        assert entry.get_attribute("aria-pressed") == "false"
        assert not page.locator('input[name=theme][value=AM40]').is_checked()
    context.close()


@pytest.mark.parametrize("controls", ("1", "0"))
def test_the_embed_has_the_legend_and_it_filters(categorised, db, page, live_server_for, controls):
    app, _names, _lyon = categorised
    route_tiles(page)
    education = len(catalogue.find_organisations(db, Filters(theme=("AM40",)), located_only=True))
    with live_server_for(app) as server:
        page.goto(f"{server.url}/embed?lang=fr&controls={controls}")
        page.wait_for_selector("body[data-map-ready=true]")
        before = page.evaluate(DRAWN_TOTAL)
        assert page.get_by_role("button", name="Catégories").is_visible()
        assert page.locator('.legend-entry[data-code="plumbing"]').inner_text() == "Plomberie"
        entry = page.locator('.legend-entry[data-code="AM40"]')
        assert entry.inner_text() == "Éducation"
        entry.click()
        page.wait_for_selector("body[data-map-ready=true]")
        query = parse_qs(urlsplit(page.url).query)
        assert query["theme"] == ["AM40"] and query["controls"] == [controls]
        assert settle(page, DRAWN_TOTAL, education) == education != before
        assert "theme=AM40" in page.locator("#full-map").get_attribute("href")


def test_on_a_phone_the_legend_starts_folded(categorised, browser, live_server_for):
    app, _names, _lyon = categorised
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(f"{server.url}/?lang=el")
        page.wait_for_selector("body[data-map-ready=true]")
        toggle = page.locator(".legend-toggle")
        assert toggle.get_attribute("aria-expanded") == "false" and not page.locator(".legend-body").is_visible()
        toggle.tap()
        assert toggle.get_attribute("aria-expanded") == "true" and page.locator(".legend-body").is_visible()
    context.close()


def test_the_open_legend_covers_no_cluster_of_the_first_view_on_a_laptop(db, db_path, tmp_path, browser,
                                                                         live_server_for):
    """The first view fits the organisations beside the open legend: one in the north-east
    corner of the selection (Kyiv) is not hidden under it (it was, at zoom 5 on a laptop)."""
    from support import make_org

    demo.load_demo(db)
    make_org(db, "Kooperatyv Kyiv", city="Kyiv", country="UA", lat=50.45, lon=30.52, themes=["AM140"])
    db.conn.commit()
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    for lang in ("fr", "el"):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        route_tiles(page)
        with live_server_for(app) as server:
            page.goto(f"{server.url}/?lang={lang}")
            page.wait_for_selector("body[data-map-ready=true]")
            legend = page.locator(".map-legend").bounding_box()
            assert page.locator(".legend-toggle").get_attribute("aria-expanded") == "true"
            drawn = page.locator(".leaflet-marker-icon").evaluate_all(
                "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
            assert drawn
            under = [d for d in drawn if d[0] < legend["x"] + legend["width"] and d[2] > legend["x"]
                     and d[1] < legend["y"] + legend["height"] and d[3] > legend["y"]]
            assert not under, (lang, legend, under)
        context.close()
