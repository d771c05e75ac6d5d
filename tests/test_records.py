"""One public record per organisation and one function for its address: every format names
the same organisation at the same address, from the configured public address."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from pathlib import Path

import pytest
from flask import request, url_for
from rdflib import Graph, URIRef
from support import make_org

from mapapp import create_app, records

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://map.example.org"


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": PUBLIC})


def test_the_address_function_matches_the_organisation_route(site):
    for root in ("", "/map"):  # at the top of its host, or mounted under a path
        with site.test_request_context("/", base_url=f"http://localhost{root}"):
            assert request.script_root == root
            for slug in ("coop-alpha", "coop-alpha-2"):
                assert records.organisation_url(root, slug) == url_for("views.organisation", slug=slug)


def test_every_format_gives_an_organisation_the_same_public_address(site, db):
    make_org(db, "Coop Alpha", description="Bread and books", themes=["AM40"], website="https://alpha.example")
    page = f"{PUBLIC}/organisations/coop-alpha"
    client = site.test_client()
    exported = list(csv.DictReader(io.StringIO(client.get("/api/organisations.csv").get_data(as_text=True)
                                               .lstrip("\ufeff"))))
    assert [row["url"] for row in exported] == [page]
    html = client.get("/organisations/coop-alpha").get_data(as_text=True)
    node = json.loads(re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert node["url"] == page and node["name"] == "Coop Alpha"
    profile = client.get("/murmurations/organisations/coop-alpha.json").get_json()
    assert profile["unique_id"] == page and profile["urls"] == [{"name": "map", "url": page}]
    graph = Graph().parse(data=client.get("/api/organisations.ttl").get_data(as_text=True), format="turtle")
    assert {str(s) for s in graph.subjects()} >= {page}
    assert (URIRef(page), None, None) in graph
    assert page in client.get("/feed.atom").get_data(as_text=True)
    # Within the site (the API's lists, its GeoJSON, an organisation's JSON) the same path.
    listed = client.get("/api/organisations").get_json()["items"]
    one = client.get("/api/organisations/coop-alpha").get_json()
    feature = client.get("/api/organisations.geojson").get_json()["features"]
    assert [o["url"] for o in listed] == [one["url"]] == [f["properties"]["url"] for f in feature] \
        == ["/organisations/coop-alpha"]
    # And the same fields alike: the list's summary is the detail's and the feature's.
    summary = listed[0]
    assert {k: one[k] for k in summary} == summary
    assert {k: v for k, v in summary.items() if k not in ("lat", "lon")} == {
        k: v for k, v in feature[0]["properties"].items() if k not in ("projects", "visits")}  # the features add these


SERIALISERS = ("mapapp/geo.py", "mapapp/mapdata/exports.py", "mapapp/mapdata/linked.py",
               "mapapp/mapdata/murmurations.py", "mapapp/web/api.py", "mapapp/web/views.py",
               "mapapp/web/commons.py", "mapapp/web/feeds.py", "mapapp/web/mapcontext.py")


def test_no_serialiser_builds_an_organisation_address_of_its_own():
    for relative in SERIALISERS:
        tree = ast.parse((ROOT / relative).read_text(), relative)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and any(
                    isinstance(part, ast.Constant) and "/organisations/" in str(part.value) for part in node.values):
                pytest.fail(f"{relative}:{node.lineno} writes an organisation's address: use records.organisation_url")
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "url_for" \
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "views.organisation" \
                    and not any(isinstance(k.value, ast.Constant) and k.value.value == "SLUG" for k in node.keywords):
                pytest.fail(f"{relative}:{node.lineno} builds an organisation's address: use records.organisation_url")
