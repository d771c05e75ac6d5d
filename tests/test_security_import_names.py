"""Audit #24, reliability: names repeat in real directories (a chain, a common name), and an
import must give every organisation its own address (slug) however the file is read: in
this process or by a second one, in one transaction or in the browser's batches, whatever
the catalogue already holds or once held. Each test replays a file that made the import
fail with ``UNIQUE constraint failed: organisations.slug`` (nothing imported)."""

import csv
import random

import pytest
from support import make_org

from mapapp import catalogue
from mapapp.importing import importer, reading
from mapapp.mapdata.geocode import Chain

HEADER = ("id", "name", "city", "country", "lat", "lon")
CITIES = [("London", "GB", 51.507, -0.128), ("Lyon", "FR", 45.764, 4.836), ("Gent", "BE", 51.054, 3.717),
          ("Bologna", "IT", 44.495, 11.343), ("Poznań", "PL", 52.406, 16.925)]
# Made-up towns: enough of them that many names are first seen late in the file.
TOWNS = [root + end for root in ("Ald", "Bel", "Cor", "Dun", "Esk", "Fal", "Gor", "Hal", "Kel", "Mor")
         for end in ("ton", "ville", "burg", "stad", "ia", "ford", "mouth", "heim")]
WORDS = ["Garden", "Harvest", "Green", "Agora", "Spark"]
FORMS = ["Collective", "Credit Union", "Cooperative"]


def import_csv(db, path, **options):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, path, importer.Options(source="directory", **options), chain)


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def directory(n: int, seed: int = 3) -> list[tuple]:
    """Rows named as the shared benchmark generator names them ("Garden Collective Aldton",
    sometimes with a number: "Garden Collective Aldton 2"), so that names repeat, and a
    numbered name often comes before the plain one that it looks like the second of: as
    in the first row and the two in the middle of the file."""
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        if i in (1, n // 2 + 1, n // 2 + 2):  # the two in one chunk (chunks start at a round row)
            rows.append((i, "Garden Collective London" + (" 2" if i == 1 else ""), "London", "GB", 51.5, -0.12))
            continue
        _, country, lat, lon = rng.choice(CITIES)
        city = rng.choice(TOWNS)
        name = f"{rng.choice(WORDS)} {rng.choice(FORMS)} {city}"
        if rng.random() < 0.3:
            name += f" {rng.randint(2, 9)}"
        rows.append((i, name, city, country, round(lat + rng.uniform(-0.05, 0.05), 5),
                     round(lon + rng.uniform(-0.05, 0.05), 5)))
    return rows


def addresses(report) -> dict[int, str]:
    """Row number → the slug the report gives it."""
    return {o.row: o.slug for o in report.rows}


def assert_every_row_has_its_own_page(db, report, rows, *, created: int):
    """What a person checks: every row imported, no row refused, each row's link opens that
    row's organisation, no two rows share one."""
    assert report.counts["created"] == created and report.counts["skipped"] == 0
    assert [i for i in report.issues if i.level == "error"] == []
    slugs = addresses(report)
    assert len(slugs) == len(rows) and len(set(slugs.values())) == len(rows)
    stored = {slug: (ref, name) for slug, ref, name in db.execute("SELECT slug, source_ref, name FROM organisations")}
    for number, row in zip(range(2, len(rows) + 2), rows):
        assert stored[slugs[number]] == (str(row[0]), row[1])


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(reading, "CHUNK_ROWS", 50)


@pytest.mark.parametrize("second_process", [False, pytest.param(True, marks=pytest.mark.slow)],  # a process: slow
                         ids=["read here", "read by a second process"])
def test_names_repeating_across_chunks_each_get_their_own_address(db, tmp_path, small_chunks, monkeypatch,
                                                                  second_process):
    rows = directory(1500)
    path = write(tmp_path / "directory.csv", rows)
    # The importer picks the second process by size (4 MB of CSV); this file stands for one
    # that large, so that the path taken is the one a large file takes.
    monkeypatch.setattr(reading, "SECOND_PROCESS_BYTES",
                        {**reading.SECOND_PROCESS_BYTES, "csv": 1 if second_process else 10**12})
    assert reading.second_process_pays(path, reading.ReadSpec()) is second_process
    report = import_csv(db, path)
    assert_every_row_has_its_own_page(db, report, rows, created=1500)
    assert catalogue.organisation_count(db) == 1500


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_file_large_enough_for_the_second_process_imports_every_repeated_name(db, tmp_path):
    # As the audit found it: a file over the 4 MB threshold, chunks of the usual size.
    rows = directory(75_000, seed=5)
    path = write(tmp_path / "directory.csv", rows)
    assert path.stat().st_size > reading.SECOND_PROCESS_BYTES["csv"]
    assert reading.second_process_pays(path, reading.ReadSpec())
    report = import_csv(db, path)
    assert report.counts["created"] == 75_000 and [i for i in report.issues if i.level == "error"] == []
    assert len(set(addresses(report).values())) == 75_000
    assert db.execute("SELECT count(DISTINCT slug) FROM organisations").fetchone()[0] == 75_000


def test_the_browser_batches_give_repeated_names_their_own_address(db, tmp_path, small_chunks):
    rows = directory(400)
    path = write(tmp_path / "directory.csv", rows)
    # As jobs.run imports an upload: committed in batches, staff writing in between.
    report = import_csv(db, path, batch_size=30, on_commit=lambda db_, changes: None)
    assert_every_row_has_its_own_page(db, report, rows, created=400)


def test_addresses_read_as_the_name_then_the_city_then_a_number(db, tmp_path, small_chunks):
    rows = [(1, "Green Coop", "Lyon", "FR", 45.76, 4.83), (2, "Green Coop", "Gent", "BE", 51.05, 3.72),
            (3, "Green Coop", "Gent", "BE", 51.06, 3.73), (4, "Green Coop", "Lyon", "FR", 45.77, 4.84),
            (5, "Garden Collective London 2", "London", "GB", 51.50, -0.12),
            (6, "Garden Collective London", "London", "GB", 51.51, -0.13),
            (7, "Garden Collective London", "London", "GB", 51.52, -0.14),
            (8, "Κοινότητα", "Λευκωσία", "CY", 35.18, 33.38), (9, "Κοινότητα", "Λευκωσία", "CY", 35.19, 33.39)]
    report = import_csv(db, write(tmp_path / "names.csv", rows))
    assert list(addresses(report).values()) == [
        "green-coop", "green-coop-gent", "green-coop-gent-2", "green-coop-lyon",
        "garden-collective-london-2", "garden-collective-london", "garden-collective-london-3",
        "koinotita", "koinotita-leykosia"]


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_the_same_file_gets_the_same_addresses_however_it_is_read(tmp_path, monkeypatch):
    rows = directory(300, seed=11)
    path = write(tmp_path / "directory.csv", rows)
    seen = []
    for n, (chunk, second) in enumerate([(5000, False), (7, False), (7, True), (13, True)]):
        monkeypatch.setattr(reading, "CHUNK_ROWS", chunk)
        db = catalogue.connect(tmp_path / f"catalogue-{n}.db")
        try:
            seen.append(addresses(import_csv(db, path, second_process=second)))
        finally:
            db.close()
    assert len(set(seen[0].values())) == 300
    assert all(other == seen[0] for other in seen[1:])


def test_repeated_names_avoid_the_addresses_already_stored(db, tmp_path, small_chunks):
    # Stored before: what an earlier import or a form gave out, including numbered forms
    # of a name that is not stored itself (a name that ends in a number).
    for name, city in [("Harvest Credit Union London 2", "London"), ("Harvest Credit Union London 3", "London"),
                       ("Agora Collective", "Lyon"), ("Agora Collective Gent", "Gent"),
                       ("Agora Collective Gent 2", "Gent")]:
        make_org(db, name, city=city, source_ref=name)
    stored = dict(db.execute("SELECT slug, name FROM organisations").fetchall())
    rows = [(i, "Harvest Credit Union London", "London", "GB", 51.5 + i / 1000, -0.12) for i in range(1, 5)]
    rows += [(i, "Agora Collective", "Gent", "BE", 51.05 + i / 1000, 3.72) for i in range(5, 60)]
    report = import_csv(db, write(tmp_path / "again.csv", rows))
    assert_every_row_has_its_own_page(db, report, rows, created=len(rows))
    assert not set(addresses(report).values()) & set(stored)
    # What was stored still answers at its address.
    assert {s: catalogue.get_organisation(db, s)["name"] for s in stored} == stored


def test_a_deleted_organisations_address_is_not_given_to_another(db, client, tmp_path):
    # Its page was public: links to it (bookmarks, other sites, the change feed's
    # "withdrawn" entry) must not lead to a different organisation now.
    gone = make_org(db, "Spark Cooperative", city="Lyon")
    assert client.get(f"/organisations/{gone.slug}").status_code == 200
    with catalogue.write_transaction(db):
        catalogue.delete_organisation(db, gone.id)
    rows = [(1, "Spark Cooperative", "Poznań", "PL", 52.40, 16.92), (2, "Spark Cooperative", "Lyon", "FR", 45.76, 4.83)]
    report = import_csv(db, write(tmp_path / "new.csv", rows), status="published")
    assert gone.slug not in addresses(report).values()
    assert client.get(f"/organisations/{gone.slug}").status_code == 404
    assert make_org(db, "Spark Cooperative", source_ref="form").slug != gone.slug


def test_an_address_deleted_between_the_browser_batches_is_not_given_either(db, tmp_path, small_chunks):
    gone = make_org(db, "Spark Cooperative", city="Lyon")
    deleted = []

    def staff_deletes_it(db_, changes):  # as staff would between two batches
        if not deleted:
            catalogue.delete_organisation(db_, gone.id)
            deleted.append(gone.slug)

    rows = [(i, f"Filler {i}", "Gent", "BE", 51.05, 3.72) for i in range(1, 40)]
    rows.append((40, "Spark Cooperative", "Poznań", "PL", 52.40, 16.92))
    report = import_csv(db, write(tmp_path / "later.csv", rows), batch_size=5, on_commit=staff_deletes_it)
    assert deleted == ["spark-cooperative"] and report.counts["created"] == 40
    assert addresses(report)[41] == "spark-cooperative-poznan"


def test_importing_the_same_file_again_changes_no_address(db, tmp_path, small_chunks):
    rows = directory(600, seed=7)
    path = write(tmp_path / "directory.csv", rows)
    first = import_csv(db, path)
    stored = dict(db.execute("SELECT id, slug FROM organisations").fetchall())
    again = import_csv(db, path)
    assert again.counts["unchanged"] == 600 and again.counts["created"] == 0
    assert addresses(again) == addresses(first)
    assert dict(db.execute("SELECT id, slug FROM organisations").fetchall()) == stored


def test_a_large_load_picks_from_every_slug_held_in_memory_the_addresses_the_queries_give(tmp_path, small_chunks,
                                                                                         monkeypatch):
    """Issue 31: a load larger than the catalogue reads every stored slug once and picks from
    memory (a query per chunk, and one per numbered address, were 3 s of a million rows): the
    addresses are those the queries give, beside stored, numbered and withdrawn ones."""
    rows = directory(1200, seed=11)
    path = write(tmp_path / "directory.csv", rows)
    given, held = {}, []
    real_hold = catalogue.slugs.Picker.hold_all
    monkeypatch.setattr(catalogue.slugs.Picker, "hold_all", lambda self: held.append(1) or real_hold(self))
    for large in (False, True):
        db = catalogue.connect(tmp_path / f"{large}.db")
        for name, city in (("Garden Collective London", "London"), ("Garden Collective London", "London"),
                           ("Garden Collective London", "London")):
            make_org(db, name, city=city, status="published")
        withdrawn = make_org(db, "Garden Collective London 3", city="London", status="published")
        catalogue.delete_organisation(db, withdrawn.id)  # its address stays its own
        db.conn.commit()
        monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 40 if large else 10**9)
        report = import_csv(db, path)
        assert len(held) == large  # only the large load held every slug
        assert_every_row_has_its_own_page(db, report, rows, created=1200)
        given[large] = addresses(report)
        assert "garden-collective-london-3" not in given[large].values()
        db.close()
    assert given[True] == given[False]


@pytest.mark.parametrize("how", ["added", "brought back with its old id"])
@pytest.mark.parametrize("large", [False, True], ids=["slugs asked of the catalogue", "every slug held"])
def test_an_address_taken_between_the_browser_batches_is_not_given_again(db, tmp_path, monkeypatch, large, how):
    """Staff add an organisation between two batches of a browser import, or bring one back
    (as the demo's undo does, with its old id): its address is not given to a later row,
    whether the import asks the catalogue for each chunk's slugs or holds every stored slug
    (a large load: issue 31) and reads those added since."""
    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)
    monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 5 if large else 10**9)
    held = []
    real_hold = catalogue.slugs.Picker.hold_all
    monkeypatch.setattr(catalogue.slugs.Picker, "hold_all", lambda self, **kw: held.append(kw) or real_hold(self, **kw))
    gone = make_org(db, "Spark Cooperative", city="Lyon", status="draft")
    row = db.execute("SELECT * FROM organisations WHERE id = ?", [gone.id]).fetchone()
    columns = [d[0] for d in db.execute("SELECT * FROM organisations LIMIT 0").description]
    catalogue.delete_organisation(db, gone.id)
    db.conn.commit()
    commits = []

    def staff_writes(db_, changes):  # as staff would between two batches (here at the end of one)
        commits.append(len(changes))
        if len(commits) == 2:  # once the import holds its slugs
            if how == "added":
                make_org(db_, "Spark Cooperative", city="Lyon")
            else:
                db_.execute(f"INSERT INTO organisations ({', '.join(columns)}) VALUES ({', '.join('?' * len(row))})",
                            row)

    rows = [(i, f"Filler {i}", "Gent", "BE", 51.05, 3.72) for i in range(1, 40)]
    rows.append((40, "Spark Cooperative", "Poznań", "PL", 52.40, 16.92))
    report = import_csv(db, write(tmp_path / "later.csv", rows), batch_size=5, on_commit=staff_writes)
    assert held == ([{"others_may_write": True}] if large else [])
    assert len(commits) > 2 and report.counts["created"] == 40
    assert db.execute("SELECT count(*) FROM organisations WHERE slug = 'spark-cooperative'").fetchone()[0] == 1
    assert addresses(report)[41] == "spark-cooperative-poznan"
