"""A running import's page says what it is doing ("Reading the file", "Locating", "Writing"),
not "0 / ?"."""

from __future__ import annotations

import json

from support import sign_in

from mapapp.catalogue import imports as records
from mapapp.importing import jobs


def started(db, tmp_path) -> int:
    path = tmp_path / "few.csv"
    path.write_text("name,city,country\nCoop A,Lyon,FR\nCoop B,Gent,BE\n", encoding="utf-8")
    import_id = jobs.create(db, user_email="editor@example.org", filename="few.csv", stored_path=str(path),
                            source="few", project=None, status_choice=None)
    return import_id


def test_the_import_goes_through_its_phases_and_records_each(app, db, db_path, staff, tmp_path, monkeypatch):
    import_id = started(db, tmp_path)
    db.conn.commit()
    seen = []
    original = records.update_running

    def watch(db_, import_id_, **values):
        if "counts" in values:
            seen.append(json.loads(values["counts"])["phase"])
        return original(db_, import_id_, **values)

    monkeypatch.setattr(records, "update_running", watch)
    jobs.run_now(db_path, import_id, {**app.config, "GEOCODERS": "provided,gazetteer"})
    assert seen[:3] == ["reading", "locating", "writing"]
    assert jobs.get(db, import_id)["counts"]["created"] == 2  # the outcome replaces the phase


def test_the_progress_page_names_the_phase(app, db, staff, tmp_path):
    import_id = started(db, tmp_path)
    records.claim(db, import_id)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(f"/admin/imports/{import_id}").get_data(as_text=True)
    assert "Reading the file…" in page and "/ ?" not in page
    records.update_running(db, import_id, rows_done=1200, rows_total=5000, counts=json.dumps({"phase": "locating"}))
    db.conn.commit()
    status = client.get(f"/admin/imports/{import_id}/status.json").get_json()
    assert status["progress_text"] == "Locating the organisations: 1,200 of about 5,000 rows done"
    records.update_running(db, import_id, counts=json.dumps({"phase": "writing"}))
    db.conn.commit()
    page = client.get(f"/admin/imports/{import_id}?lang=fr").get_data(as_text=True)
    assert "Écriture dans le catalogue" in page
