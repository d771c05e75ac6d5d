"""Imports in the job worker under load: slow geocoders, parallel starts, staff editing meanwhile,
failures midway. The record always tells the truth and the catalogue is never half-written."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from fake_geocoder import FakeGeocoder
from support import csrf_from, make_org, sign_in, upload, wait_done

from mapapp import accounts, catalogue
from mapapp.filters import Filters
from mapapp.importing import importer, jobs

CITIES = ("Lyon", "Gent", "Torino", "Poznań", "Nicosia")


def spreadsheet(tmp_path: Path, rows: int, name: str = "members.csv") -> Path:
    path = tmp_path / name
    lines = ["name,city,country"] + [f"Coop {n},{CITIES[n % 5]},{('FR', 'BE', 'IT', 'PL', 'CY')[n % 5]}"
                                     for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Queued:
    """An import claimed and queued for the job worker (the ``worker`` fixture), followed as a
    thread is: alive until its job has ended (done or failed, whatever it took back)."""

    def __init__(self, app, import_id: int):
        self.queue, self.import_id = app.extensions["mapapp.jobs"], import_id
        jobs.claim(app.config["DATABASE"], import_id)
        self.queue.import_file(import_id)

    def is_alive(self) -> bool:
        return self.queue.state("import", str(self.import_id))["state"] not in ("done", "failed")

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.is_alive():
            assert time.monotonic() < deadline, "the import did not finish"
            time.sleep(0.05)


def new_import(db, path: Path, **fields) -> int:
    return jobs.create(db, user_email="editor@example.org", filename=path.name, stored_path=str(path),
                       source=fields.get("source", "members"), project=None, status_choice="published")


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_slow_online_geocoder_never_makes_a_live_import_look_dead(app, worker, db, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "STALE_SECONDS", 1.5)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.2)
    with FakeGeocoder({}) as fake:
        fake.script = ["slow"] * 8
        fake.delay = 0.4
        app.config.update({"GEOCODERS": "cache,nominatim", "NOMINATIM_URL": fake.url,
                           "GEOCODER_USER_AGENT": "mapapp tests, test@example.org"})  # the worker's settings
        import_id = new_import(db, spreadsheet(tmp_path, 8))
        thread = Queued(app, import_id)
        seen = set()
        while thread.is_alive():
            seen.add(jobs.get(db, import_id)["state"])  # what any staff page would read
            time.sleep(0.1)
    record = jobs.get(db, import_id)
    # Never failed: running, then done (the record says so a moment before its job ends).
    assert seen - {"done"} == {"running"} and record["state"] == "done" and record["error"] is None
    assert record["counts"]["created"] == 8 and len(fake.requests) == len(CITIES)  # one per place, 1 s apart


def test_an_import_declared_interrupted_stays_so_and_takes_back_what_it_wrote(app, worker, db, tmp_path, monkeypatch):
    make_org(db, "Already here")
    monkeypatch.setattr(jobs, "BATCH_SIZE", 10)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.0)
    original = catalogue.write_transaction
    entered, between_batches, declared = [], threading.Event(), threading.Event()

    def pausing_transaction(database):
        if threading.current_thread().name.startswith("import-"):
            entered.append(1)
        if len(entered) == 2 and not between_batches.is_set():  # the first batch in, the second not begun
            between_batches.set()
            declared.wait(10)
        return original(database)

    monkeypatch.setattr(catalogue, "write_transaction", pausing_transaction)
    import_id = new_import(db, spreadsheet(tmp_path, 30))
    thread = Queued(app, import_id)
    assert between_batches.wait(10)
    assert catalogue.count_organisations(db, Filters(), ("published",)) == 11  # one batch is in
    db.execute("UPDATE imports SET heartbeat_at = 0 WHERE id = ?", [import_id])  # silent for too long
    record = jobs.get(db, import_id)
    assert record["state"] == "failed" and "after 10 organisations were written" in record["error"]
    declared.set()
    thread.join(20)
    record = jobs.get(db, import_id)
    assert record["state"] == "failed" and "interrupted" in record["error"] and not record["can_undo"]
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Already here"]


def test_the_same_file_cannot_be_imported_twice_at_once(app, worker, db, staff, tmp_path, monkeypatch):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    path = spreadsheet(tmp_path, 5)
    first = upload(client, path, status="published").headers["Location"]
    second = upload(client, path, status="published", source="other-source").headers["Location"]
    release = threading.Event()
    original = importer._locate

    def held_import(*args, **kwargs):  # the background import waits before it locates and writes
        if threading.current_thread().name.startswith("import-"):
            release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "_locate", held_import)
    page = client.get(first).get_data(as_text=True)
    client.post(first, data={"csrf_token": csrf_from(page), "action": "confirm"})
    first_id = int(first.split("/")[-2])
    assert jobs.get(db, first_id)["state"] == "running"
    queue, deadline = app.extensions["mapapp.jobs"], time.monotonic() + 10
    while queue.state("import", str(first_id))["state"] == "queued":  # until the worker takes it
        assert time.monotonic() < deadline, "the worker did not take the import"
        time.sleep(0.05)
    # A double click on the same preview, and the same file uploaded again.
    again = client.post(first, data={"csrf_token": csrf_from(page), "action": "confirm"}, follow_redirects=True)
    assert 'id="progress-text"' in again.get_data(as_text=True)  # its progress (the phase it is in), not a second run
    page = client.get(second).get_data(as_text=True)
    refused = client.post(second, data={"csrf_token": csrf_from(page), "action": "confirm"}, follow_redirects=True)
    assert "is importing the same file" in refused.get_data(as_text=True)
    assert jobs.get(db, int(second.split("/")[-2]))["state"] == "preview"
    release.set()
    assert wait_done(db, first_id)["counts"]["created"] == 5
    assert catalogue.count_organisations(db, Filters()) == 5


def test_the_preview_never_waits_for_an_online_geocoder(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with FakeGeocoder({"Lyon": (45.76, 4.84, "city")}) as fake:
        app.config.update(GEOCODERS="provided,cache,nominatim,gazetteer", NOMINATIM_URL=fake.url,
                          GEOCODER_USER_AGENT="mapapp tests, test@example.org")
        client = app.test_client()
        sign_in(client, "editor@example.org")
        preview = client.get(upload(client, spreadsheet(tmp_path, 30)).headers["Location"])
        assert fake.requests == []
    body = preview.get_data(as_text=True)
    assert "30 created" in body and "offline geocoders only" in body and "nominatim" in body


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_staff_can_save_while_a_large_import_writes(app, worker, db, staff, tmp_path, monkeypatch):
    make_org(db, "Edited during the import")
    monkeypatch.setattr(jobs, "BATCH_SIZE", 50)
    original = catalogue.bulk_insert

    def slow_batch(*args, **kwargs):
        time.sleep(0.4)  # a large batch, inside its transaction
        return original(*args, **kwargs)

    monkeypatch.setattr(catalogue, "bulk_insert", slow_batch)
    import_id = new_import(db, spreadsheet(tmp_path, 400))
    thread = Queued(app, import_id)
    editor = catalogue.connect(app.config["DATABASE"])
    editor.execute("PRAGMA busy_timeout = 1500")
    saves = 0
    while thread.is_alive():
        try:
            with catalogue.write_transaction(editor):
                editor.execute("UPDATE organisations SET description = ? WHERE name = ?",
                               [f"edit {saves}", "Edited during the import"])
            saves += 1
        except sqlite3.OperationalError as e:
            pytest.fail(f"a staff edit failed during the import: {e}")
        time.sleep(0.2)
    editor.close()
    assert saves >= 3  # saved between batches, each within its busy timeout
    assert jobs.get(db, import_id)["counts"]["created"] == 400


def test_a_failure_midway_takes_back_the_batches_already_written(app, worker, db, tmp_path, monkeypatch):
    make_org(db, "Already here")
    monkeypatch.setattr(jobs, "BATCH_SIZE", 10)
    original = catalogue.bulk_insert
    calls = []

    def fail_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(catalogue, "bulk_insert", fail_third)
    import_id = new_import(db, spreadsheet(tmp_path, 500))
    Queued(app, import_id).join(20)
    record = jobs.get(db, import_id)
    assert record["state"] == "failed" and "disk full" in record["error"] and not record["can_undo"]
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Already here"]
    assert len(calls) == 3  # two batches were committed before the failure, and taken back
    assert not any(e["action"].startswith(f"import:{import_id}:") for e in accounts.audit_entries(db))


def test_the_import_and_its_audit_rows_are_one_transaction(app, worker, db, tmp_path, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise sqlite3.OperationalError("audit log unwritable")

    monkeypatch.setattr(jobs, "audit_import_changes", broken_audit)
    import_id = new_import(db, spreadsheet(tmp_path, 5))
    Queued(app, import_id).join(20)
    record = jobs.get(db, import_id)
    assert record["state"] == "failed" and "audit log unwritable" in record["error"]
    assert catalogue.count_organisations(db, Filters(), ("draft", "published")) == 0


def test_a_finished_import_can_still_be_undone_whole(app, worker, db, staff, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH_SIZE", 7)
    import_id = new_import(db, spreadsheet(tmp_path, 30))
    Queued(app, import_id).join(20)
    assert jobs.get(db, import_id)["counts"]["created"] == 30
    assert jobs.undo(db, import_id, "admin@example.org") == {"deleted": 30, "restored": 0}
    assert catalogue.count_organisations(db, Filters(), ("draft", "published")) == 0


def test_an_import_s_audit_keeps_each_entry_in_order_with_what_it_was_before(db):
    """Issue 31: the created organisations of an import go into the audit as one statement per
    run (a tuple bound per entry was a third of the audit of 100,000 rows); the entries, their
    order and what each was before are those written one by one."""
    first, second = make_org(db, "Stored One"), make_org(db, "Stored Two")
    entries = [(first.id, "import:9:updated", {"values": {"name": "Old One"}}),
               *[(second.id + i, "import:9:created", None) for i in range(1, 4)],
               (second.id, "import:9:updated", {"values": {"name": "Old =Two"}}),
               (second.id + 4, "import:9:created", None)]
    with catalogue.write_transaction(db):
        catalogue.audit.record_many(db, "staff@example.org", entries)
    stored = db.execute("SELECT organisation_id, action, before, user_email FROM audit_log"
                        " WHERE action LIKE 'import:9:%' ORDER BY id").fetchall()
    assert stored == [(org_id, action, json.dumps(before, ensure_ascii=False) if before else None, "staff@example.org")
                      for org_id, action, before in entries]
    assert catalogue.audit.count(db, "import:9:created") == 4
