"""The category tree is the ``theme`` filter's vocabulary: a staff-made child filters the
map, the directory and the API; a parent selects its children and counts each organisation
once; labels come from the tree in every page, answer and export; exports give ESSGLOBAL
URIs only for mapped categories; hostile labels stay text."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib import Graph, URIRef
from support import make_org
from test_murmurations import problems

HOSTILE = "=1+1 {{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> javascript:alert(1) =1+1\r\nX\ufffe"
ACTIVITIES = "http://purl.org/essglobal/standard/activities-modified/"


def add_category(db, code, parent=None, *, labels=None, essglobal=None, colour="#1f6f8b", icon="", retired=False):
    db.execute("INSERT INTO categories (code, parent_id, position, labels, colour, icon, essglobal, retired_at,"
               " created_at, updated_at) VALUES (?, (SELECT id FROM categories WHERE code = ?), 99, ?, ?, ?, ?, ?,"
               " '2026-01-01', '2026-01-01')",
               [code, parent, json.dumps(labels or {"en": code}), colour, icon, essglobal,
                "2026-02-01" if retired else None])
    db.conn.commit()


@pytest.fixture
def tree(db):
    """A child of 'Culture' (AM10) made by staff, with French labels; a child of its own
    mapping; a retired one; three organisations."""
    add_category(db, "plumbing", "AM140", labels={"en": "Plumbing", "fr": "Plomberie"}, colour="#112233",
                 icon="tools")
    add_category(db, "heritage-crafts", "AM10", labels={"en": "Heritage crafts", "fr": "Métiers du patrimoine"},
                 essglobal="AM140")
    add_category(db, "old-stuff", "AM10", labels={"en": "Old stuff"}, retired=True)
    add_category(db, "no-mapping", labels={"en": "Network's own"})
    return {
        "plumber": make_org(db, "Plombiers réunis", themes=["plumbing"]),
        "both": make_org(db, "Atelier mixte", themes=["AM140", "plumbing"]),
        "crafts": make_org(db, "Tailleurs de pierre", themes=["no-mapping", "heritage-crafts"], lat=44.0),
    }


def names(client, query: str) -> list[str]:
    return [o["name"] for o in client.get(f"/api/organisations?{query}").get_json()["items"]]


def test_a_staff_child_category_filters_the_map_the_directory_and_the_api(client, tree):
    assert names(client, "theme=plumbing") == ["Atelier mixte", "Plombiers réunis"]
    assert names(client, "theme=PLUMBING") == names(client, "theme=plumbing")  # any case
    assert names(client, "theme=am140") == ["Atelier mixte", "Plombiers réunis"]  # the parent: each once
    assert names(client, "theme=AM10") == ["Tailleurs de pierre"]
    directory = client.get("/organisations?theme=plumbing&lang=fr").get_data(as_text=True)
    assert "Plombiers réunis" in directory and "Tailleurs de pierre" not in directory
    assert "Plomberie" in directory
    page = client.get("/?theme=Plumbing&lang=fr").get_data(as_text=True)
    assert re.search(r'value="plumbing" checked', page)


def test_an_unknown_or_retired_code_is_a_clear_error(client, tree):
    for code in ("nothing-here", "old-stuff"):
        answer = client.get(f"/api/organisations?theme={code}")
        assert answer.status_code == 400
        body = answer.get_json()
        assert body["parameter"] == "theme" and f"'{code}'" in body["error"]
        assert "plumbing" in body["error"] and "AM10" in body["error"] and "old-stuff, " not in body["error"]


def test_the_panel_shows_the_tree_with_counts_per_category_and_per_parent(client, tree):
    html = client.get("/?lang=fr").get_data(as_text=True)
    panel = html[html.index('data-kind="theme"'):]
    panel = panel[:panel.index("</details>")]
    group = re.search(r'<div class="option-group" role="group" aria-labelledby="theme-AM140">(.*?)</div>', panel, re.S)
    assert group, "a group named by its parent"
    options = re.findall(r'value="([^"]+)".*?class="count">(\d+)<', group.group(1), re.S)
    assert options == [("AM140", "2"), ("plumbing", "2")]
    assert 'class="option option-child"' in group.group(1) and "--swatch: #112233" in group.group(1)
    assert 'id="theme-plumbing">Plomberie<' in group.group(1)
    assert 'value="old-stuff"' not in panel
    facets = {o["value"]: o for o in client.get("/api/facets?lang=fr").get_json()["facets"]["theme"]}
    assert facets["AM10"]["count"] == 1 and facets["heritage-crafts"]["parent"] == "AM10"
    assert facets["plumbing"] == {"value": "plumbing", "label": "Plomberie", "count": 2, "parent": "AM140",
                                  "colour": "#112233", "icon": "tools"}
    # with another filter, the counts are of what it keeps
    facets = {o["value"]: o["count"] for o in client.get("/api/facets?q=atelier").get_json()["facets"]["theme"]}
    assert (facets["AM140"], facets["plumbing"], facets["AM10"]) == (1, 1, 0)


def test_api_categories_gives_the_tree_in_the_language_with_counts(client, tree):
    body = client.get("/api/categories?lang=fr").get_json()
    by_code = {c["code"]: c for c in body["categories"]}
    assert list(by_code)[:2] == ["AM10", "AM20"] and by_code["no-mapping"]["parent"] is None
    industry = by_code["AM140"]
    assert industry["count"] == 2 and industry["essglobal_uri"] == ACTIVITIES + "AM140"
    child = industry["children"][0]
    assert child == {"code": "plumbing", "label": "Plomberie", "parent": "AM140", "colour": "#112233",
                     "icon": "tools", "essglobal": "AM140", "essglobal_uri": ACTIVITIES + "AM140", "count": 2}
    assert [c["code"] for c in by_code["AM10"]["children"]] == ["heritage-crafts"]  # the retired one is not
    assert by_code["no-mapping"]["essglobal"] is None and by_code["no-mapping"]["count"] == 1
    document = client.get("/api/openapi.json").get_json()
    theme = next(p for p in document["paths"]["/api/organisations"]["get"]["parameters"] if p["name"] == "theme")
    assert "plumbing" in theme["description"] and "old-stuff" not in theme["description"]


def test_the_organisation_page_and_api_name_its_categories_from_the_tree_main_first(client, tree):
    page = client.get("/organisations/tailleurs-de-pierre?lang=fr").get_data(as_text=True)
    tags = re.findall(r'<li><a href="[^"]*theme=([^"&]+)[^"]*">([^<]+)</a></li>', page)
    assert tags == [("no-mapping", "Network&#39;s own"), ("heritage-crafts", "Métiers du patrimoine")]
    body = client.get("/api/organisations/tailleurs-de-pierre?lang=fr").get_json()
    assert body["themes"] == ["no-mapping", "heritage-crafts"]
    assert body["theme_labels"] == ["Network's own", "Métiers du patrimoine"]


def test_exports_give_tree_labels_and_mapped_essglobal_uris_only(client, tree):
    rows = list(csv.DictReader(io.StringIO(client.get("/api/organisations.csv?lang=fr").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    labels = {r["name"]: r for r in rows}
    assert any("Plomberie" in v for v in labels["Plombiers réunis"].values())
    essglobal = list(csv.DictReader(io.StringIO(client.get("/api/organisations.essglobal.csv")
                                                .get_data(as_text=True).lstrip("\ufeff"))))
    activities = {r["Name"]: r["Activities"] for r in essglobal}
    assert activities["Plombiers réunis"] == ACTIVITIES + "AM140"  # a child takes its parent's mapping
    assert activities["Atelier mixte"] == ACTIVITIES + "AM140"  # once
    assert activities["Tailleurs de pierre"] == ACTIVITIES + "AM140"  # its own mapping; the unmapped one gives none
    graph = Graph().parse(data=client.get("/api/organisations.ttl?lang=fr").data, format="turtle")
    sectors = {str(o) for o in graph.objects(None, URIRef("http://purl.org/essglobal/vocab/economicSector"))}
    assert sectors == {ACTIVITIES + "AM140"}
    known = {str(o) for o in graph.objects(None, URIRef("https://schema.org/knowsAbout"))}
    assert {"Plomberie", "Network's own", "Métiers du patrimoine"} <= known
    jsonld = client.get("/api/organisations.jsonld").get_data(as_text=True)
    assert "no-mapping" not in jsonld and "Network's own" in jsonld
    profile = client.get("/murmurations/organisations/tailleurs-de-pierre.json").get_json()
    assert profile["tags"] == ["Heritage crafts", "Network's own"] and not problems(profile)


def test_hostile_category_labels_stay_text_everywhere(client, db):
    add_category(db, "hostile", "AM40", labels={"en": HOSTILE, "fr": HOSTILE})
    make_org(db, "Visée", themes=["hostile"])
    for path in ("/?lang=fr", "/organisations?lang=fr", "/organisations/visee?lang=fr"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "{{ 7*7 }}" in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    api = client.get("/api/categories").get_json()
    child = next(c for root in api["categories"] for c in root["children"] if c["code"] == "hostile")
    assert child["label"] == HOSTILE  # JSON carries it as data, escaped by its readers
    text = client.get("/api/organisations.csv").get_data(as_text=True)
    row = next(r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if r and r[1] == "Visée")
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    labels = [str(o) for o in Graph().parse(data=client.get("/api/organisations.jsonld").data, format="json-ld")
              .objects(None, URIRef("https://schema.org/knowsAbout"))]
    assert any("<script>alert(1)</script>" in label for label in labels)  # data, for its readers to escape


def test_a_visitor_picks_a_child_category_by_keyboard_and_the_map_follows(db_path, db, tree, page, live_server_for):
    from support import DRAWN_TOTAL, route_tiles, settle

    from mapapp import create_app

    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test"})
    route_tiles(page)
    with live_server_for(app) as server:
        page.goto(server.url + "/?lang=fr")
        page.wait_for_selector("body[data-map-ready=true]")
        assert settle(page, DRAWN_TOTAL, 3) == 3
        page.locator("details[data-kind=theme] summary").click()
        group = page.get_by_role("group", name="Industrie")  # the parent names its group
        child = group.get_by_role("checkbox", name="Plomberie")
        assert group.locator(".count").all_inner_texts() == ["2", "2"]
        page.screenshot(path=str(db_path.parent / "panel.png"))
        child.focus()
        page.keyboard.press("Space")
        assert settle(page, DRAWN_TOTAL, 2) == 2
        assert parse_qs(urlsplit(page.url).query)["theme"] == ["plumbing"]
        crafts = page.get_by_role("group", name="Culture").get_by_role("checkbox", name="Métiers du patrimoine")
        assert crafts.locator("xpath=..").locator(".count").inner_text() == "1"  # what choosing it too would add


def test_a_changed_tree_shows_at_the_next_request(client, db, tree):
    """The tree is cached per catalogue state: a renamed or moved category is seen at once,
    by labels, the filter and the map's columns."""
    assert names(client, "theme=AM10") == ["Tailleurs de pierre"]
    assert client.get("/api/organisations/plombiers-reunis?lang=fr").get_json()["theme_labels"] == ["Plomberie"]
    db.execute("UPDATE categories SET labels = ?, parent_id = (SELECT id FROM categories WHERE code = 'AM10')"
               " WHERE code = 'plumbing'", [json.dumps({"en": "Pipes", "fr": "Tuyaux"})])
    db.conn.commit()
    assert client.get("/api/organisations/plombiers-reunis?lang=fr").get_json()["theme_labels"] == ["Tuyaux"]
    assert names(client, "theme=AM10") == ["Atelier mixte", "Plombiers réunis", "Tailleurs de pierre"]
    counts = {o["value"]: o["count"] for o in client.get("/api/facets").get_json()["facets"]["theme"]}
    assert (counts["AM10"], counts["AM140"]) == (3, 1)


def test_a_link_to_a_merged_category_shows_where_its_organisations_went(client, db):
    """``?theme=`` naming a category staff merged into another (a bookmark, an embed, a saved
    view) shows the other one's organisations; it answered 400, 'unknown value'."""
    from support import make_org

    from mapapp.catalogue import categories

    made = dict(user_email="admin@example.org", aliases=[], colour="#aa3300", icon="hammer", essglobal=None)
    old = categories.create(db, labels={"en": "Joinery"}, **made)
    code = categories.get(db, old).code
    make_org(db, "Menuiserie Dupont", themes=[code])
    make_org(db, "Bakery", themes=["AM60"])
    into = db.execute("SELECT id FROM categories WHERE code = 'AM140'").fetchone()[0]
    categories.retire(db, old, user_email="admin@example.org", into=into, merge=True)
    answer = client.get(f"/api/organisations?theme={code}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [o["name"] for o in answer.get_json()["items"]] == ["Menuiserie Dupont"]
    assert client.get(f"/?theme={code}").status_code == 200
    gone = categories.create(db, labels={"en": "Gone"}, **made)
    gone_code = categories.get(db, gone).code
    categories.retire(db, gone, user_email="admin@example.org")
    assert client.get(f"/api/organisations?theme={gone_code}").status_code == 400  # retired without a destination


def test_an_export_left_half_read_does_not_keep_the_tree_of_its_day(client, tree, db):
    # A streamed export reads the tree pinned for it; a client that stops reading leaves it
    # suspended. The next requests of that thread must still read the catalogue's own tree.
    streamed = client.get("/api/organisations.csv?theme=plumbing", buffered=False)
    next(iter(streamed.response))  # the first rows only: the export stays inside its pin
    add_category(db, "carpentry", "AM140", labels={"en": "Carpentry"})
    make_org(db, "Charpentiers", themes=["carpentry"])
    assert names(client, "theme=carpentry") == ["Charpentiers"]
    streamed.close()
