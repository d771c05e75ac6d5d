"""Embedding, API HTTP behaviour, OpenAPI and open-data exports."""

import csv
import gzip
import io
import json

import geopandas as gpd
import jsonschema
import openpyxl
import pytest
from openapi_spec_validator import validate
from support import make_org

from mapapp import catalogue, geo
from mapapp.filters import Filters
from mapapp.mapdata import exports


@pytest.mark.parametrize("path, framable", [
    ("/", False), ("/organisations", False), ("/api/organisations", False), ("/embed/builder", False),
    ("/healthz", False), ("/embed", True), ("/embed?country=IT&lock=country&controls=0", True),
])
def test_only_the_embed_may_be_framed(demo_client, path, framable):
    response = demo_client.get(path)
    csp = response.headers["Content-Security-Policy"]
    if framable:
        assert "frame-ancestors *" in csp and "X-Frame-Options" not in response.headers
    else:
        assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY"


def test_frame_ancestors_allowlist_is_configurable(demo_db_path):
    from mapapp import create_app

    app = create_app({"DATABASE": str(demo_db_path), "EMBED_FRAME_ANCESTORS": "https://partner.example"})
    csp = app.test_client().get("/embed").headers["Content-Security-Policy"]
    assert "frame-ancestors https://partner.example" in csp


def test_api_allows_any_origin_without_credentials(demo_client):
    response = demo_client.get("/api/organisations", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    error = demo_client.get("/api/clusters")
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == "*"


def test_conditional_requests_get_304_until_the_catalogue_changes(app, db):
    make_org(db, "First")
    client = app.test_client()
    first = client.get("/api/organisations.geojson")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/api/organisations.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/api/organisations.geojson", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/api/organisations.geojson?country=FR", headers={"If-None-Match": etag}).status_code == 200
    make_org(db, "Second")
    changed = client.get("/api/organisations.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.get_json()["features"]) == 2


def test_json_and_geojson_are_gzipped_when_accepted(demo_client):
    plain = demo_client.get("/api/organisations.geojson")
    zipped = demo_client.get("/api/organisations.geojson", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(zipped.get_data())) == plain.get_json()
    assert zipped.headers["ETag"] != plain.headers["ETag"]


def test_openapi_document_is_valid_and_describes_real_answers(demo_client, demo_db):
    document = demo_client.get("/api/openapi.json").get_json()
    validate(document)
    schemas = document["components"]["schemas"]

    def check(path, name):
        body = demo_client.get(path).get_json()
        schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        jsonschema.Draft202012Validator(schema).validate(body)

    slug = catalogue.find_organisations(demo_db, Filters())[0]["slug"]
    check("/api/clusters?bbox=-180,-90,180,90&zoom=3", "Clusters")
    check("/api/clusters?bbox=4.7,45.7,4.95,45.82&zoom=14", "Clusters")
    check("/api/facets?country=IT", "Facets")
    check("/api/organisations?limit=5&theme=AM40", "OrganisationPage")
    check(f"/api/organisations/{slug}", "Organisation")
    check("/api/organisations.geojson", "FeatureCollection")
    check("/api/vocabularies?lang=nl", "Vocabularies")
    check("/api/categories?lang=el&country=IT", "Categories")
    check("/api/clusters?bbox=1,2,3&zoom=3", "Error")
    documented = set(document["paths"])
    routes = {r.rule for r in demo_client.application.url_map.iter_rules()
              if r.rule.startswith("/api/") and "<path:" not in r.rule}
    formats = ("csv", "xlsx", "gpkg", "html", "essglobal.csv", "jsonld", "ttl")
    exports_rule = f"/api/organisations.<any({', '.join(formats)}):fmt>"
    expected = (routes - {exports_rule, "/api/organisations/<slug>"}) | {
        "/api/organisations/{slug}", *(f"/api/organisations.{f}" for f in formats)}
    assert expected == documented  # every endpoint is described, and nothing else


def test_demo_geojson_points_lie_in_their_countries(demo_client):
    for feature in demo_client.get("/api/organisations.geojson").get_json()["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert geo.in_country(feature["properties"]["country"], lat, lon), feature["properties"]["name"]


EVIL = "=HYPERLINK(\"http://evil.example\",\"click\")"


def test_csv_and_xlsx_neutralise_formulas_but_keep_numbers(app, db):
    make_org(db, EVIL, city="+33 Lyon", lat=45.76, lon=4.83)
    client = app.test_client()
    rows = list(csv.DictReader(io.StringIO(client.get("/api/organisations.csv").get_data().decode("utf-8-sig"))))
    assert rows[0]["name"] == "'" + EVIL and rows[0]["city"] == "'+33 Lyon" and rows[0]["lat"] == "45.76"
    book = openpyxl.load_workbook(io.BytesIO(client.get("/api/organisations.xlsx").get_data()))
    header, values = [c.value for c in book.active[1]], [c.value for c in book.active[2]]
    record = dict(zip(header, values))
    assert record["name"] == "'" + EVIL and record["lat"] == 45.76 and isinstance(record["lon"], float)
    essglobal = client.get("/api/organisations.essglobal.csv").get_data().decode()
    assert "'" + EVIL.replace('"', '""') in essglobal


def test_geopackage_reads_back_as_exported(demo_db):
    orgs = catalogue.export_organisations(demo_db, Filters(country=("PL",)))
    data = exports.export(orgs, "gpkg", lang="en", base_url="http://x")
    frame = gpd.read_file(io.BytesIO(data), layer="organisations")
    assert frame.crs.to_epsg() == 4326
    assert sorted(frame["name"]) == sorted(o["name"] for o in orgs)
    by_name = {o["name"]: o for o in orgs}
    for _, row in frame.iterrows():
        org = by_name[row["name"]]
        assert (row.geometry.x, row.geometry.y) == pytest.approx((org["lon"], org["lat"]))
        assert row["themes"] == "; ".join(org["themes"])


def test_essglobal_csv_uses_vocabulary_uris(demo_client):
    rows = list(csv.DictReader(io.StringIO(demo_client.get("/api/organisations.essglobal.csv?country=CY").get_data().decode())))
    assert rows and all(r["Country ID"] == "CY" for r in rows)
    assert rows[0]["Organisational Structure"].startswith("http://purl.org/essglobal/standard/organisational-structure/OS")
    assert all(a.startswith("http://purl.org/essglobal/standard/activities-modified/AM") for a in rows[0]["Activities"].split(";"))


def test_export_command(runner, db, tmp_path):
    make_org(db, "Exported", themes=["AM40"])
    make_org(db, "Filtered out", country="BE", source_ref="b")
    out = tmp_path / "out.geojson"
    result = runner.invoke(args=["export", "--format", "geojson", "--filters", "country=FR", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [f["properties"]["name"] for f in json.loads(out.read_text())["features"]] == ["Exported"]
    bad = runner.invoke(args=["export", "--format", "csv", "--filters", "country=Nowhere", "-o", str(out)])
    assert bad.exit_code == 1 and "--filters: country" in bad.output


def test_oembed_for_map_and_organisation_urls(demo_client, demo_db):
    body = demo_client.get("/oembed?url=http://localhost/?country=IT%26theme=AM40").get_json()
    assert body["type"] == "rich" and body["version"] == "1.0"
    assert 'src="http://localhost/embed?country=IT&amp;theme=AM40' in body["html"] and 'loading="lazy"' in body["html"]
    org = catalogue.find_organisations(demo_db, Filters())[0]
    body = demo_client.get(f"/oembed?url=http://localhost/organisations/{org['slug']}").get_json()
    assert body["title"] == org["name"] and f"focus={org['slug']}" in body["html"]
    assert demo_client.get("/oembed?url=https://elsewhere.example/").status_code == 404
    assert demo_client.get("/oembed?url=http://localhost/&format=xml").status_code == 501


def test_embed_refuses_a_lock_without_values_in_the_language(demo_client):
    response = demo_client.get("/embed?lock=country&lang=fr")
    assert response.status_code == 400
    assert "country" in response.get_data(as_text=True) and 'lang="fr"' in response.get_data(as_text=True)


def test_embed_offers_only_the_locked_values_and_can_hide_controls(demo_client):
    page = demo_client.get("/embed?country=IT&lock=country").get_data(as_text=True)
    assert 'name="country" value="IT"' in page and 'name="country" value="FR"' not in page
    assert 'name="theme" value="AM40"' in page  # other filters narrow within the lock
    bare = demo_client.get("/embed?country=IT&lock=country&controls=0").get_data(as_text=True)
    assert "embed-bar" not in bare and "Open the full map" in bare


def test_embed_says_so_when_the_catalogue_is_unreachable(tmp_path):
    from mapapp import create_app

    blocker = tmp_path / "file"
    blocker.write_text("x")
    app = create_app({"DATABASE": str(blocker / "c.db")})
    response = app.test_client().get("/embed?lang=it")
    assert response.status_code == 503
    assert "non è disponibile" in response.get_data(as_text=True)


def test_the_xlsx_has_a_frozen_filterable_header_and_sized_columns(app, db):
    make_org(db, "Coop Alpha", phone="+33 1 23 45 67 89")
    make_org(db, "Coop Beta", city="Gent", country="BE")
    book = openpyxl.load_workbook(io.BytesIO(app.test_client().get("/api/organisations.xlsx").get_data()))
    sheet = book["organisations"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:V3"  # no e-mail and phone by default; visits after projects
    assert sheet["A1"].font.b and sheet.column_dimensions["B"].width > 30
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["Coop Alpha", "Coop Beta"]
    header = [c.value for c in sheet[1]]
    assert "phone" not in header and "+33 1 23 45 67 89" not in [c.value for c in sheet[2]]
