"""Markers and clusters show organisations' categories: each point names its main category
(lowest rank, then the tree's order) by its index in the legend that comes with the map
page, each cluster its mix of top-level categories; both stay right through edits patched
into the map index, and a change of the tree is read again."""

from __future__ import annotations

import json
import random
import re

import pytest
from support import make_org
from test_fast_paths import populate, random_filters

from mapapp import catalogue
from mapapp.catalogue.base import read_related
from mapapp.filters import BBox, Filters
from mapapp.mapdata import levels, mapindex, markers

LYON = "4.80,45.74,4.88,45.78"
EUROPE = "-10,35,30,60"


def add_category(db, code: str, *, parent: str | None = None, colour: str = "#aa3300", icon: str = "",
                 labels: dict | None = None, position: int = 100) -> None:
    parent_id = db.execute("SELECT id FROM categories WHERE code = ?", [parent]).fetchone()[0] if parent else None
    db.execute("INSERT INTO categories (code, parent_id, position, labels, colour, icon, created_at, updated_at)"
               " VALUES (?, ?, ?, ?, ?, ?, '2026-12-06', '2026-12-06')",
               [code, parent_id, position, json.dumps(labels or {"en": code.title()}), colour, icon])


def legend_of(client, path: str = "/") -> list[dict]:
    page = client.get(path).get_data(as_text=True)
    settings = re.search(r'<script type="application/json" id="mapapp-settings">(.*?)</script>', page, re.S).group(1)
    return json.loads(settings)["categories"]["categories"]


def points_by_name(client, box: str = LYON, zoom: int = 16) -> dict[str, str]:
    """Each point's name and the code of the category it is drawn with ('' for none)."""
    legend = legend_of(client)
    body = client.get(f"/api/clusters?bbox={box}&zoom={zoom}").get_json()
    assert body["point_fields"] == ["slug", "name", "lat", "lon", "stale", "category"]
    return {p[1]: legend[p[5]]["code"] for p in body["points"]}


def mix_by_code(client, box: str = EUROPE, zoom: int = 4) -> tuple[int, list[tuple[str, int]]]:
    legend = legend_of(client)
    body = client.get(f"/api/clusters?bbox={box}&zoom={zoom}").get_json()
    assert len(body["clusters"]) == 1 and not body["points"], body
    cluster = body["clusters"][0]
    return cluster[2], [(legend[i]["code"], n) for i, n in cluster[4]]


@pytest.fixture
def filed(db):
    """Organisations in Lyon filed under a staff-made child category (with its own icon, or
    none: its parent's), several categories, none, or an unknown code."""
    add_category(db, "plumbing", parent="AM140", colour="#0055aa", icon="droplet", labels={"en": "Plumbing"})
    add_category(db, "insulation", parent="AM140", colour="#116611", labels={"en": "Insulation"})
    make_org(db, "Pipes", themes=["plumbing", "AM40"], lat=45.760, lon=4.840)
    make_org(db, "School first", themes=["AM40", "plumbing"], lat=45.761, lon=4.841)
    make_org(db, "Nothing", themes=[], lat=45.762, lon=4.842)
    make_org(db, "Walls", themes=["insulation"], lat=45.763, lon=4.843)
    make_org(db, "Unknown", themes=["no-such-category"], lat=45.764, lon=4.844)
    make_org(db, "School", themes=["AM40"], lat=45.765, lon=4.845)
    return db


def test_each_point_is_drawn_with_its_main_category(filed, client):
    assert points_by_name(client) == {"Pipes": "plumbing", "School first": "AM40", "Nothing": "",
                                      "Walls": "insulation", "Unknown": "", "School": "AM40"}


def test_the_legend_comes_with_the_page_with_colours_icons_and_the_categories_present(filed, client):
    legend = {c["code"]: c for c in legend_of(client)}
    index = [c["code"] for c in legend_of(client)]
    assert legend["plumbing"]["colour"] == "#0055aa" and legend["plumbing"]["icon"] == "droplet"
    assert legend["plumbing"]["parent"] == index.index("AM140")
    assert legend["insulation"]["icon"] == legend["AM140"]["icon"] == "building-factory-2"  # its parent's
    assert legend[""]["label"] == "No category" and legend[""]["present"]
    present = {code for code, c in legend.items() if c["present"]}
    assert present == {"", "AM40", "AM140", "plumbing", "insulation"}  # a parent shows above its children
    icons = json.loads(re.search(r'id="mapapp-settings">(.*?)</script>', client.get("/").get_data(as_text=True),
                                 re.S).group(1))["categories"]["icons"]
    assert icons["droplet"] and all(re.fullmatch(r"[MmLlHhVvCcSsQqTtAaZz0-9 .,eE+-]+", d) for d in icons["droplet"])
    french = {c["code"]: c["label"] for c in legend_of(client, "/?lang=fr")}
    assert french["AM40"] == "Éducation" and french[""] == "Sans catégorie"


def test_a_cluster_carries_its_mix_of_top_level_categories(filed, client):
    # The two children count for their parent; two organisations have no category.
    assert mix_by_code(client) == (6, [("AM40", 2), ("AM140", 2), ("", 2)])  # ties in the tree's order


def test_a_cluster_names_its_largest_categories_only(db, client):
    codes = ["AM10", "AM20", "AM30", "AM40", "AM50", "AM60", "AM70"]
    for i, code in enumerate(codes):
        for k in range(i + 1):
            make_org(db, f"{code} {k}", themes=[code], lat=45.76 + i / 1000, lon=4.84 + k / 1000)
    count, mix = mix_by_code(client)
    assert count == 28
    assert mix == [("AM70", 7), ("AM60", 6), ("AM50", 5), ("AM40", 4), ("AM30", 3)]  # 3 more: the rest


def test_an_edit_of_the_categories_is_patched_into_the_markers_and_clusters(filed, client, monkeypatch):
    assert points_by_name(client)["School first"] == "AM40"
    loads = []
    real_load = mapindex.load
    monkeypatch.setattr(mapindex, "load", lambda db: loads.append(1) or real_load(db))
    org_id = filed.execute("SELECT id FROM organisations WHERE name = 'School first'").fetchone()[0]
    state = catalogue.organisation_state(filed, org_id)
    state["related"]["themes"] = ["insulation", "AM40"]
    with catalogue.write_transaction(filed):
        catalogue.restore_state(filed, org_id, state)
    nothing = filed.execute("SELECT id FROM organisations WHERE name = 'Nothing'").fetchone()[0]
    state = catalogue.organisation_state(filed, nothing)
    state["related"]["themes"] = ["AM10"]
    with catalogue.write_transaction(filed):
        catalogue.restore_state(filed, nothing, state)
    make_org(filed, "Late", themes=["plumbing"], lat=45.766, lon=4.846)
    shown = points_by_name(client)
    assert (shown["School first"], shown["Nothing"], shown["Late"]) == ("insulation", "AM10", "plumbing")
    assert mix_by_code(client) == (7, [("AM140", 4), ("AM10", 1), ("AM40", 1), ("", 1)])
    assert not loads  # patched, not read again


def test_a_change_of_the_tree_is_read_again(filed, client):
    assert mix_by_code(client)[1][:2] == [("AM40", 2), ("AM140", 2)]
    am10 = filed.execute("SELECT id FROM categories WHERE code = 'AM10'").fetchone()[0]
    filed.execute("UPDATE categories SET parent_id = ? WHERE code = 'AM40'", [am10])  # AM40 moves under AM10
    filed.execute("UPDATE categories SET retired_at = '2026-12-06' WHERE code = 'insulation'")
    assert mix_by_code(client) == (6, [("", 3), ("AM10", 2), ("AM140", 1)])
    assert points_by_name(client)["Walls"] == ""


def test_hostile_labels_reach_the_page_as_data(db, client):
    hostile = '</script><script>alert(1)</script>{{ 7*7 }}${x}=1+1\r\n\ufffe'
    add_category(db, "hostile", labels={"en": hostile})
    make_org(db, "Target", themes=["hostile"])
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert {c["code"]: c["label"] for c in legend_of(client)}["hostile"] == hostile


# -- differential: the index's categories against the catalogue's, on random catalogues --------


def reference(db, filters: Filters, colours: markers.Palette) -> tuple[dict[int, int], dict[int, int]]:
    """Each organisation's main category (palette index) in the view of ``filters`` as the
    catalogue gives it (its themes by rank), and how many of them each top-level category has."""
    index = {code: i + 1 for i, code in enumerate(colours.codes)}
    main = {}
    for org in catalogue.find_organisations(db, filters, limit=100_000):
        main[org["id"]] = next((index[t] for t in read_related(db, org["id"])["themes"] if t in index), 0)
    tops: dict[int, int] = {}
    for category in main.values():
        top = int(colours.tops[colours.top[category]])
        tops[top] = tops.get(top, 0) + 1
    return main, tops


def check(db, index: mapindex.MapIndex, rng: random.Random, rounds: int) -> None:
    for _ in range(rounds):
        columns = index.get(db)
        filters = random_filters(db, rng)
        box = filters.bbox or BBox(-180, -85, 180, 85)
        in_view = Filters(**{**filters.__dict__, "bbox": box})
        main, tops = reference(db, in_view, columns.palette)
        by_slug = {catalogue.organisation_by_id(db, i)["slug"]: c for i, c in main.items()}
        for zoom in (rng.randint(2, 8), 16):
            view = mapindex.clusters(columns, mapindex.selection(columns, filters, db), box, zoom, db)
            assert {p[0]: p[5] for p in view["points"]} == {p[0]: by_slug[p[0]] for p in view["points"]}
            counted: dict[int, int] = {}
            for p in view["points"]:
                top = int(columns.palette.tops[columns.palette.top[p[5]]])
                counted[top] = counted.get(top, 0) + 1
            for cluster in view["clusters"]:
                assert sum(n for _i, n in cluster[4]) == cluster[2]
                for top, n in cluster[4]:
                    counted[top] = counted.get(top, 0) + n
            assert counted == tops, (filters, zoom)


@pytest.mark.parametrize("seed", (1, 2))
def test_categories_in_the_index_agree_with_the_catalogue_through_edits(db, monkeypatch, seed):
    monkeypatch.setattr(markers, "MIX_PAIRS", 100)  # every category named: the sums can be compared
    rng = random.Random(seed)
    add_category(db, "plumbing", parent="AM140", position=1)
    add_category(db, "heritage", parent="AM140", position=2, icon="building-castle")
    add_category(db, "retired", position=3)
    db.execute("UPDATE categories SET retired_at = '2026-12-06' WHERE code = 'retired'")
    populate(db, rng, 250)
    codes = ["plumbing", "heritage", "retired", "AM40", "AM140", "nobody"]
    ids = [r[0] for r in db.execute("SELECT id FROM organisations")]
    for org_id in rng.sample(ids, 60):  # some under the children, some with a retired or unknown one first
        db.execute("DELETE FROM organisation_themes WHERE organisation_id = ?", [org_id])
        for rank, code in enumerate(rng.sample(codes, rng.randint(1, 3))):
            db.execute("INSERT INTO organisation_themes (organisation_id, theme, rank) VALUES (?, ?, ?)",
                       [org_id, code, rank])
    index = mapindex.MapIndex()
    check(db, index, rng, 15)
    loads = []
    real_load = mapindex.load
    monkeypatch.setattr(mapindex, "load", lambda db: loads.append(1) or real_load(db))
    for org_id in rng.sample(ids, 30):
        state = catalogue.organisation_state(db, org_id)
        state["related"]["themes"] = rng.sample(codes, rng.randint(0, 3))
        state["values"]["status"] = rng.choice(("published", "published", "draft"))
        catalogue.restore_state(db, org_id, state)
    check(db, index, rng, 15)
    assert not loads


def test_unfiltered_low_zoom_mixes_from_the_summed_cells_match_the_points(db):
    rng = random.Random(4)
    add_category(db, "plumbing", parent="AM140")
    populate(db, rng, 300)
    db.execute("UPDATE organisation_themes SET theme = 'plumbing' WHERE theme = 'AM50'")
    columns = mapindex.MapIndex().get(db)
    everyone = mapindex.selection(columns, Filters(), db)
    for _ in range(60):
        zoom = rng.randint(0, levels.LEVELS_MAX_ZOOM)
        lat, lon = rng.uniform(35, 55), rng.uniform(-5, 30)
        bbox = BBox(lon - rng.uniform(0.5, 40), lat - rng.uniform(0.5, 20), lon + rng.uniform(0.5, 40),
                    min(85, lat + rng.uniform(0.5, 20)))
        summed = mapindex.clusters(columns, everyone, bbox, zoom, db, everything=True)
        counted = mapindex.clusters(columns, everyone, bbox, zoom, db)
        assert [c[4] for c in summed["clusters"]] == [c[4] for c in counted["clusters"]]
        assert sorted(p[5] for p in summed["points"]) == sorted(p[5] for p in counted["points"])
