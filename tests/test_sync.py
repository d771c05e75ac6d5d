"""mapapp sync against sources served on 127.0.0.1: a CSV run twice (the second changes
nothing), then changed and shortened (updates applied, the missing reported, not deleted),
hand edits kept, GoGoCarto and Murmurations JSON, and broken sources (down, a web page
instead of data, nobody listed, a changed format) that change nothing."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import ServerThread

from mapapp import accounts, catalogue, create_app
from mapapp.catalogue import syncsources as store


class Sources:
    """Files served on 127.0.0.1: ``sources.files[path] = (media type, bytes)``."""

    def __init__(self):
        self.files: dict[str, tuple[str, bytes]] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path not in files:
                    self.send_response(404)
                    self.end_headers()
                    return
                media, body = files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.thread = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = self.thread.url


@pytest.fixture
def served():
    sources = Sources()
    with sources.thread:
        yield sources


@pytest.fixture
def site(db_path, tmp_path, db, served):
    # The test sources are on loopback, refused unless listed (port 9: one where nobody listens).
    allowed = f"{served.url.removeprefix('http://')},127.0.0.1:9"
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "UPLOAD_DIR": str(tmp_path / "uploads"),
                       "FETCH_ALLOW_HOSTS": allowed})


def wait_for_outcome(db, name: str, timeout: float = 20.0) -> dict:
    """The last outcome of a source pulled in the background, once its run is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = store.source(db, name)
        if found["last_outcome"] and found["running_since"] is None:
            return found["last_outcome"]
        time.sleep(0.1)
    raise AssertionError(f"the run of {name} did not finish")


CSV = ("id,name,city,country,website\n"
       "a1,Bread Coop,Lyon,FR,https://bread.example.org\n"
       "a2,Bike Workshop,Lyon,FR,\n"
       "a3,Food Bank,Villeurbanne,FR,\n")


def sync(site, *args):
    return site.test_cli_runner().invoke(args=["sync", *args])


def by_name(db) -> dict[str, dict]:
    return {r[0]: {"city": r[1], "status": r[2], "source": r[3]} for r in db.execute(
        "SELECT name, city, status, source FROM organisations")}


def test_a_csv_source_twice_then_changed_then_shortened(site, db, served):
    served.files["/orgs.csv"] = ("text/csv", CSV.encode())
    added = sync(site, "add", "partner-network", f"{served.url}/orgs.csv", "--status", "published")
    assert added.exit_code == 0, added.output
    first = sync(site, "run", "partner-network")
    assert first.exit_code == 0, first.output
    assert "3 created, 0 updated, 0 unchanged" in first.output
    assert {n: o["status"] for n, o in by_name(db).items()} == {"Bread Coop": "published", "Bike Workshop": "published",
                                                                "Food Bank": "published"}
    second = sync(site, "run")  # every source, as cron runs it
    assert "0 created, 0 updated, 3 unchanged" in second.output  # the second run: +0

    # Staff fix a city here; the source changes another and drops one organisation.
    staff, _ = accounts.create_user(db, "editor@example.org", "a long enough password 1", "editor")
    bread = db.execute("SELECT id FROM organisations WHERE name = 'Bread Coop'").fetchone()[0]
    before = catalogue.organisation_state(db, bread)
    with catalogue.write_transaction(db):
        db.execute("UPDATE organisations SET city = 'Lyon 1er' WHERE id = ?", [bread])
        accounts.audit(db, staff, "edit", bread, before, catalogue.organisation_state(db, bread))
    served.files["/orgs.csv"] = ("text/csv", ("id,name,city,country,website\n"
                                              "a1,Bread Coop,Lyon 2e,FR,https://bread.example.org/new\n"
                                              "a2,Bike Workshop,Vénissieux,FR,\n").encode())
    third = sync(site, "run", "partner-network")
    assert third.exit_code == 0, third.output
    assert "0 created, 2 updated" in third.output and "1 no longer in the source" in third.output
    assert "no longer in the source: Food Bank" in third.output
    assert ("organisations whose fields edited here stayed as they were (the source's values for those fields "
            "were not applied): 1") in third.output
    orgs = by_name(db)
    assert orgs["Bread Coop"]["city"] == "Lyon 1er"  # edited here: kept
    assert db.execute("SELECT website FROM organisations WHERE id = ?", [bread]).fetchone()[0] == \
        "https://bread.example.org/new"  # not edited here: follows the source
    assert orgs["Bike Workshop"]["city"] == "Vénissieux"
    assert orgs["Food Bank"]["status"] == "published"  # reported, not deleted
    outcome = store.source(db, "partner-network")["last_outcome"]
    assert outcome["ok"] and outcome["gone_count"] == 1 and outcome["gone"][0]["name"] == "Food Bank"
    # Each run is an import: undone from the staff area like any other.
    assert db.execute("SELECT count(*) FROM imports WHERE source = 'partner-network'").fetchone()[0] == 3


def test_broken_sources_change_nothing_and_say_why(site, db, served):
    served.files["/orgs.csv"] = ("text/csv", CSV.encode())
    sync(site, "add", "net", f"{served.url}/orgs.csv")
    assert sync(site, "run", "net").exit_code == 0
    stored = by_name(db)
    cases = {
        "/orgs.csv": ("text/html", b"<html><body>We moved!</body></html>", "web page"),
        "/empty": ("text/csv", b"id,name,city\n", "lists 0 organisations"),
        "/other": ("text/csv", b"code,label\n1,x\n", "no column holds the organisations' names"),
        "/missing": None,
    }
    for path, served_file in cases.items():
        if served_file:
            served.files[path] = served_file[:2]
        else:
            served.files.pop(path, None)
        sync(site, "add", "net", f"{served.url}{path}")
        result = sync(site, "run", "net")
        assert result.exit_code == 1, (path, result.output)
        assert (served_file[2] if served_file else "HTTP 404") in result.output, result.output
        assert by_name(db) == stored, path  # nothing changed, nothing deleted
    sync(site, "add", "net", "http://127.0.0.1:9/orgs.csv")
    down = sync(site, "run", "net")
    assert down.exit_code == 1 and "could not be fetched: no connection" in down.output
    assert not store.source(db, "net")["last_outcome"]["ok"]
    assert "must start with http" in sync(site, "add", "bad", "file:///etc/passwd").output
    assert "no source 'nope'" in sync(site, "run", "nope").output


def test_gogocarto_and_murmurations_sources(site, db, served):
    served.files["/api/elements.json"] = ("application/json", json.dumps({"ontology": "gogofull", "data": [
        {"id": "g1", "name": "Recyclerie du Var", "geo": {"latitude": 43.12, "longitude": 5.93},
         "address": {"streetAddress": "1 rue Vieille", "addressLocality": "Toulon", "postalCode": "83000",
                     "addressCountry": "FR"}, "website": "https://recyclerie.example.org",
         "description": "<script>alert(1)</script>"}]}).encode())
    served.files["/v2/nodes"] = ("application/json", json.dumps({"data": [
        {"profile_url": "https://elsewhere.example.org/p/1.json", "name": "Cooperativa Sociale", "locality": "Bologna",
         "country": "IT", "latitude": 44.49, "longitude": 11.34, "primary_url": "https://coop.example.org",
         "status": "posted"},
        {"profile_url": "https://elsewhere.example.org/p/2.json", "name": "Gone", "status": "deleted"}]}).encode())
    sync(site, "add", "transiscope", f"{served.url}/api/elements.json")  # format told from the answer
    sync(site, "add", "murmurations", f"{served.url}/v2/nodes", "--format", "murmurations")
    result = sync(site, "run")
    assert result.exit_code == 0, result.output
    rows = {r[0]: r[1:] for r in db.execute("SELECT name, city, country, lat, source, source_ref, description"
                                            " FROM organisations")}
    assert rows["Recyclerie du Var"][:5] == ("Toulon", "FR", 43.12, "transiscope", "g1")
    assert rows["Recyclerie du Var"][5] == "<script>alert(1)</script>"  # text, shown escaped everywhere
    assert rows["Cooperativa Sociale"][:5] == ("Bologna", "IT", 44.49, "murmurations",
                                               "https://elsewhere.example.org/p/1.json")
    assert "Gone" not in rows
    again = sync(site, "run")
    assert again.output.count("0 created, 0 updated, 1 unchanged") == 2


def test_an_essglobal_csv_from_another_map_keeps_its_points_and_identifiers(site, db, served, tmp_path):
    from mapapp.mapdata import exports

    other = [{"slug": "forno-sociale", "name": "Forno Sociale", "description": "", "structure": "OS60",
              "themes": ["AM60"], "street": "Via Po 1", "city": "Torino", "region": "", "postcode": "10124",
              "country": "IT", "website": "https://forno.example.org", "phone": "", "email": "",
              "lat": 45.0703, "lon": 7.6869}]
    served.files["/essglobal.csv"] = ("text/csv", exports.to_essglobal(other, lang="en", base_url=""))
    sync(site, "add", "other-map", f"{served.url}/essglobal.csv", "--format", "essglobal")
    result = sync(site, "run", "other-map")
    assert result.exit_code == 0, result.output
    name, lat, lon, ref = db.execute("SELECT name, lat, lon, source_ref FROM organisations").fetchone()
    assert (name, round(lat, 4), round(lon, 4), ref) == ("Forno Sociale", 45.0703, 7.6869, "forno-sociale")
    assert "0 created, 0 updated, 1 unchanged" in sync(site, "run", "other-map").output


def test_staff_add_run_and_forget_a_source_from_the_staff_area(site, db, served, staff, worker_for):
    from support import csrf_from, sign_in

    served.files["/orgs.csv"] = ("text/csv", CSV.encode())
    client = site.test_client()
    assert client.get("/admin/sources").status_code in (302, 401)  # staff only
    sign_in(client, "admin@example.org")
    page = client.get("/admin/sources?lang=en").get_data(as_text=True)
    assert "No source yet." in page
    token = csrf_from(page)
    refused = client.post("/admin/sources", data={"csrf_token": token, "action": "save", "name": "bad name!",
                                                  "url": f"{served.url}/orgs.csv"})
    assert refused.status_code == 400 and "name must be" in refused.get_data(as_text=True)
    client.post("/admin/sources", data={"csrf_token": token, "action": "save", "name": "partners",
                                        "url": f"{served.url}/orgs.csv", "format": "csv", "status": "draft"})
    started = client.post("/admin/sources", data={"csrf_token": token, "action": "run", "name": "partners"},
                          follow_redirects=True).get_data(as_text=True)
    assert "partners is being pulled in the background" in started  # not inside the request
    waiting = client.get("/admin/sources?lang=en").get_data(as_text=True)
    assert "Waiting for the job worker" in waiting and "start it with `mapapp worker`" in waiting
    with worker_for(site):  # the job worker pulls it
        assert wait_for_outcome(db, "partners")["ok"]
    assert "3 created, 0 updated" in client.get("/admin/sources?lang=en").get_data(as_text=True)  # the last run
    assert client.get("/admin/sources").headers["Cache-Control"] == "no-store"
    french = client.get("/admin/sources?lang=fr").get_data(as_text=True)
    assert "3 créées, 0 mises à jour, 0 inchangées, 0 ignorées" in french  # the last run, in the staff's language
    client.post("/admin/sources", data={"csrf_token": token, "action": "remove", "name": "partners"})
    assert store.sources(db) == [] and catalogue.organisation_count(db) == 3  # its organisations stay
    assert client.post("/admin/sources", data={"action": "run", "name": "partners"}).status_code == 400  # no CSRF token


def test_a_geojson_export_of_another_map_told_from_its_answer(site, db, served):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.3517, 50.8503]},
         "properties": {"id": "b-1", "name": "Brussels Food Commons", "city": "Brussels", "country": "BE"}}]}
    served.files["/export"] = ("application/json", json.dumps(collection).encode())
    sync(site, "add", "umap-export", f"{served.url}/export")
    result = sync(site, "run", "umap-export")
    assert result.exit_code == 0 and "1 created" in result.output, result.output
    assert db.execute("SELECT name, lat, lon, source_ref FROM organisations").fetchone() == (
        "Brussels Food Commons", 50.8503, 4.3517, "b-1")
