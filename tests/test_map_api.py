"""The map's API: clusters, facets, the organisation list and summaries."""

import json

import pytest
from support import make_org

from mapapp import catalogue
from mapapp.filters import BBox, Filters
from mapapp.text import sort_key

WORLD = "-180,-90,180,90"


def clusters(client, query):
    response = client.get(f"/api/clusters?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def drawn_total(body):
    return sum(c[2] for c in body["clusters"]) + len(body["points"])


@pytest.mark.parametrize("filters", ["", "country=FR", "theme=AM40,AM60", "need=funding&country=IT,PL",
                                     "relation=visited", "project=demo-study-visits", "q=cooperative"])
@pytest.mark.parametrize("zoom", [2, 4, 6])
def test_clusters_at_low_zoom_add_up_to_the_filtered_total(demo_client, demo_db, filters, zoom):
    body = clusters(demo_client, f"bbox={WORLD}&zoom={zoom}&{filters}")
    expected = catalogue.count_organisations(
        demo_db,
        Filters.from_args(dict(p.split("=") for p in filters.split("&") if p)))
    assert body["total"] == expected
    assert drawn_total(body) == expected
    for lat, lon, count, (west, south, east, north), mix in body["clusters"]:
        assert count >= 2 and south <= lat <= north and west <= lon <= east
        assert 0 < sum(n for _category, n in mix) <= count


def test_points_at_high_zoom_are_exactly_the_filtered_organisations_in_the_bbox(demo_client, demo_db):
    box = "4.70,45.70,4.95,45.82"  # Lyon
    body = clusters(demo_client, f"bbox={box}&zoom=14&theme=AM10,AM40,AM60,AM70,AM80")
    assert body["clusters"] == []
    db = demo_db
    expected = catalogue.find_organisations(db, Filters(bbox=BBox(4.70, 45.70, 4.95, 45.82),
                                                        theme=("AM10", "AM40", "AM60", "AM70", "AM80")))
    assert expected
    assert sorted(p[0] for p in body["points"]) == sorted(o["slug"] for o in expected)
    for slug, name, lat, lon, _stale, _category in body["points"]:
        assert 45.70 <= lat <= 45.82 and 4.70 <= lon <= 4.95


def test_clusters_follow_writes_to_the_catalogue(app, db):
    client = app.test_client()
    assert clusters(client, f"bbox={WORLD}&zoom=3")["total"] == 0
    make_org(db, "New one")
    assert clusters(client, f"bbox={WORLD}&zoom=3")["total"] == 1
    db.execute("UPDATE organisations SET status = 'draft'")
    assert clusters(client, f"bbox={WORLD}&zoom=3")["total"] == 0


def test_answers_stay_small(app, db):
    with catalogue.write_transaction(db):
        catalogue.bulk_insert(db, [({"name": f"Org {i}", "lat": 40 + (i % 97) * 0.13, "lon": -5 + (i // 97) * 0.2,
                                     "status": "published", "country": "FR", "source": "t",
                                     "source_ref": str(i)}, catalogue.related_of()) for i in range(5000)],
                              catalogue.all_slugs(db))
    client = app.test_client()
    for zoom in range(2, 19):
        body = client.get(f"/api/clusters?bbox=-10,35,20,55&zoom={zoom}").get_data()
        assert len(body) <= 20_000, (zoom, len(body))
        assert drawn_total(json.loads(body)) == 5000


@pytest.mark.parametrize("query, parameter", [
    ("zoom=4", "bbox"), (f"bbox={WORLD}", "zoom"), (f"bbox={WORLD}&zoom=40", "zoom"),
    (f"bbox={WORLD}&zoom=four", "zoom"), (f"bbox={WORLD}&zoom=4&country=XX", "country"),
])
def test_clusters_errors_name_the_parameter(client, query, parameter):
    response = client.get(f"/api/clusters?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_facets_count_each_value_with_the_other_filters(demo_client, demo_db):
    db = demo_db
    body = demo_client.get("/api/facets?country=FR&theme=AM40").get_json()
    assert body["total"] == catalogue.count_organisations(db, Filters(country=("FR",), theme=("AM40",)))
    countries = {o["value"]: o["count"] for o in body["facets"]["country"]}
    # a country's count keeps the theme filter but not the country one (OR within a kind)
    assert countries["IT"] == catalogue.count_organisations(db, Filters(country=("IT",), theme=("AM40",)))
    themes = {o["value"]: o["count"] for o in body["facets"]["theme"]}
    assert themes["AM60"] == catalogue.count_organisations(db, Filters(country=("FR",), theme=("AM60",)))
    assert [o["value"] for o in body["facets"]["theme"]] == [f"AM{i}" for i in range(10, 170, 10)]
    west, south, east, north = body["bounds"]
    assert -5 < west < east < 10 and 41 < south < north < 52  # France


def test_facet_labels_follow_the_language(demo_client):
    body = demo_client.get("/api/facets?lang=el").get_json()
    labels = {o["value"]: o["label"] for o in body["facets"]["country"]}
    assert labels["CY"] == "Κύπρος"
    themes = {o["value"]: o["label"] for o in body["facets"]["theme"]}
    assert themes["AM40"] == "Εκπαίδευση"


def test_organisation_list_is_paginated_with_next_links(demo_client):
    first = demo_client.get("/api/organisations?limit=30").get_json()
    assert first["total"] == 76 and len(first["items"]) == 30
    second = demo_client.get(first["next"]).get_json()
    third = demo_client.get(second["next"]).get_json()
    assert third["next"] is None and len(third["items"]) == 16
    slugs = [o["slug"] for page in (first, second, third) for o in page["items"]]
    assert len(set(slugs)) == 76
    names = [o["name"] for page in (first, second, third) for o in page["items"]]
    assert names == sorted(names, key=lambda name: (sort_key(name), name))  # "Énergie…" among the E


def test_organisation_summary_and_translated_description(demo_client, demo_db):
    org = catalogue.find_organisations(demo_db, Filters(country=("PL",)))[0]
    body = demo_client.get(f"/api/organisations/{org['slug']}?lang=pl").get_json()
    assert body["name"] == org["name"] and body["country_name"] == "Polska"
    assert "fikcyjna" in body["description"]
    assert body["url"] == f"/organisations/{org['slug']}"
    assert "source_ref" not in body and "status" not in body
    assert demo_client.get("/api/organisations/no-such-org").status_code == 404


def test_matches_name_the_shared_resources_nearest_first(db):
    seeker = make_org(db, "Seeker", lat=45.76, lon=4.83, needs={"funding": "", "premises": ""},
                      offers={"training": ""})
    make_org(db, "Far funder", lat=52.4, lon=16.9, offers={"funding": ""})
    make_org(db, "Near funder", lat=45.75, lon=4.85, offers={"funding": "", "premises": ""})
    make_org(db, "Learner", lat=50.85, lon=4.35, needs={"training": ""})
    make_org(db, "Unrelated", offers={"volunteers": ""})
    make_org(db, "Hidden funder", status="draft", offers={"funding": ""})
    found = catalogue.matches(db, seeker.id)
    assert [m["name"] for m in found["offering"]] == ["Near funder", "Far funder"]
    assert found["offering"][0]["shared"] == ["funding", "premises"]
    assert [m["name"] for m in found["needing"]] == ["Learner"]


def test_organisation_page_carries_schema_org_json_ld(demo_client, demo_db):
    org = catalogue.find_organisations(demo_db, Filters(country=("BE",)))[0]
    html = demo_client.get(f"/organisations/{org['slug']}").get_data(as_text=True)
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    data = json.loads(raw)
    assert data["@type"] == ["Organization", "essglobal:SSEInitiative"] and data["name"] == org["name"]
    assert data["address"]["addressCountry"] == "BE"
    assert data["geo"]["latitude"] == org["lat"]
    assert data["url"].endswith(f"/organisations/{org['slug']}")


def test_json_ld_cannot_close_its_script(app, db):
    saved = make_org(db, "</script><script>alert(1)</script>")
    html = app.test_client().get(f"/organisations/{saved.slug}").get_data(as_text=True)
    assert "</script><script>alert(1)" not in html


def test_search_on_the_map_counts_only_published_matches(app, db):
    make_org(db, "Alpha bakery", lat=45.0, lon=5.0)
    make_org(db, "Beta bakery", status="draft")
    make_org(db, "Gamma bakery", lat=46.0, lon=5.5)
    make_org(db, "Delta garage", lat=46.5, lon=5.5)
    client = app.test_client()
    for _ in range(2):  # the second answer comes from the search cache
        body = search(client, "bakery")
        assert body["total"] == 2 and drawn_total(body) == 2
    assert client.get("/api/facets?q=bakery").get_json()["total"] == 2


def search(client, text):
    return clusters(client, f"bbox={WORLD}&zoom=4&q={text}")


def test_map_answers_are_shared_by_caches_and_asked_again_after_a_change(app, db, staff):
    from support import sign_in

    make_org(db, "First", lat=45.0, lon=5.0)
    client = app.test_client()
    url = "/api/clusters?zoom=5&bbox=-11.25,30.14512,30.9375,59.17593&lang=en"
    first = client.get(url)
    control = first.headers["Cache-Control"]
    assert control == "public, max-age=60, stale-while-revalidate=600"
    assert first.headers["Vary"] == "Accept-Encoding"  # the language is in the URL: one copy for all
    assert "Set-Cookie" not in first.headers  # nothing personal in what a shared cache keeps
    assert "Cookie" in client.get(url.replace("&lang=en", "")).headers["Vary"]  # else from a cookie, maybe
    # The same question in another order is the same answer, with the same validator.
    reordered = client.get("/api/clusters?lang=en&bbox=-11.25,30.14512,30.9375,59.17593&zoom=5",
                           headers={"If-None-Match": first.headers["ETag"]})
    assert reordered.status_code == 304 and reordered.headers["Cache-Control"] == control
    assert client.get("/api/organisations?lang=en").headers["Cache-Control"] == control
    assert client.get("/api/facets?lang=en").headers["Cache-Control"] == control
    assert client.get("/api/organisations.geojson").headers["Cache-Control"] == "no-cache"
    make_org(db, "Second", lat=45.1, lon=5.1)
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.get_json()["total"] == 2
    # Signed-in staff: never an answer a shared cache keeps.
    sign_in(client, "editor@example.org")
    assert client.get(url).headers["Cache-Control"] == "private, no-cache"
    assert client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).headers["Cache-Control"] == \
        "private, no-cache"
