"""The public API and pages under abuse: expensive exports, odd methods, huge numbers,
malformed addresses, parallel searches."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import numpy as np
from support import make_org, sign_in

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.mapdata import exports, mapindex


def counted(monkeypatch, module, name: str) -> list:
    """Count the calls of ``module.name`` (each appends to the list returned)."""
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    return calls


def test_an_export_is_computed_once_per_catalogue_version(app, db, monkeypatch):
    make_org(db, "Coop Alpha")
    calls = counted(monkeypatch, catalogue, "iter_export_batches")
    client = app.test_client()
    first = client.get("/api/organisations.csv")
    assert first.status_code == 200 and b"Coop Alpha" in first.data  # read whole: kept as it was sent
    again = client.get("/api/organisations.csv")
    assert again.status_code == 200 and first.data == again.data and len(calls) == 1
    streamed = client.get("/api/organisations.csv", buffered=False)
    assert not isinstance(streamed.response, list)  # sent from the file, not built in memory
    streamed.close()
    make_org(db, "Coop Beta")
    changed = client.get("/api/organisations.csv")
    assert len(calls) == 2 and b"Coop Beta" in changed.data
    kept = list((Path(app.config["CACHE_DIR"]) / "exports").glob("v*.csv"))
    assert len(kept) == 1  # the older version's file is gone


def test_parallel_requests_for_the_same_export_compute_it_once(app, db, monkeypatch):
    make_org(db, "Coop Alpha")
    calls = []
    real = exports.write
    gate = threading.Event()

    def slow_export(*args, **kwargs):
        calls.append(1)
        gate.wait(2)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "write", slow_export)
    bodies = []

    def fetch():
        bodies.append(app.test_client().get("/api/organisations.gpkg").data)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(30)
    assert len(calls) == 1 and len(set(bodies)) == 1 and len(bodies) == 6


def test_the_html_map_is_bounded(app, db, monkeypatch):
    for n in range(4):
        make_org(db, f"Coop {n}")
    monkeypatch.setattr(exports, "MAX_HTML_ORGANISATIONS", 3)
    response = app.test_client().get("/api/organisations.html")
    body = response.get_json()
    assert response.status_code == 413 and body["ok"] is False
    assert "at most 3 organisations" in body["error"] and "GeoJSON" in body["error"]
    assert app.test_client().get("/api/organisations.html?q=Coop+1").status_code == 200


def test_exports_name_one_charset(app, db):
    make_org(db, "Coop Alpha")
    for fmt in ("csv", "essglobal.csv", "html"):
        content_type = app.test_client().get(f"/api/organisations.{fmt}").headers["Content-Type"]
        assert content_type.count("charset") == 1, content_type


def test_posting_to_the_api_answers_its_json_error(app):
    for url in ("/api/organisations", "/api/clusters", "/api/organisations.csv"):
        response = app.test_client().post(url)
        assert response.status_code == 405 and response.get_json() == {
            "ok": False, "error": "the API is read-only: use GET", "status": 405}
        assert "GET" in response.headers["Allow"]


def test_twenty_digit_numbers_are_refused_not_crashed_on(app, demo_client, db):
    huge = "9" * 20
    assert demo_client.get(f"/organisations?page={huge}").status_code == 400
    response = demo_client.get(f"/api/organisations?offset={huge}")
    assert response.status_code == 400 and response.get_json()["parameter"] == "offset"
    assert demo_client.get(f"/embed?height={huge}").status_code == 400
    from mapapp import accounts
    accounts.create_user(db, "admin@example.org", "correct horse battery staple", "admin")
    client = app.test_client()
    sign_in(client, "admin@example.org")
    assert client.get(f"/admin/organisations?page={huge}").status_code == 400
    for url in (f"/admin/organisations/{huge}/edit", f"/admin/imports/{huge}", f"/admin/imports/{huge}/preview"):
        assert client.get(url).status_code == 404, url


def test_a_malformed_oembed_address_is_a_400(demo_client):
    for url in ("http://[::1", "http://localhost:99999/", "http://localhost:port/"):
        response = demo_client.get("/oembed", query_string={"url": url})
        assert response.status_code == 400, url
        assert response.get_json()["parameter"] == "url"


def test_the_search_cache_survives_parallel_searches(demo_db_path):
    db = catalogue.connect(demo_db_path)
    snapshot = mapindex.load(db)
    db.close()
    errors = []
    words = ["coop", "lyon", "bio", "café", "social", "atelier", "food", "wood", "solar", "craft"]

    def search(n: int) -> None:
        conn = catalogue.connect(demo_db_path)
        try:
            for i in range(200):
                bits = mapindex.search_bits(snapshot, f"{words[(n + i) % 10]} {i % 90}", conn)
                assert bits.dtype == np.uint64 and len(bits) == -(-snapshot.size // 64)
        except Exception as e:  # any failure in a thread is the test's failure
            errors.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=search, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(snapshot.searches) == mapindex.SEARCHES_KEPT


def test_search_results_agree_with_the_catalogue(demo_db):
    db = demo_db
    snapshot = mapindex.load(db)
    found = mapindex.unpack(mapindex.search_bits(snapshot, "coop", db), snapshot.size)
    assert int(found.sum()) == catalogue.count_organisations(db, Filters(q="coop"))


def test_mapapp_export_says_when_the_html_map_would_be_too_large(runner, db, tmp_path, monkeypatch):
    for n in range(3):
        make_org(db, f"Coop {n}")
    monkeypatch.setattr(exports, "MAX_HTML_ORGANISATIONS", 2)
    out = tmp_path / "map.html"
    result = runner.invoke(args=["export", "--format", "html", "-o", str(out)])
    assert result.exit_code == 1 and "at most 2 organisations" in result.output and not out.exists()


def test_geojson_is_cached_and_sent_gzipped_once(app, db, monkeypatch):
    make_org(db, "Coop Alpha")
    calls = counted(monkeypatch, catalogue, "iter_export_batches")
    client = app.test_client()
    plain = client.get("/api/organisations.geojson")
    assert plain.status_code == 200 and plain.data  # read whole: kept as it was sent
    packed = client.get("/api/organisations.geojson", headers={"Accept-Encoding": "gzip"})
    assert len(calls) == 1 and packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    assert plain.get_json()["features"][0]["properties"]["url"] == "/organisations/coop-alpha"
    assert "attachment" not in plain.headers.get("Content-Disposition", "")


def test_downloads_are_named_after_their_filters_and_date(app, db):
    make_org(db, "Coop Alpha", themes=["AM40"])
    response = app.test_client().get("/api/organisations.csv?country=FR&theme=AM40&q=Coop+Alpha")
    day = catalogue.last_change(db)[1][:10]
    assert f'filename=organisations-FR-AM40-coop-alpha-{day}.csv' in response.headers["Content-Disposition"]
    plain = app.test_client().get("/api/organisations.essglobal.csv")
    assert f"filename=organisations-{day}.essglobal.csv" in plain.headers["Content-Disposition"]


def test_static_assets_have_versioned_urls_cached_for_a_year_and_are_compressed(client):
    import re

    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/static/[^"]+)"', page)
    assert scripts and all(re.search(r"\?v=[0-9a-f]{10}$", s) for s in scripts), scripts
    versioned = client.get(scripts[-1], headers={"Accept-Encoding": "gzip, deflate, br, zstd"})  # Chromium's
    assert versioned.headers["Content-Encoding"] in ("zstd", "br")
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get(scripts[-1].split("?")[0])
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")  # an unversioned URL may change
    html = client.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert html.headers["Content-Encoding"] in ("br", "gzip") and "Accept-Encoding" in html.headers["Vary"]
