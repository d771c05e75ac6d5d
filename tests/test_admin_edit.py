"""Editing organisations: validation, the pin, geocoding on demand, the audit log and undo."""

import re
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


def test_the_country_list_offers_every_country_in_the_staff_members_alphabet(app, db, staff):
    org = make_org(db, "Coop in Lyon")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(f"/admin/organisations/{org.id}/edit?lang=pl").get_data(as_text=True)
    select = page.split('name="country"')[1].split("</select>")[0]
    names = re.findall(r"<option value=\"[A-Z]{2}\"[^>]*>([^<]+)</option>", select)
    assert len(names) > 240 and "Łotwa" in names and "Peru" in names  # not only the countries in use
    assert names.index("Luksemburg") < names.index("Łotwa") < names.index("Macedonia Północna")  # Ł after L
    page = client.get(f"/admin/organisations/{org.id}/edit?lang=fr").get_data(as_text=True)
    names = re.findall(r"<option value=\"[A-Z]{2}\"[^>]*>([^<]+)</option>", page.split('name="country"')[1].split("</select>")[0])
    assert names.index("Dominique") < names.index("Égypte") < names.index("Espagne") < names.index("Fidji")


def test_the_pin_editor_searches_places_and_says_which_country_the_pin_is_in(app, db, staff):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    places = client.get("/admin/pin/places.json?q=Namur&country=BE").get_json()
    assert places[0]["label"] == "Namur, Belgium" and places[0]["source"] == "gazetteer"
    assert abs(places[0]["lat"] - 50.47) < 0.05
    said = client.get("/admin/pin/country.json?lat=50.47&lon=4.87&country=FR").get_json()
    assert said["country"] == "BE" and said["text"] == "The pin is in Belgium, not in France, the organisation's country."
    assert client.get("/admin/pin/country.json?lat=x&lon=1").status_code == 400
    org = make_org(db, "No point yet", city="Gent", country="BE", lat=None, lon=None)
    page = client.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    assert "No pin yet: search a place or click the map." in page
    start = page.split('data-start="')[1].split('"')[0]
    assert "51.0" in start and "&#34;zoom&#34;: 12" in start  # opens on Gent, not on the default view


def test_the_pin_editor_in_the_browser(app, db, staff, page, live_server_for, tmp_path):
    org = make_org(db, "Coop " + "<b>{{7*7}}</b>", city="", country="BE", lat=None, lon=None)
    route_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, f"{server.url}/admin/organisations/{org.id}/edit", "editor@example.org")
        page.wait_for_selector("body[data-edit-ready=true]")
        center = page.evaluate("(() => { const c = document.getElementById('edit-map').leafletMap.getCenter(); return [c.lat, c.lng]; })()")
        assert 49.4 < center[0] < 51.6 and 2.5 < center[1] < 6.5, center  # opened on Belgium
        page.fill("#place-query", "Namur")
        page.press("#place-query", "Enter")
        page.locator("#place-results button", has_text="Namur, Belgium").click()
        page.get_by_text("The pin is in Belgium.").wait_for()
        assert abs(float(page.input_value("input[name=lat]")) - 50.47) < 0.05
        page.select_option("select[name=country]", "FR")
        page.get_by_text("The pin is in Belgium, not in France, the organisation's country.").wait_for()
        page.screenshot(path=tmp_path / "pin-editor.png", full_page=True)
    assert catalogue.organisation_state(db, org.id)["values"]["lat"] is None  # nothing saved by searching
