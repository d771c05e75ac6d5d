"""The map's in-memory fast paths (lists, counts, facets, clusters) answer exactly what
the SQL paths answer, on random filters, and still after edits, unpublishing and deletes."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest

from mapapp import catalogue, kinds, vocab
from mapapp.catalogue import fields as field_store
from mapapp.catalogue import kinds as kind_sql
from mapapp.fields import Field
from mapapp.filters import BBox, Filters
from mapapp.mapdata import levels, mapindex, snapshot

NAMES = ("atelier", "Coop", "épicerie", "Ölwerk", "zèbre", "Łódź spółdzielnia", "abc", "Abc", "ZZ top", "Ma'at")
COUNTRIES = ("FR", "BE", "IT", "PL", "CY")
# The network's own filter fields (#28) are kinds of the registry too: a yes/no and a
# several-choices one.
FIELD_KINDS = ("f-epv-label", "f-trade")
TRADES = ("plumbing", "carpentry", "heritage")


@pytest.fixture(autouse=True)
def field_kinds(db):
    """The catalogue's filter fields in the registry, as the web layer puts them."""
    kinds.use_fields(lambda: field_store.filter_kinds(db))
    yield
    kinds.use_fields(None)


def with_values(filters: Filters, kind: str, values: tuple[str, ...]) -> Filters:
    """``filters`` with ``kind`` (a static kind or a filter field) asking for ``values``."""
    if kind in kinds.NAMES:
        return dataclasses.replace(filters, **{kind: values})
    chosen = next(k for k in kinds.registry() if k.name == kind)
    extra = tuple((k, v) for k, v in filters.extra if k.name != kind) + ((chosen, values),)
    return dataclasses.replace(filters, extra=extra)


# Staff-made categories under two of the default tree's: choosing a parent chooses them too.
CHILDREN = {"am40-adult": "AM40", "repair-cafes": "AM120", "Tool-Library": "AM120"}


def add_children(db) -> None:
    for position, (code, parent) in enumerate(CHILDREN.items()):
        db.execute("INSERT INTO categories (code, parent_id, position, labels, created_at, updated_at)"
                   " VALUES (?, (SELECT id FROM categories WHERE code = ?), ?, ?, '2026-01-01', '2026-01-01')",
                   [code, parent, position, f'{{"en": "{code} label"}}'])
    db.conn.commit()


def populate(db, rng: random.Random, n: int = 300) -> None:
    catalogue.save_project(db, {"slug": "p1", "name": "Project one"})
    catalogue.save_project(db, {"slug": "p2", "name": "Project two"})
    catalogue.save_visit(db, {"slug": "v1", "project": "p1", "title": "Visit one", "date": "2026-03-01"})
    catalogue.save_visit(db, {"slug": "v2", "project": "p2", "title": "Visit two"})
    add_children(db)
    themes, resources = [*vocab.themes().codes(), *CHILDREN], vocab.resources().codes()
    field_store.create_field(db, Field(0, "epv-label", "yes_no", {"en": "EPV label"}, filter=True))
    field_store.create_field(db, Field(0, "trade", "choices", {"en": "Trade"}, filter=True,
                                       choices=[{"value": t, "labels": {"en": t.title()}} for t in TRADES]))
    for i in range(n):
        located = rng.random() < 0.9
        saved = catalogue.save_organisation(db, {
            "name": f"{rng.choice(NAMES)} {rng.randint(0, 40)}", "city": rng.choice(("Lyon", "Liège", "Bologna")),
            "country": rng.choice(COUNTRIES), "lat": rng.uniform(35, 55) if located else None,
            "lon": rng.uniform(-5, 30) if located else None, "relation": rng.choice(vocab.relations().codes()),
            "status": rng.choice(("published", "published", "published", "draft")), "source": "t",
            "source_ref": str(i), "description": rng.choice(("bread and bikes", "vélos", "chleb", ""))},
            themes=rng.sample(themes, rng.randint(0, 3)),
            needs={r: "" for r in rng.sample(resources, rng.randint(0, 2))},
            offers={r: "" for r in rng.sample(resources, rng.randint(0, 2))})
        projects, visits = rng.sample(["p1", "p2"], rng.randint(0, 2)), rng.sample(["v1", "v2"], rng.randint(0, 1))
        if projects or visits:
            catalogue.link_organisation(db, saved.id, projects=projects, visits=visits)
        field_store.set_values(db, saved.id, {"epv-label": rng.sample(["yes", "no"], rng.randint(0, 1)),
                                              "trade": rng.sample(TRADES, rng.randint(0, 2))})


def candidates(db, kind: kinds.Kind) -> list[str]:
    """The values a visitor may choose for ``kind`` (as the filter panel offers them), and
    one no organisation has."""
    offered = [value for value, _label in kind_sql.choices(db, kind, COUNTRIES, "en")]
    return offered + ["DE" if isinstance(kind.vocabulary, kinds.Countries) else "nobody-has-this"]


def random_filters(db, rng: random.Random, always: str | None = None) -> Filters:
    """Random values of random kinds (``always`` among them), a search and a box."""
    chosen, extra = {}, []
    for kind in kinds.registry():
        if kind.name == always or rng.random() < 0.3:
            values = candidates(db, kind)
            picked = tuple(rng.sample(values, rng.randint(1, min(2, len(values)))))
            if kind.name in kinds.NAMES:
                chosen[kind.name] = picked
            else:
                extra.append((kind, picked))
    chosen["extra"] = tuple(extra)
    if rng.random() < 0.25:
        chosen["q"] = rng.choice(("coop", "velos", "spoldzielnia", "bread", "zz"))
    if rng.random() < 0.4:
        lat, lon = rng.uniform(35, 55), rng.uniform(-5, 30)
        chosen["bbox"] = BBox(lon - rng.uniform(1, 15), lat - rng.uniform(1, 8), lon + rng.uniform(1, 15),
                              lat + rng.uniform(1, 8))
    return Filters(**chosen)


def agree(db, rng: random.Random, rounds: int = 60, index: mapindex.MapIndex | None = None,
          kind: str | None = None) -> None:
    """The fast paths answer as the SQL on random filters (with a value of ``kind`` in
    each, and its facet counts checked, when given; else those of a random kind)."""
    index = index or mapindex.MapIndex()
    for _ in range(rounds):
        filters = random_filters(db, rng, kind)
        columns = index.get(db)
        offset, limit = rng.choice((0, 0, 5, 30)), rng.choice((1, 10, 50))
        total, ids = mapindex.listing(columns, filters, db, limit=limit, offset=offset)
        assert total == catalogue.count_organisations(db, filters), filters
        expected = [o["id"] for o in catalogue.find_organisations(db, filters, limit=limit, offset=offset)]
        assert ids == expected, filters
        assert [o["id"] for o in catalogue.organisations_by_ids(db, ids)] == expected
        counts = mapindex.facet_counts(columns, filters, db)
        counted = kind or rng.choice((*kinds.NAMES, *FIELD_KINDS))
        for value in list(counts[counted])[:6]:
            widened = dataclasses.replace(with_values(filters, counted, (value,)), bbox=None)
            assert counts[counted][value] == catalogue.count_organisations(db, widened), (counted, value, filters)
        view = mapindex.clusters(columns, mapindex.selection(columns, filters, db),
                                 filters.bbox or BBox(-180, -85, 180, 85), rng.randint(2, 14), db)
        in_view = Filters(**{**filters.__dict__, "bbox": filters.bbox or BBox(-180, -85, 180, 85)})
        assert view["total"] == catalogue.count_organisations(db, in_view)
        assert view["total"] == sum(c[2] for c in view["clusters"]) + len(view["points"])
        # The page's totals: how many match (bbox aside) and the bounds of their points.
        whole = dataclasses.replace(filters, bbox=None)
        points = [(o["lon"], o["lat"]) for o in catalogue.find_organisations(db, whole, located_only=True)]
        bits = mapindex.selection_bits(columns, filters, db)
        assert mapindex.count_bits(bits) == catalogue.count_organisations(db, whole)
        assert mapindex.selection_bounds(columns, bits) == ([min(p[0] for p in points), min(p[1] for p in points),
                                                             max(p[0] for p in points), max(p[1] for p in points)]
                                                            if points else None), filters


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_fast_paths_agree_with_sql_on_random_filters(db, seed):
    rng = random.Random(seed)
    populate(db, rng)
    agree(db, rng)


@pytest.mark.parametrize("kind", (*kinds.NAMES, *FIELD_KINDS))
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_fast_paths_agree_with_sql_on_every_kind_of_the_registry(db, kind):
    """Each kind filters and counts alike in memory and in SQL (a new kind is tested here
    as soon as it is in the registry, and fails until ``populate`` gives it values)."""
    rng = random.Random((*kinds.NAMES, *FIELD_KINDS).index(kind))
    populate(db, rng, 200)
    counts = mapindex.facet_counts(mapindex.MapIndex().get(db), Filters(), db)[kind]
    assert sum(1 for n in counts.values() if n) >= 2, f"populate gives no organisation two values of {kind}"
    agree(db, rng, 25, kind=kind)


@pytest.mark.parametrize("shared", (False, True, "built by a separate process"))
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_fast_paths_still_agree_after_edits_unpublishing_and_deletes(db, tmp_path, shared, monkeypatch):
    rng = random.Random(7)
    populate(db, rng, 200)
    if shared == "built by a separate process":  # as a large catalogue's snapshot is
        monkeypatch.setattr(snapshot, "SEPARATE_PROCESS_FROM", 0)
    index = mapindex.MapIndex(tmp_path / "map" if shared else None)
    agree(db, rng, 20, index)
    loads = []
    real_load = mapindex.load
    monkeypatch.setattr(mapindex, "load", lambda db: loads.append(1) or real_load(db))
    ids = [r[0] for r in db.execute("SELECT id FROM organisations")]
    for org_id in rng.sample(ids, 30):
        state = catalogue.organisation_state(db, org_id)
        state["values"].update(country=rng.choice(COUNTRIES), name=rng.choice(NAMES) + " edited",
                               status=rng.choice(("published", "draft", "archived")))
        state["related"]["themes"] = rng.sample([*vocab.themes().codes(), *CHILDREN], 2)
        state["related"]["needs"] = {r: "" for r in rng.sample(vocab.resources().codes(), rng.randint(0, 2))}
        state["values"]["relation"] = rng.choice(vocab.relations().codes())
        state["projects"], state["visits"] = rng.sample(["p1", "p2"], rng.randint(0, 2)), rng.sample(["v1", "v2"], 1)
        catalogue.restore_state(db, org_id, state)
    for org_id in rng.sample(ids, 20):
        catalogue.delete_organisation(db, org_id)
    agree(db, rng, 20, index)
    for n in range(30):  # new ones, with new ids
        catalogue.save_organisation(db, {"name": f"Late {n}", "country": "CY", "lat": 35.0, "lon": 33.0,
                                         "status": "published", "source": "t", "source_ref": f"late{n}"},
                                    themes=["AM50"])
    agree(db, rng, 40, index)
    assert not loads  # every change was patched in, nothing read again
    if shared:  # a process starting now maps the kept columns and patches them to date
        fresh = mapindex.MapIndex(tmp_path / "map")
        agree(db, rng, 10, fresh)
        assert not loads


def test_a_snapshot_is_built_here_when_no_separate_process_can(db, tmp_path, monkeypatch, caplog):
    populate(db, random.Random(3), 60)
    monkeypatch.setattr(snapshot, "SEPARATE_PROCESS_FROM", 0)
    monkeypatch.setattr(snapshot.sys, "executable", "/bin/false")  # starts, then fails at once
    columns = mapindex.MapIndex(tmp_path / "map").get(db)
    published = db.execute("SELECT count(*) FROM organisations WHERE status = 'published'").fetchone()[0]
    assert columns.size == published > 0
    assert "the separate process failed (exit 1)" in caplog.text and "building here" in caplog.text
    assert list((tmp_path / "map").glob("map-*/meta.json"))  # kept for the other workers all the same


def test_nearest_matches_found_in_widening_boxes_are_those_of_a_full_search(db, monkeypatch):
    from mapapp.catalogue import reads

    rng = random.Random(5)
    populate(db, rng, 400)
    ids = [r[0] for r in db.execute("SELECT id FROM organisations WHERE status = 'published'")]
    sample = rng.sample(ids, 40)
    fast = {org_id: catalogue.matches(db, org_id) for org_id in sample}
    monkeypatch.setattr(reads, "MATCH_RADII", ())  # only the search over every organisation
    for org_id in sample:
        full = catalogue.matches(db, org_id)
        for kind in ("offering", "needing"):
            assert [m["id"] for m in fast[org_id][kind]] == [m["id"] for m in full[kind]], (org_id, kind)


def test_unfiltered_low_zoom_views_from_the_summed_cells_match_the_points(db):
    rng = random.Random(11)
    populate(db, rng, 400)
    columns = mapindex.MapIndex().get(db)
    everyone = mapindex.selection(columns, Filters(), db)
    for _ in range(80):
        zoom = rng.randint(0, levels.LEVELS_MAX_ZOOM)
        lat, lon = rng.uniform(35, 55), rng.uniform(-5, 30)
        bbox = BBox(lon - rng.uniform(0.5, 40), lat - rng.uniform(0.5, 20), lon + rng.uniform(0.5, 40),
                    min(85, lat + rng.uniform(0.5, 20)))
        summed = mapindex.clusters(columns, everyone, bbox, zoom, db, everything=True)
        counted = mapindex.clusters(columns, everyone, bbox, zoom, db)
        assert summed["total"] == counted["total"] == catalogue.count_organisations(db, Filters(bbox=bbox))
        assert sorted(p[0] for p in summed["points"]) == sorted(p[0] for p in counted["points"])
        assert [(c[2], c[3]) for c in summed["clusters"]] == [(c[2], c[3]) for c in counted["clusters"]]
        assert all(abs(a[0] - b[0]) < 1e-4 and abs(a[1] - b[1]) < 1e-4
                   for a, b in zip(summed["clusters"], counted["clusters"]))


@pytest.mark.parametrize("few", [2000, 0])
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_matches_from_the_columns_are_those_of_the_sql(db, monkeypatch, few):
    """The organisation page's partners come from the columns: the same organisations in the
    same order, with the same shared resources, as the SQL's full search (``few=0``: the
    case of fewer located matches than asked for goes back to the SQL)."""
    from mapapp.catalogue import reads

    monkeypatch.setattr(mapindex, "FEW_CANDIDATES", few)
    rng = random.Random(9)
    populate(db, rng, 400)
    # Several at one point: ties in distance rank by shared resources, then name.
    together = rng.sample([r[0] for r in db.execute("SELECT id FROM organisations")], 60)
    for org_id in together:
        db.execute("UPDATE organisations SET lat = 45.0, lon = 5.0 WHERE id = ?", [org_id])
    columns = mapindex.MapIndex().get(db)
    monkeypatch.setattr(reads, "MATCH_RADII", ())
    slugs = [r[0] for r in db.execute("SELECT slug FROM organisations WHERE status = 'published'")]
    at_the_point = [r[0] for r in db.execute(
        f"SELECT slug FROM organisations WHERE status = 'published' AND id IN ({', '.join('?' * len(together))})",
        together)]
    compared = 0
    for slug in at_the_point + rng.sample(slugs, 40):
        org = catalogue.get_organisation(db, slug)
        fast = mapindex.matches(columns, db, org, limit=5)
        full = catalogue.matches(db, org["id"], limit=5)
        for kind in ("offering", "needing"):
            assert [(m["id"], m["shared"]) for m in fast[kind]] == [(m["id"], m["shared"]) for m in full[kind]], \
                (slug, kind)
            compared += len(full[kind])
    assert compared > 200


def test_the_first_edit_after_a_bulk_import_is_patched_in_not_read_again(db, monkeypatch):
    """A bulk import marks its organisations changed at its version; columns read after it
    hold them, so the edit that follows is patched in (a full read takes seconds at 1M), and
    so is a small import."""
    catalogue.bulk_insert(db, [({"name": f"Bulk {i}", "country": "FR", "lat": 45.0, "lon": 5.0,
                                 "status": "published", "source": "b", "source_ref": str(i)},
                                {"themes": [], "needs": {}, "offers": {}, "descriptions": {}}) for i in range(50)],
                          catalogue.all_slugs(db))
    index = mapindex.MapIndex()
    assert index.get(db).size == 50
    loads = []
    real_load = mapindex.load
    monkeypatch.setattr(mapindex, "load", lambda db: loads.append(1) or real_load(db))
    org_id = db.execute("SELECT min(id) FROM organisations").fetchone()[0]
    state = catalogue.organisation_state(db, org_id)
    state["values"]["country"] = "CY"
    catalogue.restore_state(db, org_id, state)
    columns = index.get(db)
    assert mapindex.facet_counts(columns, Filters(), db)["country"]["CY"] == 1
    assert not loads
    # A small import (its triggers swapped for set-based statements, which raises the schema
    # cookie) is patched in like an edit: same lineage, nothing read again, in its place by name.
    lineage = catalogue.state(db).lineage
    catalogue.bulk_insert(db, [({"name": "Bulk 10a", "country": "BE", "status": "published"},
                                {"themes": [], "needs": {}, "offers": {}, "descriptions": {}})],
                          catalogue.all_slugs(db))
    assert catalogue.state(db).lineage == lineage
    columns = index.get(db)
    assert columns.size == 51 and not loads
    assert mapindex.facet_counts(columns, Filters(), db)["country"]["BE"] == 1
    assert mapindex.listing(columns, Filters(), db, limit=60)[1] == [
        o["id"] for o in catalogue.find_organisations(db, Filters(), limit=60)]
    # A large one (past NOTED_ONE_BY_ONE new organisations) is read again.
    monkeypatch.setattr(catalogue.writes, "NOTED_ONE_BY_ONE", 2)
    catalogue.bulk_insert(db, [({"name": f"Later {i}", "country": "BE", "status": "published"},
                                {"themes": [], "needs": {}, "offers": {}, "descriptions": {}}) for i in range(3)],
                          catalogue.all_slugs(db))
    assert index.get(db).size == 54 and loads == [1]
    # A small import right after a large one is patched in again.
    catalogue.bulk_insert(db, [({"name": "Last", "country": "BE", "status": "published"},
                                {"themes": [], "needs": {}, "offers": {}, "descriptions": {}})],
                          catalogue.all_slugs(db))
    assert index.get(db).size == 55 and loads == [1]
    # A migration or a restore (the cookie moved by something else) is another lineage.
    db.execute("CREATE TABLE unrelated (x)")
    assert catalogue.state(db).lineage != lineage


def test_the_first_of_a_list_are_found_by_blocks_as_by_a_full_pass():
    # The list's first page reads the lists' order a block at a time; whatever the
    # selection's density and the page's depth, the answer is the full pass's.
    import numpy as np

    rng = np.random.default_rng(3)
    order = rng.permutation(200_000)
    for density in (1.0, 0.3, 0.01, 0.0005, 0.0):
        mask = rng.random(200_000) < density
        full = order[mask[order]]
        for want in (0, 1, 50, 5_000, 150_000, 250_000):
            assert np.array_equal(mapindex._first_in_order(order, mask, want), full[:want]), (density, want)


def test_a_draft_published_after_newer_ones_is_patched_in_at_its_place(db, monkeypatch):
    """Publishing a draft older than published organisations (a draft import, a moderated
    entry) patches it in where its id sorts: every organisation after it is still found,
    counted and filtered, and nothing is read again."""
    saved = [catalogue.save_organisation(db, {
        "name": f"Org {i}", "country": "BE" if i == 3 else "FR", "lat": 45.0 + i, "lon": 5.0,
        "status": "draft" if i in (1, 2) else "published", "source": "t", "source_ref": str(i)},
        themes=["AM40"] if i in (1, 4) else []).id for i in range(6)]
    index = mapindex.MapIndex()
    assert index.get(db).size == 4
    loads = []
    real_load = mapindex.load
    monkeypatch.setattr(mapindex, "load", lambda db: loads.append(1) or real_load(db))

    def same_as_sql(columns) -> None:
        for filters in (Filters(), Filters(theme=("AM40",)), Filters(country=("BE",)), Filters(country=("FR",))):
            total, ids = mapindex.listing(columns, filters, db, limit=10)
            assert ids == [o["id"] for o in catalogue.find_organisations(db, filters)], filters
            assert total == len(ids)
        counts = mapindex.facet_counts(columns, Filters(), db)
        assert counts["theme"]["AM40"] == catalogue.count_organisations(db, Filters(theme=("AM40",)))
        assert counts["country"].get("BE", 0) == catalogue.count_organisations(db, Filters(country=("BE",)))

    catalogue.set_status(db, [saved[1]], "published")
    same_as_sql(index.get(db))
    catalogue.set_status(db, [saved[3]], "draft")  # one after it withdrawn, another before it published
    catalogue.set_status(db, [saved[2]], "published")
    columns = index.get(db)
    same_as_sql(columns)
    assert list(columns.ids) == sorted(columns.ids)
    assert not loads


@pytest.mark.parametrize("kind", [k.name for k in kinds.REGISTRY if isinstance(k.stored, kinds.Link)])
def test_every_table_a_kind_is_kept_in_notes_its_changes(db, kind):
    """The columns are patched with the organisations noted as changed since they were read:
    a kind's link table (and the table of its entries) must note every write, or its counts
    stay stale until a full read. A new kind's tables get these triggers in its migration."""
    entry = kinds.BY_NAME[kind]
    notes = {entry.stored.table: "INSERT INTO organisation_changes VALUES ({row}.organisation_id"}
    if isinstance(entry.vocabulary, kinds.Entries):  # a renamed or deleted entry: every organisation
        notes[entry.vocabulary.table] = "INSERT INTO organisation_changes VALUES (0"
    for table, note in notes.items():
        triggers = [sql for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                                                 " AND tbl_name = ?", [table])]
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            begins = f"AFTER {event} ON {table} BEGIN "
            assert any(begins + "UPDATE catalogue_version SET version" in sql for sql in triggers), (table, event)
            noting = [sql for sql in triggers if begins in sql and note.format(row=row) in sql]
            assert noting, (table, event)
            if table == getattr(entry.vocabulary, "table", None):  # noted at the version the change brings
                assert all(sql.index("UPDATE catalogue_version") < sql.index(note.format(row=row)) for sql in noting)



def test_a_large_import_is_read_in_the_background_while_the_previous_columns_answer(db, tmp_path, monkeypatch):
    """After an import too large to patch, the map keeps answering from the columns it had
    (no request reads the catalogue again) until the new ones are read in a thread; then
    they replace them, and an edit made meanwhile is patched in on top."""
    import threading

    def bulk(names):  # committed, as an import is: the read in the background has its own connection
        with catalogue.write_transaction(db):
            catalogue.bulk_insert(db, [({"name": n, "country": "BE", "lat": 50.0, "lon": 4.0, "status": "published"},
                                        {"themes": [], "needs": {}, "offers": {}, "descriptions": {}}) for n in names],
                                  catalogue.all_slugs(db))

    monkeypatch.setattr(mapindex, "BACKGROUND_FROM", 10)  # as if these 20 were a large catalogue
    bulk([f"First {i}" for i in range(20)])
    index = mapindex.MapIndex(tmp_path / "map", background=True)
    assert index.get(db).size == 20
    release, reading = threading.Event(), []
    real_build = snapshot.build

    def slow_build(*args):
        reading.append(threading.current_thread().name)
        release.wait(30)
        return real_build(*args)

    monkeypatch.setattr(snapshot, "build", slow_build)
    monkeypatch.setattr(catalogue.writes, "NOTED_ONE_BY_ONE", 5)
    bulk([f"Second {i}" for i in range(10)])
    served = index.get(db)  # returns at once: the read waits for ``release``
    assert served.size == 20
    assert mapindex.facet_counts(served, Filters(), db)["country"]["BE"] == 20
    org_id = db.execute("SELECT min(id) FROM organisations").fetchone()[0]
    state = catalogue.organisation_state(db, org_id)
    state["values"]["country"] = "CY"
    catalogue.restore_state(db, org_id, state)
    assert index.get(db).size == 20  # still the previous columns, one read only
    release.set()
    index.wait(30)
    assert reading and all(name != threading.current_thread().name for name in reading)
    columns = index.get(db)
    assert columns.size == 30 and index.reads == 1
    counts = mapindex.facet_counts(columns, Filters(), db)["country"]
    assert counts["BE"] == 29 and counts["CY"] == 1
    assert mapindex.listing(columns, Filters(), db, limit=40)[1] == [
        o["id"] for o in catalogue.find_organisations(db, Filters(), limit=40)]


def test_a_parent_category_selects_its_children_alike_in_memory_and_in_sql(db):
    """An organisation filed only under a child is found, counted once, under its parent:
    by the SQL, the map index read whole and the map index patched after an edit."""
    add_children(db)
    a = catalogue.save_organisation(db, {"name": "A", "country": "FR", "lat": 45.0, "lon": 5.0, "status": "published",
                                         "source": "t", "source_ref": "a"}, themes=["repair-cafes"]).id
    b = catalogue.save_organisation(db, {"name": "B", "country": "FR", "lat": 46.0, "lon": 5.0, "status": "published",
                                         "source": "t", "source_ref": "b"}, themes=["AM120", "Tool-Library"]).id
    catalogue.save_organisation(db, {"name": "C", "country": "FR", "lat": 47.0, "lon": 5.0, "status": "published",
                                     "source": "t", "source_ref": "c"}, themes=["AM40"])
    index = mapindex.MapIndex()
    parent = Filters(theme=("AM120",))
    assert [o["id"] for o in catalogue.find_organisations(db, parent)] == [a, b]
    assert mapindex.listing(index.get(db), parent, db, limit=10) == (2, [a, b])
    counts = mapindex.facet_counts(index.get(db), Filters(), db)["theme"]
    assert (counts["AM120"], counts["repair-cafes"], counts["Tool-Library"], counts["AM40"]) == (2, 1, 1, 1)
    assert [o["id"] for o in catalogue.find_organisations(db, Filters(theme=("repair-cafes",)))] == [a]

    state = catalogue.organisation_state(db, a)  # moved to a child of another parent: patched in
    state["related"]["themes"] = ["am40-adult"]
    catalogue.restore_state(db, a, state)
    loads = []
    real_load = mapindex.load
    mapindex.load = lambda db: loads.append(1) or real_load(db)
    try:
        columns = index.get(db)
    finally:
        mapindex.load = real_load
    assert not loads  # patched, not read again
    assert mapindex.listing(columns, parent, db, limit=10) == (1, [b])
    assert [o["id"] for o in catalogue.find_organisations(db, Filters(theme=("AM40",)))] == \
        mapindex.listing(columns, Filters(theme=("AM40",)), db, limit=10)[1] == [a, 3]


def _shrunk(box: BBox, zoom: int, pixels: float) -> BBox:
    """``box`` with ``pixels`` (screen pixels at ``zoom``) taken off each side."""
    world = 256 * 2 ** zoom
    lon = 360.0 * pixels / world
    y = 2 * math.pi * pixels / world
    south = mapindex._latitude(float(mapindex.mercator_y(box.min_lat)) + y)
    north = mapindex._latitude(float(mapindex.mercator_y(box.max_lat)) - y)
    return BBox(box.min_lon + lon, south, box.max_lon - lon, north)


def _within(inner: BBox, bounds) -> bool:
    west, south, east, north = bounds
    return inner.min_lon <= west and east <= inner.max_lon and inner.min_lat <= south and north <= inner.max_lat


@pytest.mark.parametrize("filtered", (False, True))
def test_views_snapped_to_the_tile_grid_show_the_same_clusters_inside_the_view(db, filtered):
    """The map asks for its view widened to the tile grid (so that visitors share URLs):
    what lies inside the view is clustered as the view's own box clusters it, and every
    organisation of the widened box is counted once, in whole cells."""
    rng = random.Random(31 + filtered)
    populate(db, rng, 400)
    index = mapindex.MapIndex()
    columns = index.get(db)
    snapped_views = compared = 0
    for _ in range(60):
        zoom = rng.randint(3, 12)
        filters = random_filters(db, rng) if filtered else Filters()
        world = 256 * 2 ** zoom
        width, height = rng.randint(320, 1600), rng.randint(300, 900)  # the map's size on screen
        lat, lon = rng.uniform(38, 52), rng.uniform(0, 25)
        x = (lon + 180.0) / 360.0 * world
        y = float(mapindex.mercator_y(lat)) / (2 * math.pi) * world
        pad = 0.1  # as the map pads its view (map.getBounds().pad(0.1))
        half_w, half_h = width * (0.5 + pad), height * (0.5 + pad)
        padded = BBox(round((x - half_w) / world * 360.0 - 180.0, 5),
                      round(mapindex._latitude((y - half_h) / world * 2 * math.pi), 5),
                      round((x + half_w) / world * 360.0 - 180.0, 5),
                      round(mapindex._latitude((y + half_h) / world * 2 * math.pi), 5))
        snapped = mapindex.snap_bbox(padded, zoom)
        if snapped is None:
            continue
        snapped_views += 1
        assert snapped.min_lon <= padded.min_lon and snapped.max_lon >= padded.max_lon
        assert snapped.min_lat <= padded.min_lat and snapped.max_lat >= padded.max_lat
        everything = not filtered or mapindex.count_bits(mapindex.selection_bits(columns, filters, db)) == \
            mapindex.count_bits(columns.live)
        mask = mapindex.selection(columns, filters, db)
        today = mapindex.clusters(columns, mask, padded, zoom, db, everything=everything)
        tiled = mapindex.clusters(columns, mask, snapped, zoom, db, everything=everything)
        in_tiles = Filters(**{**filters.__dict__, "bbox": snapped})
        assert tiled["total"] == catalogue.count_organisations(db, in_tiles)
        assert tiled["total"] == sum(c[2] for c in tiled["clusters"]) + len(tiled["points"])
        # Inside the view, away from its edges by a cell and a merge distance, the same.
        inner = _shrunk(padded, zoom, width * pad + levels.CELL_PIXELS + mapindex.MERGE_PIXELS)
        if inner.min_lon >= inner.max_lon or inner.min_lat >= inner.max_lat:
            continue
        def seen(answer):
            groups = sorted((c[2], tuple(c[3])) for c in answer["clusters"] if _within(inner, c[3]))
            singles = sorted(p[0] for p in answer["points"] if _within(inner, (p[3], p[2], p[3], p[2])))
            return groups, singles
        assert seen(tiled) == seen(today), (zoom, padded, snapped)
        compared += bool(seen(today)[0]) + bool(seen(today)[1])
    assert snapped_views > 20 and compared > 10


def test_a_bulk_insert_writes_its_rows_with_no_trigger_on_their_insert_and_puts_them_back(db):
    """Issue 31: any trigger left on the organisations' inserts, even one whose WHEN is false
    (the sort key's, which bulk_insert gives itself), made SQLite keep a statement journal for
    every row: each page its insert touched was first copied to a temporary file, which took
    two thirds of a browser import's writing."""
    seen = []

    class Watching:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def executemany(self, sql, rows):
            if sql.startswith("INSERT INTO organisations "):
                seen.append(self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'organisations'"
                    " AND sql LIKE '%AFTER INSERT%'").fetchall())
            return self._conn.executemany(sql, rows)
    real = db.conn
    db.conn = Watching(real)
    try:
        with catalogue.write_transaction(db):
            catalogue.bulk_insert(db, [({"name": name, "status": "published"},
                                        {"themes": [], "needs": {}, "offers": {}, "descriptions": {}})
                                       for name in ("Économie Verte", "Ωμέγα", "zeta")])
    finally:
        db.conn = real
    assert seen == [[]]
    assert [r[0] for r in db.execute("SELECT sort_key FROM organisations ORDER BY id")] == [
        "economie verte", "ωμεγα", "zeta"]
    # The triggers are back for every other writer: a row added without its key gets it.
    db.execute("INSERT INTO organisations (slug, name, created_at, updated_at) VALUES ('b', 'Βήτα', '', '')")
    assert db.execute("SELECT sort_key FROM organisations WHERE slug = 'b'").fetchone()[0] == "βητα"
    assert catalogue.search_ids(db, "βητα") == [db.execute("SELECT id FROM organisations WHERE slug = 'b'").fetchone()[0]]
