"""Editing organisations: validation, the pin, geocoding on demand, the audit log and undo."""

from pathlib import Path

from support import csrf_from, form_fields, make_org, route_tiles, sign_in, sign_in_browser

from mapapp import catalogue
from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

FIXTURES = Path(__file__).parent / "fixtures"


def form_of(html: str) -> dict:
    """The edit form's current values, as a browser would submit them."""
    return form_fields(html)


def imported(db):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, FIXTURES / "osm_keys.csv", importer.Options(status="published"), chain)


def test_edit_validates_saves_audits_and_undoes(app, db, staff):
    imported(db)
    org = catalogue.find_organisations(db, catalogue.Filters(q="fietsatelier"))[0]
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"/admin/organisations/{org['id']}/edit"
    page = client.get(url).get_data(as_text=True)
    data = form_of(page)
    assert data["name"] == "Fietsatelier Gent" and data["country"] == "BE"

    bad = client.post(url, data={**data, "website": "not a site", "action": "save"})
    assert bad.status_code == 400 and "Nothing was saved" in bad.get_data(as_text=True)
    assert catalogue.get_organisation(db, org["slug"])["website"] == "https://fietsatelier.example.be"

    good = client.post(url, data={**data, "name": "Fietsatelier Gent (coop)", "theme": ["AM160", "AM120"],
                                  "need": ["premises"], "need_detail:premises": "a bigger workshop",
                                  "action": "save"})
    assert good.status_code == 302
    edited = catalogue.get_organisation(db, org["slug"])
    assert edited["name"] == "Fietsatelier Gent (coop)" and edited["themes"] == ["AM160", "AM120"]  # the first ticked is the main one
    assert edited["needs"] == {"premises": "a bigger workshop"}
    page = client.get(url).get_data(as_text=True)
    entry_id = int(__import__("re").search(r'/admin/audit/(\d+)/undo', page).group(1))
    assert "editor@example.org" in page
    client.post(f"/admin/audit/{entry_id}/undo", data={"csrf_token": csrf_from(page)})
    restored = catalogue.get_organisation(db, org["slug"])
    assert restored["name"] == "Fietsatelier Gent" and restored["themes"] == [] and restored["needs"] == {}


def test_geocode_button_fills_the_pin_without_saving(app, db, staff):
    make = catalogue.save_organisation(db, {"name": "Lost coop", "city": "Liège", "country": "BE",
                                            "status": "draft", "source": "t", "source_ref": "1"})
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"/admin/organisations/{make.id}/edit"
    data = form_of(client.get(url).get_data(as_text=True))
    page = client.post(url, data={**data, "action": "geocode"}).get_data(as_text=True)
    assert "Found (town or village, gazetteer)" in page
    assert catalogue.organisation_state(db, make.id)["values"]["lat"] is None  # not saved yet
    client.post(url, data={**form_of(page), "action": "save"})
    values = catalogue.organisation_state(db, make.id)["values"]
    assert round(values["lat"], 1) == 50.6 and values["geo_precision"] == "locality"


def test_unsaved_organisations_are_in_the_needs_a_location_queue(app, db, staff):
    catalogue.save_organisation(db, {"name": "Nowhere coop", "status": "draft", "source": "t", "source_ref": "n"})
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get("/admin/organisations?located=0").get_data(as_text=True)
    assert "Nowhere coop" in page and "1 organisation" in page


def test_dragged_pin_is_saved_as_manual_and_kept_by_a_reimport(app, db, staff, page, live_server_for):
    imported(db)
    org = catalogue.find_organisations(db, catalogue.Filters(q="bolognese"))[0]
    route_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, f"{server.url}/admin/organisations/{org['id']}/edit", "editor@example.org")
        page.wait_for_selector("body[data-edit-ready=true]")
        pin = page.locator("#edit-map .leaflet-marker-icon")
        pin.scroll_into_view_if_needed()
        box = pin.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 80, box["y"] + 60, steps=8)
        page.mouse.up()
        assert page.locator("#precision").inner_text() == "placed by hand"
        page.click("button[value=save]")
        page.wait_for_selector(".flash")
    values = catalogue.organisation_state(db, org["id"])["values"]
    assert values["geo_precision"] == "manual" and values["lat"] != org["lat"], (values, org["lat"])
    moved = (values["lat"], values["lon"])
    report = imported(db)  # the same file again
    after = catalogue.organisation_state(db, org["id"])["values"]
    assert (after["lat"], after["lon"], after["geo_precision"]) == (*moved, "manual")
    assert report.counts["created"] == 0


def test_a_pin_moved_into_another_country_is_refused_unless_confirmed(app, db, staff):
    org = make_org(db, "Border coop", city="Menton", country="FR", lat=43.775, lon=7.497)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"/admin/organisations/{org.id}/edit?lang=fr"
    data = form_of(client.get(url).get_data(as_text=True))
    moved = {**data, "lat": "43.79", "lon": "7.61", "action": "save"}  # Ventimiglia, Italy
    refused = client.post(url, data=moved)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "L&#39;épingle se trouve en Italie, pas en France" in page and 'name="confirm_country"' in page
    assert catalogue.organisation_state(db, org.id)["values"]["lat"] == 43.775  # nothing saved
    client.post(url, data={**form_of(page), "confirm_country": "1", "action": "save"})
    values = catalogue.organisation_state(db, org.id)["values"]
    assert (values["lat"], values["lon"], values["geo_precision"]) == (43.79, 7.61, "manual")


def test_a_pin_inside_the_country_needs_no_confirmation(app, db, staff):
    org = make_org(db, "Inland coop", city="Lyon", country="FR")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"/admin/organisations/{org.id}/edit"
    data = form_of(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**data, "lat": "45.70", "lon": "4.90", "action": "save"}).status_code == 302
