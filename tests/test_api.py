import pytest
from support import make_org

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_geojson_is_a_feature_collection_in_lon_lat_order(app, db):
    make_org(db, "Lyon Coop", lat=45.764, lon=4.8357, themes=["AM60"])
    response = app.test_client().get("/api/organisations.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [4.8357, 45.764]}
    props = feature["properties"]
    assert props["name"] == "Lyon Coop"
    assert props["country"] == "FR" and props["country_name"] == "France"
    assert props["themes"] == ["AM60"] and props["theme_labels"] == ["Food"]
    assert props["url"] == "/organisations/lyon-coop"


def test_geojson_lists_only_published_located_organisations(app, db):
    make_org(db, "Shown")
    make_org(db, "Draft", status="draft")
    make_org(db, "Archived", status="archived")
    make_org(db, "Nowhere", lat=None, lon=None)
    features = app.test_client().get("/api/organisations.geojson").get_json()["features"]
    assert [f["properties"]["name"] for f in features] == ["Shown"]


def test_demo_geojson_points_are_where_their_countries_are(demo_client):
    # Rough country boxes: enough to catch swapped coordinates or a wrong country.
    boxes = {"FR": (42, -5, 51.5, 8.5), "BE": (49.4, 2.5, 51.6, 6.5), "IT": (36, 6.5, 47.2, 18.6),
             "PL": (49, 14, 55, 24.2), "CY": (34.5, 32.2, 35.8, 34.7)}
    features = demo_client.get("/api/organisations.geojson").get_json()["features"]
    assert len(features) >= 60
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        min_lat, min_lon, max_lat, max_lon = boxes[f["properties"]["country"]]
        assert min_lat <= lat <= max_lat and min_lon <= lon <= max_lon, f["properties"]["name"]


def test_geojson_takes_filters(demo_client):
    features = demo_client.get("/api/organisations.geojson?country=cy&theme=AM10,AM20").get_json()["features"]
    assert features
    for f in features:
        assert f["properties"]["country"] == "CY"
        assert set(f["properties"]["themes"]) & {"AM10", "AM20"}


@pytest.mark.parametrize("query, parameter", [
    ("country=Belgique", "country"),
    ("theme=AM999", "theme"),
    ("need=money", "need"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=5,40,1,45", "bbox"),
    ("project=Bad%20Slug", "project"),
])
def test_bad_filters_get_one_error_shape_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/organisations.geojson?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and body["parameter"] == parameter
    assert body["error"].startswith(parameter)


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "error": "no API endpoint at /api/nothing-here",
                                   "status": 404}


def test_hostile_text_is_returned_as_data_with_nosniff(app, db):
    make_org(db, HOSTILE)
    response = app.test_client().get("/api/organisations.geojson")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["features"][0]["properties"]["name"] == HOSTILE
