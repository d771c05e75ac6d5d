"""Done means 4 of #28, in Chromium and in French: an admin adds a yes/no filter field
"Label EPV", sets it on an organisation in the staff form, filters the map by it from the
panel and downloads the CSV with its column."""

from __future__ import annotations

import csv
import io

from support import DRAWN_TOTAL, make_org, route_tiles, settle, sign_in_browser

from mapapp import create_app
from mapapp.catalogue import fields as store


def test_a_yes_no_field_added_set_filtered_and_exported(db_path, db, staff, browser, live_server_for, tmp_path):
    labelled = make_org(db, "Ébénisterie Martin", city="Lyon", country="FR", lat=45.76, lon=4.84)
    make_org(db, "Atelier Sans Label", city="Lyon", country="FR", lat=45.75, lon=4.85)
    db.conn.commit()
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = []
    try:
        with live_server_for(app) as server:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            route_tiles(page)
            sign_in_browser(page, server.url + "/admin/fields?lang=fr", "admin@example.org")
            form = page.locator("#new-field")
            form.locator("select[name=type]").select_option("yes_no")
            form.get_by_label("Français", exact=True).fill("Label EPV")
            form.get_by_label("Un filtre de la carte").check()
            form.get_by_label("Afficher dans les bulles").check()
            form.get_by_role("button", name="Ajouter").click()
            page.get_by_text("Champ ajouté : Label EPV").wait_for()
            page.screenshot(path=tmp_path / "fields.png", full_page=True)
            assert store.get_field(db, "label-epv").filter

            page.goto(f"{server.url}/admin/organisations/{labelled.id}/edit?lang=fr")
            page.locator("#custom-fields").get_by_label("oui").check()
            page.get_by_role("button", name="Enregistrer").first.click()
            page.get_by_text("Enregistré.").wait_for()
            assert store.values_of(db, labelled.id) == {"label-epv": ["yes"]}

            page.goto(server.url + "/?lang=fr")
            page.wait_for_selector("body[data-map-ready=true]")
            assert settle(page, DRAWN_TOTAL, 2) == 2
            page.locator("details[data-kind=f-label-epv] summary").click()
            page.locator("details[data-kind=f-label-epv]").get_by_label("oui").check()
            page.wait_for_url("**f-label-epv=yes**")
            assert settle(page, DRAWN_TOTAL, 1) == 1
            assert page.locator("#total").inner_text() == "1 organisation"
            page.locator(".leaflet-marker-pane .leaflet-marker-icon").first.click()
            popup = page.locator(".org-popup-fields")
            popup.wait_for()
            assert popup.locator("dt").inner_text() == "Label EPV" and popup.locator("dd").inner_text() == "oui"
            page.screenshot(path=tmp_path / "map-filtered.png")

            page.goto(server.url + "/organisations?lang=fr&f-label-epv=yes")
            with page.expect_download() as download:
                page.locator(".downloads a", has_text="CSV").first.click()
            text = download.value.path().read_text(encoding="utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(text)))
            assert [(r["name"], r["label-epv"]) for r in rows] == [("Ébénisterie Martin", "oui")]
        assert errors == []
    finally:
        context.close()
