"""Writes while an import writes: staff edits and contributions wait for the import's
batch and succeed, never "database is locked" (issue 31)."""

from __future__ import annotations

import csv
import sqlite3
import threading
import time

from mapapp import catalogue, create_app
from mapapp.cli import import_command


def _add(db, n: int) -> None:
    catalogue.save_organisation(db, {"name": f"Edited while importing {n}", "city": "Lyon", "country": "FR",
                                     "lat": 45.76, "lon": 4.83, "status": "published", "source": "staff"})


def test_an_edit_waits_for_a_long_write_and_succeeds(db_path):
    catalogue.connect(db_path).close()
    held = threading.Event()

    def hold_the_write_lock() -> None:  # a large batch (or a one-transaction import) being written
        importer = catalogue.connect(db_path)
        importer.conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(6.5)  # longer than the five seconds edits used to wait
        importer.conn.execute("COMMIT")
        importer.close()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    held.wait(10)
    staff = catalogue.connect(db_path)
    try:
        _add(staff, 1)  # waits for the lock instead of "database is locked"
    finally:
        writer.join()
        staff.close()
    assert catalogue.get_organisation(catalogue.connect(db_path), catalogue.slugify("Edited while importing 1"))


def test_a_batched_command_line_import_lets_every_edit_through(db_path, tmp_path):
    catalogue.connect(db_path).close()
    rows = 3000
    file = tmp_path / "many.csv"
    with file.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["name", "city", "country", "lat", "lon"])
        out.writerows([f"Cooperative {n}", "Lyon", "FR", f"{45 + n / 10000:.5f}", f"{4 + n / 10000:.5f}"]
                      for n in range(rows))
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache"), "GEOCODERS": "provided"})
    done = threading.Event()
    outcome = {}

    def run_import() -> None:
        with app.app_context():
            outcome["result"] = app.test_cli_runner().invoke(
                import_command, [str(file), "--batches", "--status", "published", "--no-geocode"])
        done.set()

    importing = threading.Thread(target=run_import)
    importing.start()
    staff = catalogue.connect(db_path)
    edits, refused = 0, []
    while not done.is_set():
        try:
            _add(staff, edits)
            edits += 1
        except sqlite3.OperationalError as e:
            staff.conn.rollback()
            refused.append(str(e))
    importing.join()
    staff.close()
    assert outcome["result"].exit_code == 0, outcome["result"].output
    assert not refused and edits >= 1
    db = catalogue.connect(db_path)
    assert db.execute("SELECT count(*) FROM organisations WHERE source = 'many'").fetchone()[0] == rows
    assert db.execute("SELECT count(*) FROM organisations WHERE source = 'staff'").fetchone()[0] == edits
