"""A large file is imported chunk by chunk: what a person sees must not depend on where
the chunks end (duplicates, slugs, report rows, a broken line late in the file)."""

import csv
import io

import pytest
from support import make_org

from mapapp import catalogue
from mapapp.importing import importer, readers
from mapapp.importing.report import RowLog
from mapapp.mapdata.geocode import Chain


def run(db, path, **options):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, path, importer.Options(**options), chain)


def write(path, rows, header=("name", "city", "country", "lat", "lon")):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 7)
    monkeypatch.setattr(RowLog, "MEMORY_ROWS", 5)  # the row outcomes go to the temporary file too


def test_chunk_boundaries_change_nothing_a_person_sees(db, tmp_path, small_chunks):
    make_org(db, "Coop 3", city="Lyon", country="FR", lat=45.76, lon=4.83)
    rows = [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(40)]
    rows.append(("Coop 2", "Lyon", "FR", 45.76, 4.83))  # row 42: the same as row 4, chunks earlier
    rows.append(("Coop 5", "Gent", "BE", 51.05, 3.72))  # same name elsewhere: a second slug
    report = run(db, write(tmp_path / "many.csv", rows))
    assert report.counts["created"] == 41 and report.counts["skipped"] == 1
    assert any(i.row == 42 and "same organisation as row 4" in i.message for i in report.issues)
    outcomes = list(report.rows)
    assert [o.row for o in outcomes] == list(range(2, 44))  # every row once, in order
    slugs = [o.slug for o in outcomes if o.action == "created"]
    assert len(set(slugs)) == len(slugs) and "coop-5-2" in slugs
    # The organisation already stored is named as a likely duplicate of row 5.
    assert [(row, slug) for row, _, slug, _ in report.duplicates] == [(5, "coop-3")]
    out = io.StringIO()
    report.write_csv(out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert sum(1 for line in lines if line[2] == "created") == 41
    assert catalogue.organisation_count(db) == 42


def test_a_broken_line_late_in_the_file_imports_nothing(db, tmp_path, small_chunks):
    make_org(db, "Already here")
    path = write(tmp_path / "broken.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(30)])
    with path.open("a", encoding="utf-8") as f:
        f.write('"Coop open quote,Lyon,FR,45.7,4.8\n' + "x" * 200 + "\n")
    readers.csv.field_size_limit(50)  # the open quote swallows the rest of the file into one cell
    try:
        with pytest.raises(importer.ImportFailed, match="broken.csv, line 3[0-9]: .*check the quotes"):
            run(db, path)
    finally:
        readers.csv.field_size_limit(readers.MAX_CELL_BYTES)
    assert [o["name"] for o in catalogue.duplicate_candidates(db)] == ["Already here"]


def test_cells_beyond_the_header_after_the_rows_read_ahead_are_reported(db, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "LOOKAHEAD_ROWS", 3)
    rows = [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(6)]
    rows += [("Coop late", "Lyon", "FR", 45.76, 4.83, "stray"), ("Coop later", "Lyon", "FR", 45.7, 4.8, "x")]
    report = run(db, write(tmp_path / "stray.csv", rows))
    assert report.counts["created"] == 8
    [issue] = [i for i in report.issues if "beyond the last header" in i.message]
    assert issue.row == 8 and "2 row(s) from row 8" in issue.message


def test_a_preview_counts_every_row_of_a_long_file(db, tmp_path, small_chunks):
    path = write(tmp_path / "long.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(50)])
    preview = importer.preview(db, path, importer.Options(), Chain.from_config("provided", db, user_agent=""),
                               max_rows=10)
    assert preview.report.counts["created"] == 10
    assert "only the first 10 of 50 rows were checked" in preview.report.notes
    assert "50 rows" in preview.report.details
    assert catalogue.organisation_count(db) == 0


def test_row_outcomes_kept_in_the_temporary_file_read_back_by_position(monkeypatch):
    from mapapp.importing.report import RowOutcome

    monkeypatch.setattr(RowLog, "MEMORY_ROWS", 3)
    log = RowLog()
    log.extend(RowOutcome(n, f"Coop {n}", "created") for n in range(10))
    assert len(log) == 10 and [o.row for o in log] == list(range(10))
    assert (log[0].row, log[4].row, log[9].row, log[-1].row, log[-10].row) == (0, 4, 9, 9, 0)
    with pytest.raises(IndexError):
        log[10]
    assert log.actions["created"] == 10


def test_the_cycle_collector_is_off_only_while_an_import_runs(db, tmp_path, monkeypatch):
    import gc

    monkeypatch.setattr(importer, "CHUNK_ROWS", 5)
    monkeypatch.setattr(importer, "COLLECT_EVERY_ROWS", 10)
    passes, states = [], []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda generation=2: passes.append(generation) or real_collect(generation))
    path = write(tmp_path / "rows.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(30)])
    assert gc.isenabled()
    run(db, path, progress=lambda done, total: states.append(gc.isenabled()))
    assert states[:-1] and not any(states[:-1])  # off while the rows were read and written (the last: done)
    assert passes == [1, 1, 1]  # one pass per 10 rows instead
    assert gc.isenabled()  # and back on for the rest of the process
    bad = tmp_path / "bad.csv"
    bad.write_text("name,city\n", encoding="utf-8")
    with pytest.raises(importer.ImportFailed):
        run(db, bad)
    assert gc.isenabled()  # a refused file turns it back on too
