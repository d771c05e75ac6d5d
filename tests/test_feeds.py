"""Change feeds: the Atom feed (read with feedparser, as feed readers do) lists the
organisations new or changed last, filtered like the map, names as text; /api/changes
gives machines what changed and what left the map since a moment, page by page."""

from __future__ import annotations

import time

import feedparser
import pytest
from support import make_org

from mapapp import catalogue, create_app


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


def test_the_atom_feed_lists_what_changed_last_for_the_filters(db, site):
    make_org(db, "Forno Sociale", country="IT", city="Torino", themes=["AM60"], description="Pane e lavoro.")
    make_org(db, "Boulangerie Coop", country="FR")
    make_org(db, '<script>alert(1)</script> & Co', country="IT", city="Roma")
    db.execute("UPDATE organisations SET updated_at = '2026-01-01T00:00:00+00:00' WHERE name = 'Forno Sociale'")
    client = site.test_client()
    response = client.get("/feed.atom?country=IT&lang=it")
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception  # well-formed Atom
    titles = [e.title for e in feed.entries]
    assert titles == ["<script>alert(1)</script> & Co", "Forno Sociale"]  # newest first, France left out
    assert b"<script>" not in response.data  # escaped in the XML, text again for the reader
    forno = feed.entries[1]
    assert forno.link.endswith("/organisations/forno-sociale")
    assert forno.updated.startswith("2026-01-01") and "Pane e lavoro." in forno.summary
    assert [t.label for t in forno.tags] == ["Alimentazione"]
    assert client.get("/feed.atom?country=XX").status_code == 400
    page = client.get("/?country=IT").get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and "/feed.atom?country=IT" in page  # readers find it


def test_changes_since_a_moment_page_by_page_and_what_left_the_map(db, site):
    client = site.test_client()
    for i in range(7):
        make_org(db, f"Coop {i}")
    db.execute("UPDATE organisations SET updated_at = '2026-01-01T00:00:00+00:00'")
    seen, url = [], "/api/changes?since=2025-12-31T23:00:00Z&limit=3"
    while url:
        body = client.get(url).get_json()
        seen += [item["name"] for item in body["items"]]
        url = body["next"]
    assert sorted(seen) == [f"Coop {i}" for i in range(7)]  # every one once, though all share a time
    assert client.get("/api/changes?since=2026-01-02").get_json()["items"] == []
    mark = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    ids = {r[1]: r[0] for r in db.execute("SELECT id, name FROM organisations")}
    with catalogue.write_transaction(db):
        catalogue.set_status(db, [ids["Coop 1"]], "draft")
        catalogue.delete_organisation(db, ids["Coop 2"])
        db.execute("UPDATE organisations SET city = 'Paris', updated_at = ? WHERE id = ?",
                   [catalogue.now(), ids["Coop 3"]])
    body = client.get(f"/api/changes?since={mark}").get_json()
    assert [item["name"] for item in body["items"]] == ["Coop 3"]
    assert sorted(w["slug"] for w in body["withdrawn"]) == ["coop-1", "coop-2"]
    assert client.get("/api/changes").status_code == 400  # since is required
    assert "ISO 8601" in client.get("/api/changes?since=yesterday").get_json()["error"]
