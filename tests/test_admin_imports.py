"""Importing from the browser: upload, preview, mapping, background import, history."""

import re
import time
from pathlib import Path

from support import csrf_from, make_org, route_tiles, sign_in, sign_in_browser, upload, wait_done

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.importing import jobs

FIXTURES = Path(__file__).parent / "fixtures"


def test_upload_preview_edit_mapping_confirm_and_history(app, worker, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    odd = tmp_path / "partners.csv"
    odd.write_text("Raison,Commune,Pays,Colour\nCoop Alpha,Lyon,FR,blue\nCoop Beta,Gent,BE,red\n")
    response = upload(client, odd, status="published")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "no column holds the organisations" in page  # "Raison" is not a known header
    page = client.post(preview_url, data={"csrf_token": csrf_from(page), "action": "preview",
                                          "field:Raison": "name", "field:Commune": "city",
                                          "field:Pays": "country", "field:Colour": "ignore",
                                          "save_as": "partners sheet"}).get_data(as_text=True)
    assert "2 created" in page and "Coop Alpha" in page
    assert catalogue.organisation_count(db) == 0  # a preview writes nothing
    assert "partners sheet" in jobs.saved_mappings(db)
    done_page = client.post(preview_url, data={"csrf_token": csrf_from(page), "action": "confirm",
                                               "field:Raison": "name", "field:Commune": "city",
                                               "field:Pays": "country", "field:Colour": "ignore"})
    import_id = int(done_page.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    record = wait_done(db, import_id)
    assert record["state"] == "done" and record["counts"]["created"] == 2
    assert catalogue.count_organisations(db, Filters()) == 2
    history = client.get("/admin/imports").get_data(as_text=True)
    assert "partners.csv" in history and "editor@example.org" in history and "2 created" in history
    report = client.get(f"/admin/imports/{import_id}/report.csv").get_data(as_text=True)
    assert "Coop Alpha" in report and "created" in report


def test_uploads_are_limited_in_size_and_kind(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    client = app.test_client()
    sign_in(client, "editor@example.org")
    big = tmp_path / "big.csv"
    big.write_text("name\n" + "x" * 20_000 + "\n")
    response = upload(client, big)
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    response = upload(client, pdf)
    assert response.status_code == 400 and "use a CSV, XLSX, ODS or GeoJSON file" in response.get_data(as_text=True)


def test_hostile_workbook_is_refused_on_the_preview(app, db, staff, tmp_path):
    import zipfile

    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(220):
                part.write(b"\0" * (1 << 20))
    client = app.test_client()
    sign_in(client, "editor@example.org")
    preview_url = upload(client, bomb).headers["Location"]
    started = time.perf_counter()
    page = client.get(preview_url).get_data(as_text=True)
    assert time.perf_counter() - started < 1.0
    assert "refused" in page and catalogue.organisation_count(db) == 0


def test_import_round_trip_in_a_browser(app, worker, db, staff, page, live_server_for, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    route_tiles(page)
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin/imports", "editor@example.org")
        page.wait_for_url("**/admin/imports")
        page.set_input_files("input[name=file]", str(FIXTURES / "french_excel.csv"))
        page.select_option("select[name=status]", "published")
        page.click("text=Upload and preview")
        page.wait_for_url("**/preview")
        assert "5 created" in page.locator("#dry-run-counts").inner_text()
        assert page.locator("#issues").get_by_text("lost its leading zero").count() == 1
        page.click("text=Import now")
        page.wait_for_url("**/admin/imports/*")
        page.locator("#report-link:not([hidden])").wait_for(timeout=20_000)
        assert "5 created" in page.locator("#state").inner_text()
        page.reload()  # the outcome survives a reload
        assert "5 created" in page.locator("#state").inner_text()
        page.click("text=History")
        assert "french_excel.csv" in page.locator("#history").inner_text()
    assert catalogue.count_organisations(db, Filters()) == 5


def test_a_mistaken_import_can_be_undone(app, worker, db, staff, tmp_path):


    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    sheet = tmp_path / "list.csv"
    sheet.write_text("name,city,country,website\nCoop A,Lyon,FR,a.example.org\n")
    first = client.post(upload(client, sheet, source="list").headers["Location"],
                        data={"csrf_token": csrf_from(client.get("/admin/imports").get_data(as_text=True)),
                              "action": "confirm"})
    wait_done(db, int(first.headers["Location"].rsplit("/", 1)[1]))
    make_org(db, "Untouched", source_ref="u")
    sheet.write_text("name,city,country,website\nCoop A,Lyon,FR,wrong.example.org\nCoop B,Lyon,FR,\n")
    second = client.post(upload(client, sheet, source="list").headers["Location"],
                         data={"csrf_token": csrf_from(client.get("/admin/imports").get_data(as_text=True)),
                               "action": "confirm"})
    import_id = int(second.headers["Location"].rsplit("/", 1)[1])
    counts = wait_done(db, import_id)["counts"]
    assert (counts["created"], counts["updated"]) == (1, 1)
    assert client.get(f"/admin/imports/{import_id}").status_code == 200
    confirm = client.get(f"/admin/imports/{import_id}/undo").get_data(as_text=True)
    assert "1 organisation it created will be deleted" in confirm
    assert "1 organisation it changed will get back the values it had before" in confirm
    unconfirmed = client.post(f"/admin/imports/{import_id}/undo", data={"csrf_token": csrf_from(confirm)})
    assert "Yes, undo this import" in unconfirmed.get_data(as_text=True)  # asked again, nothing undone
    assert len(catalogue.duplicate_candidates(db)) == 3
    client.post(f"/admin/imports/{import_id}/undo", data={"csrf_token": csrf_from(confirm), "confirm": "yes"})
    names = sorted(o["name"] for o in catalogue.duplicate_candidates(db))
    assert names == ["Coop A", "Untouched"]
    coop = catalogue.find_organisations(db, Filters(q="coop"), statuses=("draft", "published"))[0]
    assert coop["website"] == "https://a.example.org"
    assert jobs.get(db, import_id)["state"] == "undone"


def test_preview_shows_the_first_rows_as_stored_and_a_dead_import_is_reported(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    preview_url = upload(client, FIXTURES / "french_excel.csv").headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    samples = page.split('id="samples"')[1].split("</table>")[0]
    assert "01000" in samples and "https://www.elan-coop.fr" in samples and "Education, Food" in samples
    import_id = int(preview_url.split("/")[-2])
    db.execute("UPDATE imports SET state = 'running', heartbeat_at = 0 WHERE id = ?", [import_id])
    record = jobs.get(db, import_id)
    assert record["state"] == "failed" and "interrupted" in record["error"]



def test_preview_of_a_large_file_checks_its_first_rows_only(app, worker, db, staff, tmp_path, monkeypatch):
    from mapapp.web import admin_imports

    monkeypatch.setattr(admin_imports, "PREVIEW_ROWS", 5)
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    sheet = tmp_path / "many.csv"
    sheet.write_text("name,city,country\n" + "".join(f"Coop {i},Lyon,FR\n" for i in range(30)))
    client = app.test_client()
    sign_in(client, "editor@example.org")
    preview_url = upload(client, sheet).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "5 created" in page and "only the first 5 of 30 rows were checked" in page
    confirm = client.post(preview_url, data={"csrf_token": csrf_from(page), "action": "confirm"})
    record = wait_done(db, int(confirm.headers["Location"].rsplit("/", 1)[1]))
    assert record["counts"]["created"] == 30


def test_preview_messages_say_what_to_do_in_the_browser(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    sheet = tmp_path / "members.csv"
    sheet.write_text("Raison,Ville,Pays,Couleur\nCoop Alpha,Lyon,FR,bleu\n")
    page = client.get(upload(client, sheet).headers["Location"]).get_data(as_text=True)
    assert "choose &#39;name&#39; for it in the list of columns" in page
    assert "--mapping" not in page and "mapping file" not in page


def test_import_history_and_staff_lists_read_in_the_staff_language(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    sheet = tmp_path / "members.csv"
    sheet.write_text("name,city,country\nCoop Alpha,Lyon,FR\n")
    upload(client, sheet)
    history = client.get("/admin/imports?lang=fr").get_data(as_text=True)
    assert "<td>en attente de confirmation</td>" in history and "<td>preview</td>" not in history
    for name, country in (("Coop Z", "PL"), ("Coop Y", "BE"), ("Coop X", "DE")):
        make_org(db, name, country=country)
    page = client.get("/admin/organisations?lang=fr").get_data(as_text=True)
    names = [n for n in ("Allemagne", "Belgique", "Pologne") if n in page]
    assert names == ["Allemagne", "Belgique", "Pologne"]
    assert page.index("Allemagne") < page.index("Belgique") < page.index("Pologne")


def test_the_done_page_says_what_happened_and_publishes_the_drafts_of_this_import(app, worker, db, staff, tmp_path):


    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    make_org(db, "Already published", source_ref="p")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    sheet = tmp_path / "visits.csv"
    sheet.write_text("name,city,country\nCoop A,Lyon,FR\nCoop B,Lyon,FR\n,Lyon,FR\nCoop A,Lyon,FR\n"
                     "Totaux,,\n")
    done = client.post(upload(client, sheet).headers["Location"],
                       data={"csrf_token": csrf_from(client.get("/admin/imports").get_data(as_text=True)),
                             "action": "confirm"})
    import_id = int(done.headers["Location"].rsplit("/", 1)[1])
    wait_done(db, import_id)
    page = client.get(f"/admin/imports/{import_id}?lang=fr").get_data(as_text=True)
    outcome = page.split('id="outcome-counts"')[1].split("</ul>")[0]
    assert "2 créées" in outcome and "3 ignorées" in outcome
    problems = page.split('id="outcome-problems"')[1].split("</table>")[0]
    assert "même organisation que la ligne 2" in problems and "pas de nom d&#39;organisation" in problems
    assert "ligne de total" in problems
    assert "Les 2 organisations de cet import qui sont des brouillons" in page
    listing = client.get(f"/admin/organisations?import={import_id}").get_data(as_text=True)
    assert "Coop A" in listing and "Coop B" in listing and "Already published" not in listing
    assert catalogue.count_organisations(db, Filters()) == 1
    client.post("/admin/organisations/status?scope=matching",
                data={"csrf_token": csrf_from(page), "status": "published", "match:import": str(import_id),
                      "match:status": "draft", "back": f"/admin/imports/{import_id}", "confirm": "yes"})
    assert catalogue.count_organisations(db, Filters()) == 3
    assert "brouillons" not in client.get(f"/admin/imports/{import_id}?lang=fr").get_data(as_text=True)


def test_publish_all_matching_reaches_every_page_of_the_list(app, db, staff):


    for n in range(60):
        make_org(db, f"Italian coop {n:02d}", city="Bologna", country="IT", lat=44.49, lon=11.34,
                 status="draft", source_ref=f"it{n}")
    make_org(db, "French draft", status="draft", source_ref="fr")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get("/admin/organisations?country=IT&status=draft").get_data(as_text=True)
    assert "With all 60 organisations matching these filters (on every page)" in page
    assert page.count('name="id"') == 50  # one page of the list
    fields = dict(re.findall(r'name="(match:[^"]+)" value="([^"]*)"', page))
    assert fields == {"match:country": "IT", "match:status": "draft"}
    client.post("/admin/organisations/status?scope=matching",
                data={"csrf_token": csrf_from(page), "status": "published", **fields, "confirm": "yes"})
    assert catalogue.count_organisations(db, Filters(country=("IT",))) == 60
    assert catalogue.count_organisations(db, Filters(country=("FR",))) == 0  # outside the filters: untouched
