"""Cold paths at scale (issue 31): the map's low zooms patched with a change instead of
summed again, kept on disk with the snapshot for a fresh worker, and the figures of /stats
counted by the job worker and served to every web worker."""

from __future__ import annotations

import random

import numpy as np

from mapapp import catalogue
from mapapp.filters import BBox, Filters
from mapapp.mapdata import levels, mapindex, snapshot


def _org(rng: random.Random, i: int, **extra) -> dict:
    located = rng.random() < 0.9
    return {"name": f"Org {rng.randint(0, 500)}", "country": rng.choice(("FR", "BE", "IT", "PL")),
            "lat": rng.uniform(35, 60) if located else None, "lon": rng.uniform(-10, 30) if located else None,
            "status": rng.choice(("published", "published", "published", "draft")), "source": "t",
            "source_ref": str(i), **extra}


def _bulk(db, rows: list[dict]) -> None:
    with catalogue.write_transaction(db):
        catalogue.bulk_insert(db, [(row, {"themes": [], "needs": {}, "offers": {}, "descriptions": {}})
                                   for row in rows], catalogue.all_slugs(db))


def _same_levels(patched: mapindex.MapColumns) -> None:
    """Each patched zoom is, to the last bit, the level summed afresh from the columns."""
    fresh = mapindex.MapColumns(patched.version, patched.ids, patched.lat, patched.lon, patched.merc_y,
                                patched.facets, name_order=patched.name_order, live=patched.live,
                                names=patched.names, category=patched.category, palette=patched.palette)
    for zoom in range(levels.LEVELS_MAX_ZOOM + 1):
        mine = levels.zoom_level(patched, zoom)
        summed = levels.levels_summed
        theirs = levels.zoom_level(fresh, zoom)
        levels.levels_summed = summed  # (counted by the caller: this one is the reference)
        assert np.array_equal(mine.keys, theirs.keys), zoom
        assert np.array_equal(mine.starts, theirs.starts), zoom
        assert np.array_equal(mine.order, theirs.order), zoom
        for name in levels.Sums.__dataclass_fields__:
            assert np.array_equal(getattr(mine.sums, name), getattr(theirs.sums, name)), (zoom, name)


def test_edits_and_small_imports_patch_the_low_zooms_instead_of_summing_them_again(db):
    rng = random.Random(5)
    saved = [catalogue.save_organisation(db, _org(rng, i)).id for i in range(300)]
    index = mapindex.MapIndex()
    columns = index.get(db)
    for zoom in range(levels.LEVELS_MAX_ZOOM + 1):
        levels.zoom_level(columns, zoom)
    europe = BBox(-25, 34, 45, 72)
    for step in range(12):
        which = step % 4
        if which == 0:  # an import of a few new ones
            _bulk(db, [_org(rng, 1000 + 10 * step + k, status="published") for k in range(rng.randint(1, 5))])
        elif which == 1:  # moved, unpublished, deleted
            org_id = rng.choice(saved)
            state = catalogue.organisation_state(db, org_id)
            state["values"]["lat"], state["values"]["lon"] = rng.uniform(35, 60), rng.uniform(-10, 30)
            catalogue.restore_state(db, org_id, state)
            catalogue.set_status(db, [rng.choice(saved)], "draft")
            catalogue.delete_organisation(db, saved.pop(rng.randrange(len(saved))))
        elif which == 2:  # an older draft published: the positions after it move
            drafts = [i for i, s in zip(saved, catalogue.statuses_of(db, saved).values()) if s == "draft"]
            catalogue.set_status(db, rng.sample(drafts, min(2, len(drafts))), "published")
        else:  # one without a place, one given a place
            org_id = rng.choice(saved)
            state = catalogue.organisation_state(db, org_id)
            state["values"]["lat"] = state["values"]["lon"] = None
            catalogue.restore_state(db, org_id, state)
        summed = levels.levels_summed
        columns = index.get(db)
        if step % 3 == 2:
            continue  # its zooms left to patch: the next change patches them first
        _same_levels(columns)
        assert levels.levels_summed == summed  # patched, none summed again from every point
        answer = mapindex.clusters(columns, None, europe, 4, db, everything=True)
        assert answer["total"] == catalogue.count_organisations(db, Filters(bbox=europe))


def test_a_fresh_worker_answers_from_the_snapshot_on_disk_reading_and_summing_nothing(db, db_path, tmp_path,
                                                                                       monkeypatch):
    """A new gunicorn worker maps the snapshot another built (its low zooms included) and
    answers its first map and page without reading the organisations or summing a point."""
    from mapapp import create_app

    rng = random.Random(8)
    _bulk(db, [_org(rng, i, status="published") for i in range(400)])
    settings = {"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")}
    first = create_app(settings).test_client()
    assert first.get("/api/clusters?bbox=-25,34,45,72&zoom=4").status_code == 200  # builds the snapshot
    work = []
    for module, name in ((mapindex, "load"), (snapshot, "build"), (levels, "grid"), (levels, "summed"),
                         (catalogue, "iter_map_rows")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: work.append(_name) or _real(*a, **k))
    fresh = create_app(settings).test_client()
    europe = fresh.get("/api/clusters?bbox=-40,20,60,75&zoom=3")  # every cell wholly inside: no edge summed
    assert europe.status_code == 200
    assert europe.get_json()["total"] == catalogue.count_organisations(db, Filters(bbox=BBox(-40, 20, 60, 75)))
    assert fresh.get("/").status_code == 200
    assert work == []


def summary(page) -> str:
    """The count at the head of /stats ("3 organisations")."""
    import re

    found = re.search(r'class="insights-summary">\s*([^<·]*?)\s*[·<]', page.get_data(as_text=True))
    return found.group(1) if found else ""


def test_stats_after_an_edit_serve_the_stored_figures_then_those_the_job_worker_counted(
        app, db, db_path, tmp_path, worker, monkeypatch):
    """With the job worker running, every web worker serves the figures of /stats it keeps in
    a file: after an edit, the previous ones with their date, until the job worker has counted
    the new ones once for all of them (not once per web worker, each in its own thread)."""
    import threading
    import time

    from support import make_org

    from mapapp import create_app
    from mapapp.insights import numbers
    from mapapp.jobs import queue

    monkeypatch.setattr(mapindex, "BACKGROUND_FROM", 0)  # as for a large catalogue
    monkeypatch.setattr(queue, "STATS_DEBOUNCE", 0.2)
    for i, country in enumerate(("FR", "FR", "PL")):
        make_org(db, f"Org {i}", country=country, needs={"premises": ""})
    one = app.test_client()
    assert summary(one.get("/stats?lang=en")) == "3 organisations"  # counted here, then kept
    counting, release = [], threading.Event()
    real = numbers.compute

    def held(*args, **kwargs):  # the job worker's count waits until the pages meanwhile are seen
        counting.append(threading.current_thread().name)
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(numbers, "compute", held)
    other = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                        "CACHE_DIR": str(tmp_path / "cache")}).test_client()
    release.set()
    page = other.get("/stats?lang=en")  # another web worker: the kept figures
    assert summary(page) == "3 organisations" and "being counted" not in page.get_data(as_text=True) and not counting

    release.clear()
    make_org(db, "=1+1 Nouvelle <script>alert(1)</script> {{ 7*7 }}", country="PL", needs={"premises": ""})
    for client in (one, other, one, other):
        page = client.get("/stats?lang=en")
        text = page.get_data(as_text=True)
        assert summary(page) == "3 organisations" and "the latest changes are being counted" in text
        assert page.headers["Cache-Control"] == "no-store"
    release.set()
    deadline = time.monotonic() + 30
    while summary(page := other.get("/stats?lang=en")) != "4 organisations":
        assert time.monotonic() < deadline, "the job worker never counted the new figures"
        time.sleep(0.1)
    text = page.get_data(as_text=True)
    assert "being counted" not in text and "<script>alert" not in text
    assert "=1+1 Nouvelle &lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in text  # its unmet need, as text
    assert "'=1+1 Nouvelle <script>" in one.get("/stats/unmet.csv?lang=en").get_data(as_text=True)
    assert summary(one.get("/stats?lang=en")) == "4 organisations"
    assert len(counting) == 1 and threading.current_thread().name not in counting  # once, by the job worker
    assert one.get("/stats/countries.csv?lang=en").get_data(as_text=True).count("Poland,2") == 1


def test_the_first_map_answer_after_a_one_row_import_shows_it_from_patched_columns(db, db_path, tmp_path, monkeypatch):
    """An import of one organisation is patched into the map like an edit: the next answer
    shows it, nothing is read again from the catalogue, no snapshot built, no zoom summed."""
    from mapapp import create_app

    rng = random.Random(3)
    _bulk(db, [_org(rng, i, status="published") for i in range(300)])
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                         "CACHE_DIR": str(tmp_path / "cache")}).test_client()
    assert client.get("/api/clusters?bbox=-25,34,45,72&zoom=4").status_code == 200
    work = []
    for module, name in ((mapindex, "load"), (snapshot, "build"), (catalogue, "iter_map_rows")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: work.append(_name) or _real(*a, **k))
    summed = levels.levels_summed
    _bulk(db, [{"name": "Imported <b>one</b>", "country": "BE", "lat": 50.8503, "lon": 4.3517, "status": "published",
                "source": "import", "source_ref": "one"}])
    europe = client.get("/api/clusters?bbox=-25,34,45,72&zoom=4").get_json()
    assert europe["total"] == catalogue.count_organisations(db, Filters(bbox=BBox(-25, 34, 45, 72)))
    city = client.get("/api/clusters?bbox=4.30,50.80,4.40,50.90&zoom=15").get_json()
    assert "Imported <b>one</b>" in [p[1] for p in city["points"]]
    assert work == [] and levels.levels_summed == summed
