"""A project's visits in the staff area: add, locate, pick organisations without JavaScript,
edit, delete after a confirmation and undo; hostile text inert; partner editors' limits."""

import re

from support import csrf_from, form_fields, make_org, sign_in

from mapapp import accounts, catalogue
from mapapp.catalogue import visitreads, visits

BASE = "/admin/projects/erasmus/visits"
WORLD = "bbox=-180,-90,180,90&zoom=3"
HOSTILE = "{{ 7*7 }}{% if 1 %}x{% endif %}${7*7}<script>alert(1)</script>=1+1\r\nnext\ufffe"


def _setup(db):
    catalogue.save_project(db, {"slug": "erasmus", "name": "Erasmus"})
    host = make_org(db, "Spółdzielnia Poznań", city="Poznań", country="PL", lat=52.41, lon=16.93)
    guest = make_org(db, "Coop Lyon", city="Lyon", country="FR")
    return host, guest


def _new_form(client) -> dict:
    page = client.get(f"{BASE}/new").get_data(as_text=True)
    return form_fields(page)


def test_study_visit_added_without_javascript_located_and_its_organisations_searched(app, db, staff):
    host, guest = _setup(db)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    assert client.get(f"/api/clusters?{WORLD}").get_json()["total"] == 2  # the map index, read before the visit
    data = {**_new_form(client), "kind": "study-visit", "title_fr": "Visite d'étude à Poznań", "date": "2025-05-12",
            "end_date": "2025-05-14", "place": "Poznań, PL", "link_report": "https://report.example/poznan"}
    found = client.post(f"{BASE}/new", data={**data, "q_host": "Pozn", "action": "search:host"})
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and "Spółdzielnia Poznań" in page and "Coop Lyon" not in page
    assert re.search(rf'name="role_{host.id}".*?<option value="host" selected', page, re.S)
    page = client.post(f"{BASE}/new", data={**data, "q_participant": "Lyon", "action": "search:participant",
                                           "org": [str(host.id)], f"role_{host.id}": "host"}).get_data(as_text=True)
    assert "Coop Lyon" in page and f'value="{host.id}" checked' in page
    located = client.post(f"{BASE}/new", data={**data, "action": "locate"}).get_data(as_text=True)
    assert "Found (town or village, gazetteer)" in located
    saved = client.post(f"{BASE}/new", data={**form_fields(located), "action": "save", "org": [str(host.id), str(guest.id)],
                                            f"role_{host.id}": "host", f"role_{guest.id}": "participant"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        f"{BASE}/erasmus-2025-05-12-poznan-pl/edit")
    visit = visits.get_visit(db, "erasmus-2025-05-12-poznan-pl")
    assert visit["title"] == "Visite d'étude à Poznań" and round(visit["lat"], 1) == 52.4
    assert visit["geo_precision"] == "locality" and visit["end_date"] == "2025-05-14"
    assert {(o["name"], o["role"]) for o in visit["organisations"]} == {
        ("Spółdzielnia Poznań", "host"), ("Coop Lyon", "participant")}
    listing = client.get(BASE).get_data(as_text=True)
    assert "Visite d&#39;étude à Poznań" in listing and "Coop Lyon (Participant)" in listing
    # The map's visit filter finds the visit's organisations, and follows a change at once.
    assert client.get(f"/api/clusters?{WORLD}&visit=erasmus-2025-05-12-poznan-pl").get_json()["total"] == 2
    visits.update_visit(db, visit["slug"], visit, [(host.id, "host")], user_email="e@example.org")
    assert client.get(f"/api/clusters?{WORLD}&visit=erasmus-2025-05-12-poznan-pl").get_json()["total"] == 1


def test_online_meeting_needs_no_place_and_a_study_visit_does(app, db, staff):
    _setup(db)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    data = {**_new_form(client), "title": "Kick-off call", "date": "2025-01-10", "action": "save"}
    refused = client.post(f"{BASE}/new", data={**data, "kind": "study-visit"})
    assert refused.status_code == 400 and "an online meeting needs no place" in refused.get_data(as_text=True)
    assert client.post(f"{BASE}/new", data={**data, "kind": "online", "place": "Lyon, FR"}).status_code == 302
    stored = visits.get_visit(db, "erasmus-2025-01-10-online")
    assert stored["place"] == "" and stored["lat"] is None


def test_hostile_text_is_stored_inert_and_javascript_links_refused(app, db, staff):
    _setup(db)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    data = {**_new_form(client), "kind": "seminar", "title": HOSTILE, "description_en": HOSTILE, "date": "2025-03-01",
            "place": "Lyon, FR", "action": "save"}
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x", "//evil.example", "https://a b",
                "https://x.example/\r\nSet-Cookie: a=b", "https://x.example/\ufffe"):
        refused = client.post(f"{BASE}/new", data={**data, "link_photos": bad})
        assert refused.status_code == 400 and "must be a web address starting with http" in refused.get_data(as_text=True)
    assert visits.visits_of_project(db, "erasmus") == []
    assert client.post(f"{BASE}/new", data={**data, "link_photos": "https://photos.example/?a=1&b=2"}).status_code == 302
    visit = visits.visits_of_project(db, "erasmus")[0]
    assert "\ufffe" not in visit["title"] and "\r" not in visit["title"] and "\n" not in visit["title"]
    for url in (BASE, f"{BASE}/{visit['slug']}/edit", f"{BASE}/{visit['slug']}/delete"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "{{ 7*7 }}" in page


def test_edit_delete_with_confirmation_and_undo(app, db, staff):
    host, guest = _setup(db)
    slug = visits.create_visit(db, "erasmus", {"kind": "seminar", "title": "Seminar in Lyon", "date": "2025-06-01",
                                               "place": "Lyon, FR", "lat": 45.76, "lon": 4.84, "geo_precision": "manual"},
                               [(host.id, "participant"), (guest.id, "host")], user_email="admin@example.org")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"{BASE}/{slug}/edit"
    data = form_fields(client.get(url).get_data(as_text=True))
    assert data["place"] == "Lyon, FR" and data["lat"] == "45.76"
    # Unticking an organisation removes it; the pin dragged by hand is kept as "manual".
    data.update({"org": [str(guest.id)], "lat": "45.75", "lon": "4.85", "title_pl": "Seminarium", "action": "save"})
    assert client.post(url, data=data).status_code == 302
    visit = visits.get_visit(db, slug)
    assert [o["name"] for o in visit["organisations"]] == ["Coop Lyon"] and visit["lat"] == 45.75
    assert visit["titles"] == {"pl": "Seminarium"} and visit["geo_precision"] == "manual"
    # A place located by the gazetteer and then changed is located again when saved.
    data = form_fields(client.post(url, data={**form_fields(client.get(url).get_data(as_text=True)), "place": "Poznań, PL",
                                              "action": "locate"}).get_data(as_text=True))
    client.post(url, data={**data, "place": "Gent, BE", "action": "save"})
    visit = visits.get_visit(db, slug)
    assert visit["place"] == "Gent, BE" and round(visit["lat"], 1) == 51.0 and visit["geo_precision"] == "locality"

    confirm = client.get(f"{BASE}/{slug}/delete").get_data(as_text=True)
    assert "Delete this visit?" in confirm and visits.get_visit(db, slug) is not None
    assert client.post(f"{BASE}/{slug}/delete", data={}).status_code == 400  # no CSRF token, nothing deleted
    assert visits.get_visit(db, slug) is not None
    client.post(f"{BASE}/{slug}/delete", data={"csrf_token": csrf_from(confirm)})
    assert visits.get_visit(db, slug) is None
    listing = client.get(BASE).get_data(as_text=True)
    assert "No visit or event yet." in listing and "Undo the deletion" in listing
    undo_url = re.search(r'action="([^"]+/undo/\d+)"', listing).group(1)
    back = client.post(undo_url, data={"csrf_token": csrf_from(listing)})
    assert back.status_code == 302
    visit = visits.get_visit(db, slug)
    assert visit["title"] == "Seminar in Lyon" and [(o["name"], o["role"]) for o in visit["organisations"]] == [
        ("Coop Lyon", "host")]
    assert visitreads.visits_of_organisation(db, guest.id)[0]["slug"] == slug
    dashboard = client.get("/admin").get_data(as_text=True)
    assert f"visit #{visit['id']} changed (Visits and events)" in dashboard


def test_partner_editors_run_their_projects_visits_with_their_organisations_only(app, db, staff):
    host, guest = _setup(db)
    catalogue.save_project(db, {"slug": "other", "name": "Other"})
    partner, _ = accounts.create_user(db, "partner@example.org", "correct horse battery staple", "editor")
    accounts.set_moderation_scope(db, partner.id, "FR", "erasmus")
    country_only, _ = accounts.create_user(db, "fr@example.org", "correct horse battery staple", "editor")
    accounts.set_moderation_scope(db, country_only.id, "FR", "")
    client = app.test_client()
    sign_in(client, "fr@example.org", "correct horse battery staple")
    assert client.get(BASE).status_code == 403
    client = app.test_client()
    sign_in(client, "partner@example.org", "correct horse battery staple")
    assert client.get("/admin/projects/other/visits").status_code == 403
    assert client.get(BASE).status_code == 200
    # Spółdzielnia Poznań is in Poland and not in the project: neither found nor accepted.
    assert client.get(f"{BASE}/organisations.json?q=Pozn").get_json() == {"organisations": []}
    assert [o["name"] for o in client.get(f"{BASE}/organisations.json?q=lyon").get_json()["organisations"]] == ["Coop Lyon"]
    data = {**_new_form(client), "kind": "seminar", "title": "Seminar", "date": "2025-02-02", "place": "Lyon, FR",
            "action": "save", "org": [str(host.id)], f"role_{host.id}": "host"}
    assert client.post(f"{BASE}/new", data=data).status_code == 403
    assert visits.visits_of_project(db, "erasmus") == []
    assert client.post(f"{BASE}/new", data={**data, "org": [str(guest.id)], f"role_{guest.id}": "host"}).status_code == 302
