"""The map's layer of visits and events: off at first, shown with "Show events" as diamonds
(not the organisations' pins) named "Seminar: … (date)", reachable with the keyboard, and
following the project filter."""

from __future__ import annotations

import json

from support import make_org, route_tiles

from mapapp import catalogue, create_app


def _located_visit(db, slug, project, title, date, kind, lat, lon):
    catalogue.save_visit(db, {"slug": slug, "project": project, "title": title, "date": date})
    db["visits"].update(db.execute("SELECT id FROM visits WHERE slug = ?", [slug]).fetchone()[0],
                        {"kind": kind, "lat": lat, "lon": lon, "place": "Kraków", "descriptions": json.dumps({})})


def test_the_events_layer_shows_named_keyboard_reachable_markers(db_path, db, page, tmp_path, live_server_for):
    org = make_org(db, "Coop Kraków", lat=50.06, lon=19.94, country="PL", city="Kraków", status="published")
    catalogue.save_project(db, {"slug": "bridges", "name": "Bridges"})
    catalogue.save_project(db, {"slug": "other", "name": "Other"})
    catalogue.link_organisation(db, org.id, projects=["bridges", "other"])
    _located_visit(db, "autumn-seminar", "bridges", "Autumn <b>seminar</b>", "2026-10-05", "seminar", 50.07, 19.95)
    _located_visit(db, "other-visit", "other", "Other study visit", "2026-04-02", "study-visit", 50.05, 19.93)
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache")})
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(f"{server.url}/?lang=en")
        page.wait_for_selector(".leaflet-marker-icon:not(.event-marker), .marker-cluster")
        assert page.locator(".event-marker").count() == 0
        page.get_by_label("Show events").check()
        seminar = page.get_by_role("button", name="Seminar: Autumn <b>seminar</b> (Oct 5, 2026)")
        seminar.wait_for()
        assert page.locator(".event-marker").count() == 2  # every project's, when none is selected
        assert page.locator(".event-marker b").count() == 0  # the title is text
        assert seminar.get_attribute("tabindex") == "0"  # in the page's tab order
        seminar.focus()
        page.keyboard.press("Enter")
        page.locator(".leaflet-popup-content").get_by_text("Seminar: Autumn <b>seminar</b>").wait_for()
        page.get_by_label("Show events").uncheck()
        page.wait_for_function("document.querySelectorAll('.event-marker').length === 0")

        page.goto(f"{server.url}/?lang=en&project=other")
        page.get_by_label("Show events").check()
        page.get_by_role("button", name="Study visit: Other study visit (Apr 2, 2026)").wait_for()
        assert page.locator(".event-marker").count() == 1
