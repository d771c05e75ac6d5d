"""Murmurations: every published organisation, and each of its needs and offers, is a profile
valid against the Murmurations library's own schemas (tests/vendor/murmurations), and
``mapapp murmurations register`` posts them to an index, here a fake one on 127.0.0.1 that
fetches each profile and validates it as the real index does."""

from __future__ import annotations

import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from support import ServerThread, make_org

from mapapp import catalogue, create_app

LIBRARY = Path(__file__).parent / "vendor" / "murmurations"
BASE = "https://test-library.murmurations.network/v2/"


def validator(schema_name: str) -> jsonschema.Draft7Validator:
    """A validator of the library's schema, its ``../fields/*.json`` references read from disk."""
    resources = [(BASE + "fields/" + p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
                 for p in (LIBRARY / "fields").glob("*.json")]
    schema = json.loads((LIBRARY / "schemas" / f"{schema_name}.json").read_text())
    return jsonschema.Draft7Validator(schema, registry=Registry().with_resources(resources))


def problems(profile: dict) -> list[str]:
    found = []
    for name in profile.get("linked_schemas", []):
        found += [f"{name}: {e.json_path}: {e.message}" for e in validator(name).iter_errors(profile)]
    return found or ([] if profile.get("linked_schemas") else ["no linked_schemas"])


class FakeIndex:
    """POST /v2/nodes {"profile_url"}: fetch the profile, validate it, answer as the index."""

    def __init__(self, refuse: bool = False):
        self.received: list[tuple[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                url = body["profile_url"]
                with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - the test's own server
                    profile = json.loads(r.read())
                errors = problems(profile) + (["this index refuses everything"] if refuse else [])
                outer.received.append((url, errors))
                status, answer = (400, {"errors": [{"detail": e} for e in errors]}) if errors else (
                    200, {"data": {"node_id": f"node-{len(outer.received)}", "profile_url": url, "status": "received"}})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.thread = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = self.thread.url + "/v2"

    def __enter__(self):
        self.thread.__enter__()
        return self

    def __exit__(self, *exc):
        self.thread.__exit__(*exc)


@pytest.fixture
def network(db):
    make_org(db, "Forno Sociale", country="IT", city="Torino", themes=["AM60"], website="https://forno.example.org",
             email="forno@example.org", phone="+39 011 123456", needs={"premises": "a bakery"},
             offers={"training": "bread making"}, street="Via Po 1", postcode="10124")
    make_org(db, '<script>alert(1)</script> "Coop" ' + "x" * 250, country="FR", lat=None, lon=None,
             offers={"funding": ""})  # no place, no e-mail, a name longer than the schema allows
    make_org(db, "Draft Coop", status="draft")


def test_every_profile_is_valid_against_the_murmurations_schemas(app, db, network):
    client = app.test_client()
    forno = client.get("/murmurations/organisations/forno-sociale.json").get_json()
    assert problems(forno) == []
    assert forno["name"] == "Forno Sociale" and forno["geolocation"] == {"lat": 45.76, "lon": 4.84}
    assert forno["primary_url"] == "https://forno.example.org" and forno["country_iso_3166"] == "IT"
    assert forno["tags"] == ["Food"] and "Via Po 1" in forno["full_address"]
    want = client.get("/murmurations/organisations/forno-sociale/want/premises.json").get_json()
    assert problems(want) == [] and want["exchange_type"] == "want" and want["description"] == "a bakery"
    offer = client.get("/murmurations/organisations/forno-sociale/offer/training.json").get_json()
    assert problems(offer) == [] and offer["exchange_type"] == "offer"
    slug = db.execute("SELECT slug FROM organisations WHERE name LIKE '<script>%'").fetchone()[0]
    hostile = client.get(f"/murmurations/organisations/{slug}.json").get_json()
    assert problems(hostile) == [] and hostile["name"].startswith("<script>")  # data, as text, cut to 200
    assert problems(client.get(f"/murmurations/organisations/{slug}/offer/funding.json").get_json()) == []
    assert client.get("/murmurations/organisations/forno-sociale/offer/premises.json").status_code == 404
    assert client.get("/murmurations/organisations/draft-coop.json").status_code == 404


def test_register_posts_every_profile_and_the_index_accepts_them(db_path, db, tmp_path, network, live_server_for):
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    with live_server_for(app) as server, FakeIndex() as index:
        app.config["PUBLIC_URL"] = server.url
        app.config["FETCH_ALLOW_HOSTS"] = index.url.removeprefix("http://").split("/")[0]  # loopback: listed
        result = app.test_cli_runner().invoke(args=["murmurations", "register", "--index", index.url])
        assert result.exit_code == 0, result.output
        assert "5 profile(s) registered, 0 refused" in result.output  # 2 organisations, 3 needs and offers
        assert all(errors == [] for _url, errors in index.received)
        assert {u.split("/murmurations/")[1] for u, _ in index.received} >= {
            "organisations/forno-sociale.json", "organisations/forno-sociale/want/premises.json"}
    with live_server_for(app) as server, FakeIndex(refuse=True) as index:
        app.config["PUBLIC_URL"] = server.url
        app.config["FETCH_ALLOW_HOSTS"] = index.url.removeprefix("http://").split("/")[0]  # loopback: listed
        refused = app.test_cli_runner().invoke(args=["murmurations", "register", "--index", index.url, "--limit", "1"])
        assert refused.exit_code == 1 and "refuses everything" in refused.output and "0 profile(s) registered" in refused.output
    app.config["FETCH_ALLOW_HOSTS"] = "127.0.0.1:9"  # listed, and nobody listens there
    unreachable = app.test_cli_runner().invoke(args=["murmurations", "register", "--index", "http://127.0.0.1:9/v2",
                                                     "--limit", "1"])
    assert unreachable.exit_code == 1 and "could not be reached" in unreachable.output
    app.config["PUBLIC_URL"] = ""
    assert "MAPAPP_PUBLIC_URL" in app.test_cli_runner().invoke(args=["murmurations", "register"]).output
    assert catalogue.organisation_count(db) == 3
