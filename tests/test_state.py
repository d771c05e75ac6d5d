"""The catalogue's one state key: every cache (API validators, insights, exports, the map's
columns) keys on it, so a backup restored over the catalogue, even at the same version
number, is never answered from another state's caches; and HTTP conditional answers and
content encodings go through Werkzeug and Flask-Compress."""

from __future__ import annotations

import ast
import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from support import make_org

from mapapp import catalogue, create_app
from mapapp.mapdata import mapindex
from mapapp.web import db as web_db

ROOT = Path(__file__).resolve().parent.parent
WORLD = "bbox=-180,-85,180,85&zoom=2"


def _older_backup_at_the_same_version(db, backup: Path) -> None:
    """``backup`` holds the catalogue as it was (only "Coop Alpha"), then the catalogue moves
    on ("Coop Beta"); the backup is given the catalogue's version number, as a copy of
    another history may have (an old replica, a backup of a restored backup)."""
    make_org(db, "Coop Alpha")
    with sqlite3.connect(backup) as out:
        db.conn.backup(out)
    make_org(db, "Coop Beta")
    version = catalogue.version(db)
    with sqlite3.connect(backup) as old:
        old.execute("UPDATE catalogue_version SET version = ?, changed_at = '2026-01-01T00:00:00Z'", [version])
    old.close()


@pytest.mark.parametrize("how", ["sqlite .restore", "copied in place while stopped", "moved in place while stopped"])
def test_a_backup_restored_at_the_same_version_gets_new_etags_and_fresh_map_columns(app, db, db_path, tmp_path, how):
    backup = tmp_path / "backup.db"
    _older_backup_at_the_same_version(db, backup)
    client = app.test_client()
    version = catalogue.version(db)
    before = client.get("/api/organisations")
    assert {o["name"] for o in before.get_json()["items"]} == {"Coop Alpha", "Coop Beta"}
    assert client.get(f"/api/clusters?{WORLD}").get_json()["total"] == 2  # the map's columns, kept on disk too
    if how == "sqlite .restore":  # as ``sqlite3 catalogue.db ".restore backup.db"``, the app running
        with sqlite3.connect(backup) as source:
            source.backup(db.conn)
        source.close()
    else:
        db.close()
        web_db.close_kept()  # the app stopped: no connection of its own holds the file any more
        (db_path.parent / (db_path.name + "-wal")).unlink(missing_ok=True)
        (db_path.parent / (db_path.name + "-shm")).unlink(missing_ok=True)
        if how == "copied in place while stopped":
            with open(backup, "rb") as source, open(db_path, "r+b") as target:  # the same file, rewritten
                target.truncate(0)
                shutil.copyfileobj(source, target)
        else:
            shutil.move(backup, db_path)
        db = catalogue.connect(db_path)
    assert catalogue.version(db) == version
    again = client.get("/api/organisations", headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != before.headers["ETag"]
    assert {o["name"] for o in again.get_json()["items"]} == {"Coop Alpha"}
    assert client.get(f"/api/clusters?{WORLD}").get_json()["total"] == 1  # this process's columns
    restarted = create_app({**app.config, "TESTING": True}).test_client()  # a worker starting now
    assert restarted.get(f"/api/clusters?{WORLD}").get_json()["total"] == 1  # not the kept snapshot
    db.close()


def test_kept_map_columns_of_another_state_at_the_same_version_are_not_served(db, tmp_path):
    """The same file, the same schema, the same version number, other organisations: only
    the state key tells them apart (the snapshot used to be keyed by path and version)."""
    make_org(db, "Coop Alpha")
    make_org(db, "Coop Beta")
    assert mapindex.MapIndex(tmp_path / "map").get(db).size == 2
    version, before = catalogue.version(db), catalogue.state(db)
    beta = db.execute("SELECT id FROM organisations WHERE name = 'Coop Beta'").fetchone()[0]
    catalogue.delete_organisation(db, beta)
    db.execute("UPDATE catalogue_version SET version = ?, changed_at = '2026-01-01T00:00:00Z'", [version])
    db.conn.commit()
    after = catalogue.state(db)
    assert (after.lineage, after.version) == (before.lineage, before.version) and after.key != before.key
    fresh = mapindex.MapIndex(tmp_path / "map").get(db)
    assert int(mapindex.count_bits(fresh.live)) == 1


def test_the_state_key_changes_with_every_public_write_and_only_then(db):
    make_org(db, "Coop Alpha")
    key = catalogue.state_key(db)
    assert catalogue.state_key(db) == key  # stable while nothing changes
    db.execute("INSERT INTO login_failures (key, failures, last_at) VALUES ('someone', 1, 0)")
    db.conn.commit()
    assert catalogue.state_key(db) == key  # bookkeeping the public does not see
    make_org(db, "Coop Beta")
    assert catalogue.state_key(db) != key


def test_gzip_refused_with_a_zero_quality_is_not_sent(demo_client):
    for url in ("/api/organisations", "/api/organisations.geojson", "/api/facets", "/basemap/countries.geojson",
                "/basemap/labels.fr.json"):
        refused = demo_client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
        assert refused.status_code == 200 and "Content-Encoding" not in refused.headers, url
        json.loads(refused.get_data())  # plain JSON
        accepted = demo_client.get(url, headers={"Accept-Encoding": "gzip"})
        assert accepted.headers["Content-Encoding"] == "gzip", url
        assert json.loads(gzip.decompress(accepted.get_data())) == json.loads(refused.get_data()), url


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("url", ["/api/organisations", "/api/facets", "/api/organisations.geojson",
                                 "/api/organisations.csv", "/api/organisations.essglobal.csv",
                                 "/api/organisations.xlsx", "/api/organisations.jsonld",
                                 "/stats/themes.svg", "/stats/themes.png", "/stats/themes.csv"])
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_if_none_match_gives_304_on_every_cached_path(demo_client, url, encoding):
    headers = {"Accept-Encoding": encoding}
    first = demo_client.get(url, headers=headers)
    assert first.status_code == 200 and first.headers.get("ETag"), url
    again = demo_client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"", url
    assert again.headers["ETag"] == first.headers["ETag"]


def test_an_api_answer_still_current_is_304_before_any_query(app, db, monkeypatch):
    make_org(db, "Coop Alpha")
    client = app.test_client()
    for encoding in ("identity", "gzip"):
        first = client.get("/api/organisations?limit=200", headers={"Accept-Encoding": encoding})
        calls = []
        monkeypatch.setattr(catalogue, "organisations_by_ids", lambda *a, **k: calls.append(1) or [])
        again = client.get("/api/organisations?limit=200",
                           headers={"Accept-Encoding": encoding, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and not calls
        monkeypatch.undo()


# Where a cache used to build its own key: each now takes ``catalogue.state_key`` (or the
# ``catalogue.state`` it comes from); none reads the version, the change time or the file.
CACHES = ("mapapp/web/apihttp.py", "mapapp/web/api.py", "mapapp/web/insights.py", "mapapp/insights/views.py",
          "mapapp/mapdata/exportcache.py", "mapapp/mapdata/snapshot.py")
IDENTITY = ("pragma_database_list", "schema_version", "st_ino", "st_dev", "catalogue_version")


def test_one_function_computes_the_state_key():
    defined = []
    for path in sorted((ROOT / "mapapp").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        source = path.read_text()
        relative = str(path.relative_to(ROOT))
        # Module functions only: a job's state (``Jobs.state``) is not the catalogue's.
        defined += [relative for node in tree.body
                    if isinstance(node, ast.FunctionDef) and node.name in ("state", "state_key")]
        if relative == "mapapp/catalogue/base.py" or relative.startswith("mapapp/catalogue/migrations"):
            continue
        if not relative.startswith("mapapp/catalogue/"):
            for word in IDENTITY:
                assert word not in source, f"{relative} reads {word}: key caches on catalogue.state_key"
        if relative in CACHES:
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in ("last_change", "version") \
                        and isinstance(node.value, ast.Name) and node.value.id == "catalogue":
                    pytest.fail(f"{relative}:{node.lineno} keys a cache on catalogue.{node.attr}")
                if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                        and node.slice.value == "DATABASE":
                    pytest.fail(f"{relative}:{node.lineno} keys a cache on the DATABASE setting")
    assert defined == ["mapapp/catalogue/base.py", "mapapp/catalogue/base.py"]
