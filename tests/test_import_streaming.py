"""A large file is imported chunk by chunk: what a person sees must not depend on where
the chunks end (duplicates, slugs, report rows, a broken line late in the file)."""

import csv
import io
import os
import pickle
import threading
import time
from pathlib import Path

import pytest
from support import make_org

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.importing import importer, readers, reading
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
    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)
    monkeypatch.setattr(RowLog, "MEMORY_ROWS", 5)  # the row outcomes go to the temporary file too


@pytest.mark.parametrize("second_process", [False, pytest.param(True, marks=pytest.mark.slow)],  # a process: slow
                         ids=["read here", "read by a second process"])
def test_chunk_boundaries_change_nothing_a_person_sees(db, tmp_path, small_chunks, second_process):
    make_org(db, "Coop 3", city="Lyon", country="FR", lat=45.76, lon=4.83)
    rows = [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(40)]
    rows.append(("Coop 2", "Lyon", "FR", 45.76, 4.83))  # row 42: the same as row 4, chunks earlier
    rows.append(("Coop 5", "Gent", "BE", 51.05, 3.72))  # same name elsewhere: the city tells them apart
    report = run(db, write(tmp_path / "many.csv", rows), second_process=second_process)
    assert report.counts["created"] == 41 and report.counts["skipped"] == 1
    assert any(i.row == 42 and "same organisation as row 4" in i.message for i in report.issues)
    outcomes = list(report.rows)
    assert [o.row for o in outcomes] == list(range(2, 44))  # every row once, in order
    slugs = [o.slug for o in outcomes if o.action == "created"]
    assert len(set(slugs)) == len(slugs) and "coop-5-gent" in slugs
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


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_broken_line_found_by_the_second_process_imports_nothing(db, tmp_path, small_chunks):
    make_org(db, "Already here")
    path = write(tmp_path / "broken.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(30)])
    with path.open("a", encoding="utf-8") as f:  # a quote left open swallows more than a cell may hold
        f.write('"Coop open quote,Lyon,FR,45.7,4.8\n' + "x" * (readers.MAX_CELL_BYTES + 1) + "\n")
    with pytest.raises(importer.ImportFailed, match="broken.csv, line 3[0-9]: .*check the quotes"):
        run(db, path, second_process=True)
    assert [o["name"] for o in catalogue.duplicate_candidates(db)] == ["Already here"]


def test_a_second_process_that_dies_imports_nothing_and_says_so(db, tmp_path, small_chunks, monkeypatch):
    make_org(db, "Already here")
    path = write(tmp_path / "rows.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(30)])
    monkeypatch.setattr(reading.sys, "executable", "/bin/false")  # exits at once, saying nothing
    with pytest.raises(importer.ImportFailed, match=r"the process reading rows.csv stopped .*\(exit code 1\); "
                                                    "nothing was imported"):
        run(db, path, second_process=True)
    assert catalogue.organisation_count(db) == 1


def test_a_second_process_that_cannot_start_leaves_the_reading_here(db, tmp_path, small_chunks, monkeypatch):
    path = write(tmp_path / "rows.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(30)])
    monkeypatch.setattr(reading.sys, "executable", str(tmp_path / "no-such-python"))
    report = run(db, path, second_process=True)
    assert report.counts["created"] == 30 and catalogue.organisation_count(db) == 30


def test_the_reading_process_checks_chunks_ahead_while_the_importer_is_still_taking_one_in():
    # Each message is larger than the pipe holds: written directly, the first would wait until
    # the importer read it, and the reading process could not check the next chunk meanwhile.
    read_end, write_end = os.pipe()
    sender = reading._Sender(os.fdopen(write_end, "wb"))
    chunk = "x" * 300_000
    put_all = threading.Event()

    def check_ahead():
        for i in range(reading.AHEAD_CHUNKS + 1):  # one being sent, AHEAD_CHUNKS waiting
            sender.put(("chunk", i, chunk))
        put_all.set()
    threading.Thread(target=check_ahead, daemon=True).start()
    assert put_all.wait(10), "the reading process waited for the importer to read"
    with os.fdopen(read_end, "rb") as pipe:
        received = [pickle.load(pipe) for _ in range(reading.AHEAD_CHUNKS + 1)]  # nosec B301 # written above
        sender.close()
    assert received == [("chunk", i, chunk) for i in range(reading.AHEAD_CHUNKS + 1)]


def test_the_reading_process_stops_when_the_importer_stops_listening_while_it_waits_for_room():
    read_end, write_end = os.pipe()
    sender = reading._Sender(os.fdopen(write_end, "wb"))
    stopped = []

    def check_ahead():
        try:
            for i in range(100):  # the pipe fills, then the chunks waiting: put waits for room
                sender.put(("chunk", i, "x" * 300_000))
            sender.close()
        except BrokenPipeError:
            stopped.append(i)
    reader = threading.Thread(target=check_ahead, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while len(sender.waiting) < reading.AHEAD_CHUNKS and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sender.waiting) == reading.AHEAD_CHUNKS, "the chunks checked ahead did not wait"
    os.close(read_end)  # the importer failed or was interrupted
    reader.join(10)
    assert not reader.is_alive() and stopped and stopped[0] < 100  # it stopped, and said why


def test_chunks_of_long_texts_are_checked_ahead_by_size_as_well(monkeypatch):
    monkeypatch.setattr(reading, "AHEAD_BYTES", 1_000_000)
    read_end, write_end = os.pipe()
    sender = reading._Sender(os.fdopen(write_end, "wb"))
    put = []

    def check_ahead():
        for i in range(reading.AHEAD_CHUNKS + 1):
            sender.put(("chunk", i, "x" * 400_000))
            put.append(i)
    threading.Thread(target=check_ahead, daemon=True).start()
    deadline = time.monotonic() + 10
    while len(put) < 3 and time.monotonic() < deadline:  # one being sent, two waiting (800 KB)
        time.sleep(0.01)
    assert len(put) == 3 and len(sender.waiting) == 2 and sender.waiting_bytes < 1_000_000
    with os.fdopen(read_end, "rb") as pipe:
        received = [pickle.load(pipe) for _ in range(reading.AHEAD_CHUNKS + 1)]  # nosec B301 # written above
        sender.close()
    assert [m[1] for m in received] == list(range(reading.AHEAD_CHUNKS + 1))


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_an_import_that_fails_stops_its_second_process(db, tmp_path, small_chunks, monkeypatch):
    started = []
    real_popen = reading.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def fail(done, total):
        if done >= 14:
            raise KeyboardInterrupt  # Ctrl-C half-way through
    monkeypatch.setattr(reading.subprocess, "Popen", popen)
    path = write(tmp_path / "rows.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(300)])
    with pytest.raises(KeyboardInterrupt):
        run(db, path, second_process=True, progress=fail)
    assert len(started) == 1 and started[0].poll() is not None  # not left running
    assert catalogue.organisation_count(db) == 0


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

    monkeypatch.setattr(reading, "CHUNK_ROWS", 5)
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


FIXTURES = Path(__file__).parent / "fixtures"


def _workbook(tmp_path, suffix):
    """The French fixture saved as a workbook with a cover sheet before the table."""
    rows = list(csv.reader((FIXTURES / "french_headers.csv").open(encoding="utf-8"), delimiter=";"))
    path = tmp_path / f"french{suffix}"
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        book.active.title = "Cover"
        book.active.append(["Organisations visited in 2025"])
        sheet = book.create_sheet("Organisations")
        for row in rows:
            sheet.append(row)
        book.save(path)
    return path


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()) + ["french.xlsx"])
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_second_process_reads_a_file_as_this_one_does(tmp_path, name):
    path = FIXTURES / name if (FIXTURES / name).exists() else _workbook(tmp_path, Path(name).suffix)
    outcomes = []
    for second in (False, True):
        db = catalogue.connect(tmp_path / f"{second}.db")
        if name == "participants_fr.csv":  # its rows name a project, which must exist
            catalogue.save_project(db, {"slug": "visites-2026", "name": "Study visits 2026"})
        report = run(db, path, second_process=second)
        stored = [(o["slug"], o["name"], o["city"], o["country"], o["lat"], o["lon"], o["website"])
                  for o in db.query("SELECT * FROM organisations ORDER BY id")]
        rows = [(o.row, o.name, o.action, o.slug, o.precision) for o in report.rows]
        outcomes.append((report.summary(max_issues=500), rows, report.notes, report.details, stored))
        db.close()
    assert outcomes[0][4], "the fixture imports organisations"
    if name.endswith(".xlsx"):
        assert "read sheet 'Organisations' of 2 (Cover, Organisations)" in outcomes[0][2]
    assert outcomes[1] == outcomes[0]


@pytest.mark.slow  # a second process
def test_the_reading_process_locates_the_rows_as_the_importer_would_unless_rows_may_update_stored_ones(
        tmp_path, small_chunks, monkeypatch):
    rows = [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(8)]
    rows += [("Coop Valence", "Valence", "FR", "", ""),  # namesakes: the file's other rows choose
             ("Coop Unstated", "Lyon", "", 45.76, 4.83),  # no country: where its point lies
             ("Coop Town", "Villeurbanne", "", "", ""),  # no country, no point: its town's
             ("Coop Germany", "Lyon", "DE", 45.76, 4.83),  # a point in France for a German row
             ("Coop Swapped", "Lyon", "FR", 4.83, 45.76),
             ("Coop Poznan", "Poznań", "PL", "", "")] * 3
    path = write(tmp_path / "rows.csv", [(f"{name} {i}", *rest) for i, (name, *rest) in enumerate(rows)])
    asked = []
    real_locate = Chain.locate
    monkeypatch.setattr(Chain, "locate", lambda self, *a, **k: asked.append(1) or real_locate(self, *a, **k))
    seen = []
    for second in (False, True):
        db = catalogue.connect(tmp_path / f"{second}.db")
        asked.clear()
        report = run(db, path, second_process=second)
        seen.append((len(asked), report.summary(max_issues=500), [(o.row, o.action, o.precision) for o in report.rows],
                     [(o["name"], o["country"], o["lat"], o["lon"], o["geo_precision"])
                      for o in db.query("SELECT * FROM organisations ORDER BY id")]))
        db.close()
    (asked_here, *here), (asked_there, *there) = seen
    assert asked_here == 18 and asked_there == 0  # the importer asked nothing: the reading process did
    assert there == here
    summary = here[0]
    assert "lie in France (FR), not in Germany (DE); not used" in summary
    assert "latitude and longitude of the coordinates were swapped" in summary
    assert "country set to FR, where the coordinates lie" in summary

    # Rows of a source imported before may update its organisations: the importer locates them.
    db = catalogue.connect(tmp_path / "True.db")
    with db.conn:
        db.execute("UPDATE organisations SET geo_precision = 'manual', lat = 45.0, lon = 5.0 WHERE name = 'Coop Swapped 12'")
    asked.clear()
    report = run(db, path, second_process=True)
    # Those with a point of their own but the one placed by hand, and those whose address is not
    # the one stored (no country; stored with the one found): 3 + 3 + 3 + 2.
    assert len(asked) == 11
    assert report.counts["unchanged"] == len(rows)
    assert db.execute("SELECT lat, lon FROM organisations WHERE name = 'Coop Swapped 12'").fetchone() == (45.0, 5.0)


def test_large_files_are_read_by_a_second_process(tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_text("name\nCoop\n", encoding="utf-8")
    with large.open("wb") as f:
        f.truncate(reading.SECOND_PROCESS_BYTES["csv"])
    spec = reading.ReadSpec()
    assert not reading.second_process_pays(small, spec)
    assert reading.second_process_pays(large, spec)
    # A preview of a few rows reads them faster than a process starts.
    assert not reading.second_process_pays(large, reading.ReadSpec(max_rows=50))


@pytest.mark.parametrize("suffix", sorted(readers.FORMATS))
def test_every_file_type_the_importer_reads_is_sized_for_a_second_process_by_its_format(tmp_path, suffix):
    # One table of file extensions: an .xls (read as a workbook) is as costly as an .xlsx.
    large = tmp_path / f"large{suffix}"
    with large.open("wb") as f:
        f.truncate(reading.SECOND_PROCESS_BYTES[readers.FORMATS[suffix]])
    assert reading.second_process_pays(large, reading.ReadSpec())


@pytest.mark.parametrize("second_process", [False, True], ids=["read here", "read by a second process"])
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_bulk_imported_names_are_searchable_and_leave_the_search_index_cleanly(db, tmp_path, second_process):
    names = ["Spółdzielnia Łódź", "Συνεταιρισμός Λευκωσίας", "Straße der Äpfel", "Café & Co — Genève"]
    path = write(tmp_path / "accents.csv", [(n, c, k, "", "") for n, c, k in zip(
        names, ["Łódź", "Λευκωσία", "Köln", "Genève"], ["PL", "CY", "DE", "CH"])])
    run(db, path, second_process=second_process)
    for words in ("spoldzielnia lodz", "λευκωσια", "strasse apfel", "cafe geneve"):
        [found] = catalogue.search_ids(db, words)
        assert db.execute("SELECT name FROM organisations WHERE id = ?", [found]).fetchone()[0] in names
    # Deleting them takes exactly what the import put in the index (a mismatch would leave ghosts).
    db.execute("DELETE FROM organisations")
    db.conn.commit()
    for words in ("spoldzielnia", "λευκωσια", "strasse", "cafe"):
        assert catalogue.search_ids(db, words) == []
    make_org(db, "Café Nowy")
    assert len(catalogue.search_ids(db, "cafe")) == 1


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_an_import_from_the_browser_reads_a_large_file_in_a_second_process_and_commits_batches(
        db, tmp_path, small_chunks, monkeypatch):
    started, batches = [], []
    real_popen = reading.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]
    monkeypatch.setattr(reading.subprocess, "Popen", popen)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 0)  # every chunk has held the lock long enough
    rows = [(f"Coop {i % 30}", "Lyon" if i < 30 else "Bron", "FR", 45.7 + i / 1000, 4.8) for i in range(40)]
    path = write(tmp_path / "rows.csv", rows)
    report = run(db, path, second_process=True, batch_size=3,
                 on_commit=lambda db_, changes: batches.append(len(changes)))
    assert len(started) == 1  # read beside the job worker, as on the command line
    assert batches == [7, 7, 7, 7, 7, 5]  # committed as it goes, the reader's chunk at a time
    assert report.counts["created"] == 40 and catalogue.organisation_count(db) == 40
    slugs = [r.slug for r in report.rows]
    assert len(set(slugs)) == 40 and slugs[30] == "coop-0-bron"  # a repeated name gets its own
    # Every point is in the spatial index, written as it went.
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == 40


@pytest.mark.slow  # a second process
@pytest.mark.parametrize("geocoders", ["provided,cache,gazetteer", "provided,cache,nominatim,gazetteer"],
                         ids=["offline", "online geocoder"])
def test_the_reading_process_chunks_share_a_transaction_until_it_has_held_the_lock_a_while(
        db, tmp_path, small_chunks, monkeypatch, geocoders):
    """Issue 31: a transaction, and a pause for waiting writers, per chunk of the reading
    process made a browser import pause 20 times per 100,000 rows. Chunks now share one until
    it has lasted BATCH_SECONDS, but not while an online geocoder may be asked (locating then
    takes as long as it answers, and nobody could write meanwhile)."""
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600)
    transactions = []
    rows = [(f"Span Coop {i}", "Lyon", "FR", 45.7 + i / 1000, 4.8) for i in range(40)]
    chain = Chain.from_config(geocoders, db, user_agent="mapapp-tests (tests@example.org)",
                              urls={"nominatim": "http://127.0.0.1:9/"})
    options = importer.Options(second_process=True, batch_size=3,
                               on_commit=lambda db_, changes: transactions.append(len(changes)))
    report = importer.import_file(db, write(tmp_path / "rows.csv", rows), options, chain)
    assert report.counts["created"] == 40 and catalogue.organisation_count(db) == 40
    if geocoders.endswith("nominatim,gazetteer"):
        assert transactions == [7, 7, 7, 7, 7, 5]
    else:
        assert transactions == [40]  # one transaction: it had not lasted BATCH_SECONDS
    assert not db.conn.in_transaction


@pytest.mark.slow  # a second process
def test_the_reading_process_sends_a_small_first_chunk_so_the_import_starts_writing_sooner(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SECONDS", 0)  # a transaction per chunk, to see them
    rows = [(f"First Coop {i}", "Lyon", "FR", 45.7, 4.8) for i in range(reading.CHUNK_ROWS + 2000)]
    transactions = []
    report = run(db, write(tmp_path / "rows.csv", rows), second_process=True, batch_size=importer.FIRST_BATCH,
                 on_commit=lambda db_, changes: transactions.append(len(changes)))
    assert report.counts["created"] == len(rows)
    assert transactions == [reading.FIRST_CHUNK_ROWS, reading.CHUNK_ROWS, 2000 - reading.FIRST_CHUNK_ROWS]


@pytest.mark.slow  # a second process
def test_a_failure_in_a_shared_transaction_takes_back_its_chunks_and_the_committed_ones(
        db, tmp_path, small_chunks, monkeypatch):
    make_org(db, "Already here")
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600)
    written = []
    real_write = importer._write

    def fourth_fails(db_, *args, **kwargs):
        written.append(1)
        # The second chunk's write ends the first transaction; the third opens another.
        monkeypatch.setattr(importer, "BATCH_SECONDS", 0 if len(written) == 2 else 3600)
        if len(written) == 4:
            raise OSError("disk full")
        return real_write(db_, *args, **kwargs)
    monkeypatch.setattr(importer, "_write", fourth_fails)
    commits = []
    rows = [(f"Failing Coop {i}", "Lyon", "FR", 45.7 + i / 1000, 4.8) for i in range(40)]
    with pytest.raises(OSError, match="disk full"):
        run(db, write(tmp_path / "rows.csv", rows), second_process=True, batch_size=3,
            on_commit=lambda db_, changes: commits.append(len(changes)))
    assert commits == [14]  # the first two chunks were committed together, then taken back with the next two
    assert not db.conn.in_transaction
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Already here"]


def test_an_import_in_batches_fills_the_indexes_set_wise_and_a_staff_edit_between_batches_is_indexed(
        db_path, tmp_path, small_chunks, monkeypatch):
    """Issue 31: a browser import went through the per-row triggers (the search index's fold
    called from SQL for every row) and took 1.8 times the command line's time; now each batch
    swaps them for set-based statements, and they are back for anyone writing between batches."""
    folded_by_sql = []
    real_fold = catalogue.base.fold_text
    monkeypatch.setattr(catalogue.base, "fold_text", lambda text: folded_by_sql.append(text) or real_fold(text))
    db = catalogue.connect(db_path)  # its SQL fold is the counting one
    edits = []

    def staff_edit(db_, changes):
        if not edits:  # after the first batch: an organisation renamed by hand, as a staff member would
            org_id = changes[0][0]
            edits.append(db_.execute("SELECT name FROM organisations WHERE id = ?", [org_id]).fetchone()[0])
            db_.execute("UPDATE organisations SET name = 'Renamed By Hand', lat = 10.5, lon = 20.5 WHERE id = ?",
                        [org_id])
            edits.insert(0, org_id)
    rows = [(f"Batch Coop {i}", "Lyon", "FR", 45.7 + i / 1000, 4.8) for i in range(30)]
    report = run(db, write(tmp_path / "rows.csv", rows), batch_size=5, on_commit=staff_edit)
    assert report.counts["created"] == 30
    edited, old_name = edits
    # Only the staff edit went through the triggers (taking its old name out of the search index).
    assert [text for text in folded_by_sql if text and text.startswith("Batch Coop")] == [old_name]
    assert len(catalogue.search_ids(db, "batch coop")) == 29 and catalogue.search_ids(db, "renamed hand") == [edited]
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == 30
    assert db.execute("SELECT id FROM organisations_rtree WHERE min_lat > 10 AND max_lat < 11").fetchall() == [(edited,)]
    # The triggers are all there once the import is done: an edit after it is indexed as before.
    db.execute("UPDATE organisations SET name = 'Later Name' WHERE id = ?", [edited])
    db.conn.commit()
    assert catalogue.search_ids(db, "later name") == [edited]
    db.close()


def _indexes(db) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'organisations'"
                      " ORDER BY name").fetchall()


def test_a_large_load_builds_the_organisations_indexes_once_at_its_end(db, tmp_path, small_chunks, monkeypatch):
    """Issue 31: a load larger than the catalogue drops the organisations' own indexes at its
    first chunk and makes them again before it commits; the directory's order, the search,
    the map's lineage and every index are as an import row by row leaves them."""
    make_org(db, "Zeta stored", country="FR", lat=45.0, lon=5.0)
    before, lineage = _indexes(db), catalogue.state(db).lineage
    monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 5)  # a chunk is 7 rows here
    during = []
    real_write = importer._write
    monkeypatch.setattr(importer, "_write", lambda db, *a, **k: during.append(_indexes(db)) or real_write(db, *a, **k))
    rows = [(f"Éco {chr(ord('a') + i % 26)}{i}", "Lyon", "FR", 45.76, 4.83) for i in range(40)]
    report = run(db, write(tmp_path / "large.csv", rows), source="big", status="published")
    assert report.counts["created"] == 40
    assert len(during) == 6 and len(before) > 1
    assert all(names == [("sqlite_autoindex_organisations_1", None)] for names in during)  # the slugs' only
    assert _indexes(db) == before
    assert catalogue.state(db).lineage == lineage  # the map patches on: no other catalogue
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    names = [o["name"] for o in catalogue.find_organisations(db, Filters(), limit=100)]
    assert names[0] == "Éco a0" and names[-1] == "Zeta stored" and len(names) == 41
    plan = " ".join(r[-1] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM organisations WHERE status = 'published' ORDER BY sort_key, name, id"))
    assert "organisations_published_sort" in plan


def test_a_large_load_that_fails_leaves_the_indexes_and_the_rows_as_they_were(db, tmp_path, small_chunks, monkeypatch):
    make_org(db, "Stored")
    before = _indexes(db)
    monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 5)
    calls = []
    real_write = importer._write

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # after two chunks written without the indexes
            assert len(_indexes(db)) == 1
            raise RuntimeError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer, "_write", failing)
    with pytest.raises(RuntimeError):
        run(db, write(tmp_path / "large.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(40)]))
    assert _indexes(db) == before and catalogue.organisation_count(db) == 1


def test_a_small_load_into_a_large_catalogue_keeps_its_indexes(db, tmp_path, small_chunks, monkeypatch):
    monkeypatch.setattr(catalogue.writes, "LARGE_LOAD_ROWS", 5)
    for i in range(30):
        make_org(db, f"Stored {i}")
    real_set_aside, kept = catalogue.set_indexes_aside, []
    monkeypatch.setattr(catalogue, "set_indexes_aside", lambda db, rows: kept.append(real_set_aside(db, rows)) or kept[-1])
    run(db, write(tmp_path / "small.csv", [(f"Coop {i}", "Lyon", "FR", 45.76, 4.83) for i in range(10)]))
    assert kept == [[]]  # 10 new rows among 30 stored: inserted into the indexes as they are


def test_batches_already_committed_are_taken_back_when_sqlite_rolled_the_failing_one_back_itself(
        db, tmp_path, small_chunks, monkeypatch):
    """After an I/O error or an interrupt SQLite may have rolled the transaction back itself:
    the import's own ROLLBACK must not fail over it and skip taking back what was committed."""
    make_org(db, "Already here")
    written = []
    real_write = importer._write

    def third_fails(db_, *args, **kwargs):
        written.append(1)
        if len(written) == 3:
            db_.conn.execute("ROLLBACK")  # what SQLite does on SQLITE_FULL or an interrupt
            raise OSError("disk full")
        return real_write(db_, *args, **kwargs)
    monkeypatch.setattr(importer, "_write", third_fails)
    rows = [(f"Rolled Coop {i}", "Lyon", "FR", 45.7 + i / 1000, 4.8) for i in range(40)]
    with pytest.raises(OSError, match="disk full"):
        run(db, write(tmp_path / "rows.csv", rows), batch_size=3, on_commit=lambda db_, changes: None)
    assert not db.conn.in_transaction
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Already here"]


@pytest.mark.parametrize("geocoders", ["provided,cache,gazetteer", "provided,cache,nominatim,gazetteer"],
                         ids=["offline", "online geocoder"])
def test_locating_reports_progress_every_row_only_when_an_online_geocoder_may_be_asked(db, tmp_path, geocoders):
    """Issue 31: a browser import reported its progress after every row it located (a
    callback and the estimate of the file's rows each time); offline a chunk takes a fraction
    of a second, so every PROGRESS_ROWS rows is enough. Online geocoders answer slowly: every
    row still reports, and the callback decides how often to record it."""
    rows = [(f"Progress Coop {i}", "Lyon", "FR", 45.7, 4.8) for i in range(1200)]
    reported = []
    chain = Chain.from_config(geocoders, db, user_agent="mapapp-tests (tests@example.org)",
                              urls={"nominatim": "http://127.0.0.1:9/"})
    options = importer.Options(progress=lambda done, total: reported.append(done))
    report = importer.import_file(db, write(tmp_path / "rows.csv", rows), options, chain)
    assert report.counts["created"] == 1200 and reported[-1] == 1200
    if "nominatim" in geocoders:
        assert set(range(1200)) <= set(reported)
    else:
        assert sorted(set(reported)) == [0, 500, 1000, 1200]


@pytest.mark.slow  # a second process
@pytest.mark.parametrize("writer", ["none", "waiting"])
def test_a_batch_ends_with_a_turn_for_writers_only_when_one_waits(db_path, tmp_path, small_chunks, monkeypatch, writer):
    """Issue 31: an idle pause after every batch was a tenth of a browser import's time. A
    staff edit waiting in write_transaction says so (a shared lock on the catalogue's
    ``-writers`` file): the batch then ends with a turn for it, else the next one begins."""
    import fcntl
    import os

    db = catalogue.connect(db_path)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 0)  # a transaction per chunk
    turns = []
    monkeypatch.setattr(importer, "_pause", lambda seconds: turns.append(seconds))
    waiting = None
    if writer == "waiting":  # as write_transaction holds it while BEGIN IMMEDIATE waits
        waiting = os.open(f"{db_path}-writers", os.O_RDWR | os.O_CREAT)
        fcntl.flock(waiting, fcntl.LOCK_SH)
    assert catalogue.writers_waiting(db) is (writer == "waiting")
    try:
        rows = [(f"Turn Coop {i}", "Lyon", "FR", 45.7, 4.8) for i in range(40)]
        transactions = []
        run(db, write(tmp_path / "rows.csv", rows), second_process=True, batch_size=3,
            on_commit=lambda db_, changes: transactions.append(len(changes)))
    finally:
        if waiting is not None:
            os.close(waiting)
    assert transactions == [7, 7, 7, 7, 7, 5]
    given = [seconds for seconds in turns if seconds > 0]
    if writer == "waiting":  # after each of the first five transactions, before the next began
        assert len(given) == 5 and all(0 < seconds <= importer.BATCH_PAUSE_SECONDS for seconds in given)
    else:
        assert given == []
    db.close()


def test_a_staff_edit_says_it_waits_while_it_waits_and_not_once_it_has_the_lock(db_path):
    import threading

    importing = catalogue.connect(db_path)
    seen = []
    with catalogue.write_transaction(importing):  # an import's batch holds the write lock

        def edit():  # a staff member's save, in a web worker's thread
            staff = catalogue.connect(db_path)
            staff.execute("PRAGMA busy_timeout = 5000")
            with catalogue.write_transaction(staff):
                seen.append(catalogue.writers_waiting(importing))
                staff.execute("UPDATE catalogue_meta SET value = value WHERE key = 'fold_version'")
            staff.close()
        thread = threading.Thread(target=edit)
        thread.start()
        deadline = time.monotonic() + 5
        while not catalogue.writers_waiting(importing) and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(catalogue.writers_waiting(importing))
    thread.join(10)
    assert seen == [True, False]  # waiting while the batch held the lock; not once it had it
    importing.close()
