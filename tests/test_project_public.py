"""Visits and events as the public sees them (#27): the project page's timeline (dated, in the
visitor's language, with a note when a title is not translated), the /projects index, the
organisation page's lines, /api/visits, the iCalendar feed (parsed back; hostile titles inert)."""

from __future__ import annotations

import json

import icalendar
import pytest
from support import make_org

from mapapp import catalogue, create_app

HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> =1+1 \ufffe"


def _visit(db, slug, project, title, date, *, end=None, kind="study-visit", titles=None, lat=None, lon=None,
           place="", descriptions=None, links=None):
    catalogue.save_visit(db, {"slug": slug, "project": project, "title": title, "date": date,
                              "titles": titles or {}})
    db["visits"].update(db.execute("SELECT id FROM visits WHERE slug = ?", [slug]).fetchone()[0],
                        {"end_date": end, "kind": kind, "lat": lat, "lon": lon, "place": place,
                         "descriptions": json.dumps(descriptions or {}), "links": json.dumps(links or {})})


def _role(db, org, visit, role):
    catalogue.link_organisation(db, org.id, visits=[visit])
    db.execute("UPDATE visit_organisations SET role = ? WHERE organisation_id = ? AND visit_id ="
               " (SELECT id FROM visits WHERE slug = ?)", [role, org.id, visit])
    db.conn.commit()


@pytest.fixture
def network(db):
    host = make_org(db, "Hôte Lyon", lat=45.76, lon=4.83, country="FR", city="Lyon")
    visited = make_org(db, "Coop Visitée", lat=45.77, lon=4.84, country="FR", city="Lyon")
    guest = make_org(db, "Gość Kraków", lat=50.06, lon=19.94, country="PL", city="Kraków")
    catalogue.save_project(db, {"slug": "bridges", "name": "Bridges", "names": {"fr": "Ponts"},
                                "start_date": "2026-01-01", "end_date": "2026-12-31"})
    catalogue.save_project(db, {"slug": "old-one", "name": "Old one"})
    db.execute("UPDATE projects SET archived = 1 WHERE slug = 'old-one'")
    db.conn.commit()
    for org in (host, visited, guest):
        catalogue.link_organisation(db, org.id, projects=["bridges"])
    # Saved out of order: the timeline sorts by date.
    _visit(db, "autumn-seminar", "bridges", "Autumn seminar", "2026-10-05", end="2026-10-07", kind="seminar",
           titles={"fr": "Séminaire d'automne"}, lat=50.06, lon=19.94, place="Kraków")
    _visit(db, "lyon-visit", "bridges", "Study visit to Lyon", "2026-03-01", lat=45.76, lon=4.83, place="Lyon",
           links={"programme": "https://example.org/prog", "bad": "javascript:alert(1)"})
    _visit(db, "online-kickoff", "bridges", "Online kick-off", "2026-01-15", kind="online")
    _role(db, host, "lyon-visit", "host")
    _role(db, visited, "lyon-visit", "visited")
    _role(db, guest, "lyon-visit", "participant")
    _role(db, host, "autumn-seminar", "participant")
    return {"host": host, "visited": visited, "guest": guest}


@pytest.fixture
def site(db_path, tmp_path, network):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": "https://map.example.org"})


def test_the_timeline_is_in_date_order_with_dates_in_french_and_a_fallback_note(site):
    page = site.test_client().get("/projects/bridges?lang=fr").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    order = [timeline.index(t) for t in ("Online kick-off", "Study visit to Lyon", "Séminaire d&#39;automne")]
    assert order == sorted(order)
    assert "15 janvier 2026" in timeline and "1 mars 2026" in timeline
    assert "5–7 oct. 2026" in timeline or "5 – 7 oct. 2026" in timeline
    # Two titles have no French version: their originals are shown with a note; the seminar has one.
    assert timeline.count('class="muted fallback-note"') == 2
    seminar = timeline[timeline.index("Séminaire"):]
    assert "fallback-note" not in seminar[:seminar.index("</li>")]
    lyon = timeline[timeline.index("Study visit to Lyon"):timeline.index("Séminaire")]
    assert "Hôte Lyon" in lyon and "Coop Visitée" in lyon and "Gość Kraków" in lyon
    assert 'href="https://example.org/prog"' in lyon and "javascript:" not in lyon
    assert 'id="events-places"' in page and "Subscribe" not in page  # translated link
    assert "/projects/bridges/events.ics?lang=fr" in page


def test_the_projects_index_lists_projects_not_archived_and_is_in_the_menu(site):
    client = site.test_client()
    home = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/projects"' in home
    page = client.get("/projects?lang=fr").get_data(as_text=True)
    assert "Ponts" in page and "Old one" not in page
    assert ">3<" in page  # members


def test_organisation_pages_say_what_each_did_in_each_visit(site, network):
    client = site.test_client()
    host = client.get(f"/organisations/{network['host'].slug}?lang=en").get_data(as_text=True)
    assert "Hosted" in host and "Study visit to Lyon" in host and "Took part in" in host
    guest = client.get(f"/organisations/{network['guest'].slug}?lang=en").get_data(as_text=True)
    assert "Took part in" in guest and "March 1, 2026" in guest
    visited = client.get(f"/organisations/{network['visited'].slug}?lang=fr").get_data(as_text=True)
    assert "Visité" in visited or "visite" in visited.lower()


def test_api_visits_lists_the_visits_of_the_asked_projects(site, network):
    client = site.test_client()
    body = client.get("/api/visits?project=bridges&lang=fr").get_json()
    assert [v["slug"] for v in body["visits"]] == ["online-kickoff", "lyon-visit", "autumn-seminar"]
    seminar = body["visits"][2]
    assert seminar["title"] == "Séminaire d'automne" and seminar["kind"] == "seminar"
    assert seminar["end_date"] == "2026-10-07" and seminar["lat"] == 50.06
    lyon = body["visits"][1]
    assert {(o["name"], o["role"]) for o in lyon["organisations"]} == {
        ("Hôte Lyon", "host"), ("Coop Visitée", "visited"), ("Gość Kraków", "participant")}
    assert client.get("/api/visits").get_json()["total"] == 3  # all projects not archived
    assert client.get("/api/visits?project=old-one").get_json()["total"] == 0
    record = client.get(f"/api/organisations/{network['host'].slug}").get_json()
    assert {(v["slug"], v["role"]) for v in record["visits"]} == {("lyon-visit", "host"), ("autumn-seminar", "participant")}
    assert record["projects"][0]["slug"] == "bridges" and "relation" in record["projects"][0]


def test_the_calendar_parses_back_with_one_event_per_visit(site):
    client = site.test_client()
    response = client.get("/projects/bridges/events.ics?lang=fr")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"autumn-seminar@map.example.org", "lyon-visit@map.example.org",
                           "online-kickoff@map.example.org"}
    seminar = events["autumn-seminar@map.example.org"]
    assert str(seminar["SUMMARY"]) == "Séminaire d'automne"
    assert seminar.decoded("DTSTART").isoformat() == "2026-10-05"
    assert seminar.decoded("DTEND").isoformat() == "2026-10-08"  # all day: the day after the last
    assert seminar["GEO"].latitude == 50.06
    assert str(seminar["URL"]) == "https://map.example.org/projects/bridges"
    assert "seminar" in seminar["CATEGORIES"].to_ical().decode()
    again = client.get("/projects/bridges/events.ics?lang=fr", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_crlf_in_a_title_cannot_add_properties_to_the_calendar(db, site):
    _visit(db, "hostile", "bridges", "Evil\r\nDTSTART:19990101\r\nATTACH:http://x/" + HOSTILE, "2026-05-01",
           place="Here\r\nX-INJECTED:1")
    body = site.test_client().get("/projects/bridges/events.ics").data
    cal = icalendar.Calendar.from_ical(body)
    evil = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("hostile@"))
    assert "ATTACH" not in evil and "X-INJECTED" not in evil
    assert evil.decoded("DTSTART").isoformat() == "2026-05-01"
    assert b"\r\nDTSTART:19990101" not in body and b"\r\nX-INJECTED" not in body
    assert "\ufffe" not in body.decode()


def test_hostile_visit_fields_stay_text_on_every_page(db, site, network):
    _visit(db, "hostile", "bridges", HOSTILE, "2026-05-01", place=HOSTILE, lat=45.0, lon=4.0,
           descriptions={"en": HOSTILE})
    _role(db, network["host"], "hostile", "host")
    client = site.test_client()
    for url in ("/projects/bridges?lang=en", f"/organisations/{network['host'].slug}?lang=en", "/projects"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
    for url in ("/projects/bridges?lang=en", f"/organisations/{network['host'].slug}?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert "{{ 7*7 }}" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_api_visits_is_described_in_openapi_and_answers_as_described(site):
    import jsonschema
    from openapi_spec_validator import validate

    client = site.test_client()
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert "/api/visits" in document["paths"]
    jsonschema.validate(client.get("/api/visits").get_json(), document["components"]["schemas"]["Visits"])
    again = client.get("/api/visits", headers={"If-None-Match": client.get("/api/visits").headers["ETag"]})
    assert again.status_code == 304  # cacheable with the catalogue's state key


def test_exports_name_each_organisations_projects_with_its_relation_and_its_visits(db, site, network):
    import csv
    import io

    from openpyxl import load_workbook

    db.execute("UPDATE project_organisations SET relation = 'partner' WHERE organisation_id = ?", [network["host"].id])
    db.conn.commit()
    client = site.test_client()
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(client.get("/api/organisations.csv").get_data().decode("utf-8-sig")))}
    assert rows["hote-lyon"]["projects"] == "bridges (partner)"
    assert rows["hote-lyon"]["visits"] == "lyon-visit (host); autumn-seminar (participant)"
    sheet = load_workbook(io.BytesIO(client.get("/api/organisations.xlsx").data)).active
    header = [c.value for c in sheet[1]]
    found = {r[header.index("slug")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert found["gosc-krakow"][header.index("visits")] == "lyon-visit (participant)"
    features = {f["properties"]["slug"]: f["properties"] for f in client.get("/api/organisations.geojson").get_json()["features"]}
    assert features["hote-lyon"]["projects"] == [{"slug": "bridges", "relation": "partner"}]
    assert {"slug": "lyon-visit", "role": "host"} in features["hote-lyon"]["visits"]


def test_the_organisation_json_ld_has_its_projects_and_its_visits_as_events(site, network):
    import re

    page = site.test_client().get(f"/organisations/{network['guest'].slug}?lang=fr").get_data(as_text=True)
    node = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert node["memberOf"] == [{"@type": "Project", "identifier": "bridges", "name": "Bridges"}]
    [event] = node["event"]
    assert event["@type"] == "Event" and event["name"] == "Study visit to Lyon"
    assert event["startDate"] == "2026-03-01" and event["endDate"] == "2026-03-01"
    assert event["location"]["geo"] == {"@type": "GeoCoordinates", "latitude": 45.76, "longitude": 4.83}
    assert [o["name"] for o in event["organizer"]] == ["Hôte Lyon"]
    assert [o["name"] for o in event["attendee"]] == ["Gość Kraków"]
    assert event["organizer"][0]["url"].endswith("/organisations/hote-lyon")


def test_murmurations_profiles_name_the_projects_and_still_validate(site, network):
    from test_murmurations import problems

    profile = site.test_client().get(f"/murmurations/organisations/{network['host'].slug}.json").get_json()
    assert problems(profile) == []
    assert profile["relationships"] == [{"predicate_url": "https://schema.org/memberOf",
                                         "object_url": "https://map.example.org/projects/bridges"}]
