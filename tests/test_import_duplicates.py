"""A row that looks like an organisation already stored gets a decision: skipped, updating
the stored one, or created anyway; from the command line (``--duplicates``) and from the
browser's preview (a choice for all, one per row), with the report saying what was done."""

from __future__ import annotations

from support import csrf_from, make_org, route_tiles, sign_in, sign_in_browser, upload, wait_done

from mapapp import catalogue
from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

SHEET = ("name,city,country,lat,lon,website,email\n"
         "Coop Alpha,Lyon,FR,45.76,4.84,,new@alpha.example.org\n"
         "Coop Beta,Lyon,FR,45.70,4.80,https://beta.example.org,beta@example.org\n"
         "Coop Gamma,Gent,BE,51.05,3.72,,\n")


def stored(db) -> dict[str, dict]:
    return {o["name"]: catalogue.get_organisation(db, o["slug"], published_only=False)
            for o in catalogue.duplicate_candidates(db)}


def setup(db, tmp_path):
    make_org(db, "Coop Alpha", email="old@alpha.example.org")  # same name, a few metres away
    make_org(db, "Beta old name", website="https://beta.example.org", city="Paris", lat=48.85, lon=2.35)
    path = tmp_path / "members.csv"
    path.write_text(SHEET, encoding="utf-8")
    return path


def run(db, path, **options):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, path, importer.Options(source="members", **options), chain)


def test_skipping_duplicates_leaves_the_stored_ones_alone_and_says_so(db, tmp_path):
    report = run(db, setup(db, tmp_path), duplicates="skip")
    assert (report.counts["created"], report.counts["skipped"]) == (1, 2)
    orgs = stored(db)
    assert set(orgs) == {"Coop Alpha", "Beta old name", "Coop Gamma"}
    assert orgs["Coop Alpha"]["email"] == "old@alpha.example.org"
    text = report.summary()
    assert "LIKELY DUPLICATE row 2: Coop Alpha and existing 'coop-alpha'" in text
    assert "skipped as a duplicate of 'coop-alpha'" in text
    assert "2 skipped" in text


def test_one_row_updates_another_is_created_anyway(db, tmp_path):
    report = run(db, setup(db, tmp_path), duplicates="skip", duplicate_choices={2: "update", 3: "create"})
    assert (report.counts["created"], report.counts["updated"], report.counts["skipped"]) == (2, 1, 0)
    orgs = stored(db)
    assert orgs["Coop Alpha"]["email"] == "new@alpha.example.org"  # the stored one, updated
    assert orgs["Coop Alpha"]["source"] == "test"  # still its own source's organisation
    assert {"Coop Beta", "Beta old name"} <= set(orgs)  # created anyway beside the stored one
    assert len(orgs) == 4
    text = report.summary()
    assert "updated 'coop-alpha'" in text and "created anyway" in text


def test_the_command_line_skips_duplicates_unless_told(runner, db_path, tmp_path):
    db = catalogue.connect(db_path)
    path = setup(db, tmp_path)
    db.close()
    result = runner.invoke(args=["import", str(path), "--no-geocode"])
    assert result.exit_code == 0, result.output
    assert "2 likely duplicates" in result.output and "skipped as a duplicate of 'coop-alpha'" in result.output
    again = runner.invoke(args=["import", str(path), "--no-geocode", "--duplicates", "update"])
    assert "updated 'coop-alpha'" in again.output and "updated 'beta-old-name'" in again.output
    db = catalogue.connect(db_path)
    beta = catalogue.get_organisation(db, "beta-old-name", published_only=False)
    assert (beta["name"], beta["email"]) == ("Coop Beta", "beta@example.org")  # the file's values
    assert len(stored(db)) == 3  # nothing doubled
    db.close()


def test_the_preview_offers_a_choice_per_duplicate_and_the_import_follows_it(app, worker, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    path = setup(db, tmp_path)
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, path).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    table = page.split('id="duplicates"')[1].split("</table>")[0]
    assert 'name="duplicate:2"' in table and 'name="duplicate:3"' in table
    assert "skipped as a duplicate of coop-alpha" in table  # the safe default, shown per row
    assert "1 created" in page
    form = {"csrf_token": csrf_from(page), "duplicates_default": "skip", "duplicate:2": "update", "duplicate:3": ""}
    page = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "updated coop-alpha, its likely duplicate" in page and "1 updated" in page
    assert 'value="update" selected' in page.split('name="duplicate:2"')[1].split("</select>")[0]
    response = client.post(url, data={**form, "action": "confirm"})
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    record = wait_done(db, import_id)
    assert (record["counts"]["created"], record["counts"]["updated"], record["counts"]["skipped"]) == (1, 1, 1)
    orgs = stored(db)
    assert orgs["Coop Alpha"]["email"] == "new@alpha.example.org" and "Coop Beta" not in orgs
    report = client.get(f"/admin/imports/{import_id}/report.csv").get_data(as_text=True)
    assert "updated 'coop-alpha'" in report and "skipped as a duplicate of 'beta-old-name'" in report


def test_choosing_per_duplicate_in_the_browser(app, worker, db, staff, page, live_server_for, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    path = setup(db, tmp_path)
    db.conn.commit()
    route_tiles(page)
    page.set_viewport_size({"width": 700, "height": 900})  # the sample table is wider than the page
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin/imports", "editor@example.org")
        page.wait_for_url("**/admin/imports")
        page.set_input_files("input[name=file]", str(path))
        page.click("text=Upload and preview")
        page.wait_for_url("**/preview")
        assert "1 created" in page.locator("#dry-run-counts").inner_text()
        assert page.locator("#samples-hint").is_visible()  # columns hidden to the right are announced
        page.locator("#duplicates-default").select_option("create")
        page.get_by_label("What to do with row 2").select_option("update")
        page.get_by_role("button", name="Preview again").first.click()
        page.wait_for_load_state()
        counts = page.locator("#dry-run-counts").inner_text()
        assert "1 updated" in counts and "2 created" in counts
        table = page.locator("#duplicates").inner_text()
        assert "updated coop-alpha, its likely duplicate" in table and "created anyway" in table
        page.screenshot(path=tmp_path / "duplicates.png", full_page=True)
        page.click("text=Import now")
        page.locator("#report-link:not([hidden])").wait_for(timeout=20_000)
    orgs = stored(db)
    assert orgs["Coop Alpha"]["email"] == "new@alpha.example.org" and "Coop Beta" in orgs and len(orgs) == 4
