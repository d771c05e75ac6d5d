"""A clean start in the browser: staff remove the demo from the dashboard, import their own
file, and the map shows their organisations without the demo banner."""

from __future__ import annotations

from pathlib import Path

from support import DRAWN_TOTAL, make_org, open_settled, route_tiles, settle, sign_in_browser

from mapapp import catalogue
from mapapp.importing import demo

FIXTURES = Path(__file__).parent / "fixtures"


def test_staff_remove_the_demo_then_import_their_own_file(app, worker, db, staff, page, live_server_for, tmp_path):
    demo.load_demo(db)
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    route_tiles(page)
    with live_server_for(app) as server:
        open_settled(page, server.url + "/")
        assert page.locator(".fictional-banner").count() == 1
        sign_in_browser(page, server.url + "/admin", "admin@example.org")
        page.wait_for_url("**/admin")
        page.click("text=Remove the demo data")
        page.wait_for_url("**/admin/demo/remove")
        assert "80 fictional organisations will be deleted" in page.locator("#removal-effects").inner_text()
        page.screenshot(path=str(tmp_path / "remove-demo.png"))
        page.click("text=Yes, remove the demo data")
        page.wait_for_url("**/admin")
        assert "Demo data removed: 80 organisations" in page.locator(".flash").inner_text()
        assert page.locator("#demo-data button", has_text="Undo the removal of the demo data").count() == 1

        page.goto(server.url + "/admin/imports")
        page.set_input_files("input[name=file]", str(FIXTURES / "ica_youth_coops.csv"))
        page.select_option("select[name=status]", "published")
        page.click("text=Upload and preview")
        page.wait_for_url("**/preview")
        page.click("text=Import now")
        page.wait_for_url("**/admin/imports/*")
        page.locator("#report-link:not([hidden])").wait_for(timeout=20_000)
        assert "2 created" in page.locator("#state").inner_text()

        open_settled(page, server.url + "/")
        assert settle(page, DRAWN_TOTAL, 2) == 2
        assert page.locator(".fictional-banner").count() == 0
        page.screenshot(path=str(tmp_path / "clean-map.png"))
        open_settled(page, server.url + "/organisations")
        assert "Coop Giovani Bologna" in page.locator("main").inner_text()
        assert page.locator(".fictional-banner").count() == 0
    assert db.execute("SELECT count(*) FROM organisations WHERE source = ?",
                      [catalogue.FICTIONAL_SOURCE]).fetchone()[0] == 0


def test_the_banner_follows_the_selection_as_the_filters_change(db, app, page, live_server_for):
    demo.load_demo(db)
    make_org(db, "Forno Quintavalle", city="Bologna", country="IT", lat=44.49, lon=11.34)
    route_tiles(page)
    with live_server_for(app) as server:
        open_settled(page, server.url + "/")
        assert page.locator(".fictional-banner").is_visible()
        page.fill("input[name=q]", "Quintavalle")
        page.press("input[name=q]", "Enter")
        assert settle(page, "document.querySelector('.fictional-banner').hidden", True) is True
        assert settle(page, DRAWN_TOTAL, 1) == 1
        page.fill("input[name=q]", "")
        page.press("input[name=q]", "Enter")
        assert settle(page, "document.querySelector('.fictional-banner').hidden", False) is False
    # Opened on a selection of real organisations only, the page has no banner to start with.
    with live_server_for(app) as server:
        open_settled(page, server.url + "/?q=Quintavalle")
        assert page.locator(".fictional-banner").count() == 0
        page.fill("input[name=q]", "")
        page.press("input[name=q]", "Enter")
        page.locator(".fictional-banner").wait_for(state="visible")
