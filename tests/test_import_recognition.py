"""Spreadsheets made by other people, imported without a mapping file: columns recognised by
forgiving names and by their content (with the evidence shown), rows that are no
organisation skipped and reported, paragraphs and structures kept; the command line and
the browser preview say the same."""

from __future__ import annotations

import re
from pathlib import Path

from support import shows_49, sign_in, sign_in_browser, upload

from mapapp import catalogue
from mapapp.importing import columns, importer
from mapapp.mapdata.geocode import Chain

DATA = Path(__file__).parent / "data"
NO_MAPPING = {"columns": {}, "ignore": []}  # a mapping given, so that no bundled format applies


def run(db, path, **options):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, path, importer.Options(**options), chain)


def stored(db, name):
    [found] = [o for o in catalogue.duplicate_candidates(db) if o["name"] == name]
    return catalogue.get_organisation(db, found["slug"], published_only=False)


def read_as(report) -> dict[str, tuple[str, str]]:
    return {header: (fld, how) for header, fld, how in report.columns}


def test_register_headers_with_prefixes_misspellings_and_a_uk_nation_are_read(db):
    report = run(db, DATA / "register_uk.csv")
    columns_read = read_as(report)
    assert {h: f for h, (f, _) in columns_read.items()} == {
        "Registered Name": "name", "Registered Street": "street", "Registered City": "city",
        "Registered Postcode": "postcode", "UK Nation": "country", "lattitude": "lat", "Longitide": "lon",
        "Society Structure": "structure"}
    leith = stored(db, "Leith Bakers Co-operative")
    assert (leith["country"], leith["region"], leith["postcode"]) == ("GB", "Scotland", "EH6 8AB")
    assert (leith["lat"], leith["lon"]) == (55.9755, -3.1713)
    assert leith["street"] == "12 Mill Lane Unit 2"  # the <br> is a break, never text
    assert stored(db, "Cardiff Bike Works")["region"] == "Wales"


def test_a_lone_longitude_column_is_blamed_by_its_own_header_not_lat(db, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("Name,Longitude\nCoop A,2.35\n", encoding="utf-8")
    report = run(db, path)
    problems = [i for i in report.issues if "coordinates" in i.message]
    assert problems and {i.column for i in problems} == {"Longitude"}
    assert not any(i.column == "lat" for i in report.issues)


def test_an_important_column_left_out_is_named_with_how_full_it_is(db):
    report = run(db, DATA / "register_uk.csv", dry_run=True)
    [line] = [i.message for i in report.issues if i.column == "Geschäftsführer"]
    assert "column 'Geschäftsführer' (75 % filled) was not imported" in line


def test_rows_that_are_no_organisation_are_skipped_grouped_and_never_stored(db):
    report = run(db, DATA / "register_uk.csv", status="published")
    assert report.counts["created"] == 3 and report.counts["skipped"] == 5
    why = {i.row: i.message for i in report.issues if i.row}
    assert "section heading" in why[2]
    assert "spreadsheet error value" in why[5]
    assert "only a title" in why[6]
    assert "only a number or a year" in why[7]
    assert "total row" in why[9]
    names = {o["name"] for o in catalogue.duplicate_candidates(db)}
    assert names == {"Leith Bakers Co-operative", "Hebden Wholefoods", "Cardiff Bike Works"}
    assert "rows" not in report.summary() or "SOCIAL CLUBS" not in names


def test_a_heading_is_told_by_the_row_after_it_even_across_chunks(db, tmp_path, monkeypatch):
    from mapapp.importing import reading
    monkeypatch.setattr(reading, "CHUNK_ROWS", 2)
    path = tmp_path / "sections.csv"
    path.write_text("Name,City,Country\nCoop A,Lyon,FR\nBAKERIES\nCoop B,Lyon,FR\nCoop C,Lyon,FR\n", encoding="utf-8")
    report = run(db, path, dry_run=True)
    assert report.counts["created"] == 3 and report.counts["skipped"] == 1
    assert any(i.row == 3 and "section heading" in i.message for i in report.issues)


def test_structures_match_across_spellings_and_several_per_cell(db):
    report = run(db, DATA / "register_uk.csv")
    assert stored(db, "Leith Bakers Co-operative")["structure"] == "OS100"  # Multi-stakeholder cooperative
    assert stored(db, "Hebden Wholefoods")["structure"] == "OS115"  # co-op
    assert stored(db, "Cardiff Bike Works")["structure"] == "OS60"  # Workers cooperative
    [several] = [i.message for i in report.issues if i.row == 3 and i.column == "Society Structure"]
    assert "Multi-stakeholder cooperative is stored, not Charity" in several


def test_numbered_address_lines_are_joined_in_order_and_title_names_them(db):
    report = run(db, DATA / "survey_addresses.csv")
    assert read_as(report)["title"] == ("name", "name")
    grain, tools = stored(db, "Grain Exchange"), stored(db, "Tool Library")
    # address[a], [b], [c] in the order of their suffixes; the town on the last line is the city.
    assert (grain["street"], grain["city"]) == ("21 Bridge Street, Unit 4", "Kendal")
    assert (tools["street"], tools["city"]) == ("8 Low Lane", "Keswick")


def test_paragraphs_and_breaks_of_a_description_show_on_the_page_as_text(db, client):
    run(db, DATA / "survey_addresses.csv", mapping={"columns": {"Notes": "description"}, "ignore": []},
        status="published")
    grain = stored(db, "Grain Exchange")
    assert grain["description"] == ("Flour from local farms, milled in the old mill by the river every week.\n\n"
                                    "Open on Saturdays, with bread and coffee for everyone who comes by.")
    tools = stored(db, "Tool Library")
    assert "<br>" not in tools["description"] and "<p>" not in tools["description"]
    page = client.get(f"/organisations/{grain['slug']}").get_data(as_text=True)
    block = page.split('class="org-description">')[1].split("</div>")[0]
    assert block.count("<p>") == 2
    page = client.get(f"/organisations/{tools['slug']}").get_data(as_text=True)
    block = page.split('class="org-description">')[1].split("</div>")[0]
    assert block == ("<p>Lend &amp; borrow<br>tools for everyone who lives in the valley, from drills to ladders</p>"
                     "<p>Run by volunteers</p>")


def test_columns_named_nothing_known_are_read_by_their_content_with_the_evidence(db):
    report = run(db, DATA / "unnamed_columns.csv")
    found = read_as(report)
    assert found["A"] == ("lat", "looks like latitudes: 3 of 3 values")
    assert found["B"] == ("lon", "looks like longitudes: 3 of 3 values")
    assert found["Contact"] == ("email", "looks like e-mail addresses: 3 of 3 values")
    assert found["Code"] == ("postcode", "looks like postcodes of FR: 3 of 3 values")
    assert found["Texte"] == ("description", "looks like long texts (descriptions): 3 of 3 values")
    assert found["Pays"] == ("country", "name")
    assert "Gérant" not in found
    canal = stored(db, "Boulangerie du Canal")
    assert (canal["lat"], canal["lon"], canal["postcode"]) == (45.764, 4.8357, "69001")
    assert canal["geo_precision"] == "provided"


def test_a_guess_never_takes_a_field_a_header_names():
    plan = columns.plan_columns(["Name", "Latitude", "Longitude", "x2", "y2"])
    from mapapp.importing import sniff
    rows = [(2, ["A", "", "", "48.85", "2.35"]), (3, ["B", "45.76", "4.83", "45.76", "4.83"])]
    sniff.guess(["Name", "Latitude", "Longitude", "x2", "y2"], rows, plan, has_points=False)
    assert plan.fields == {0: "name", 1: "lat", 2: "lon"}


def test_a_numbers_column_is_no_postcode_because_it_fits_after_padding(db, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("Nom,Ville,Pays,Membres\nCoop A,Lyon,FR,12\nCoop B,Lyon,FR,300\n", encoding="utf-8")
    report = run(db, path, dry_run=True)
    assert "Membres" not in read_as(report)


def test_real_extracts_without_a_mapping(db):
    coopsuk = run(db, DATA / "coopsuk_workers_extract.csv", mapping=NO_MAPPING, dry_run=True, geocode=False)
    found = read_as(coopsuk)
    assert found["Geo Container Latitude"][0] == "lat" and found["Geo Container Longitude"][0] == "lon"
    assert "'Latitude' is empty" in found["Geo Container Latitude"][1]
    assert coopsuk.counts["created"] == 40 and coopsuk.counts["not_located"] == 4
    dotcoop = run(db, DATA / "dotcoop_extract.csv", mapping=NO_MAPPING, dry_run=True, geocode=False)
    assert read_as(dotcoop)["Domain"][0] == "website"
    ica = run(db, DATA / "ica_youth_extract.csv", mapping=NO_MAPPING, dry_run=True, geocode=False)
    assert {read_as(ica)[h][0] for h in ("Name", "Country", "Latitude", "Longitude")} == {"name", "country", "lat", "lon"}
    assert ica.counts["created"] == 40 and ica.counts["not_located"] == 0


def _cli_lines(output: str) -> dict[str, tuple[str, str]]:
    found = {}
    for header, fld, how in re.findall(r"^  column '(.+)' → (\w+) \((.+)\)$", output, re.MULTILINE):
        found[header] = (fld, how.removeprefix("by its content: "))
    return found


def _preview_columns(page: str) -> dict[str, tuple[str, str]]:
    table = page.split('id="columns"')[1].split("</table>")[0]
    found = {}
    for row in table.split("<tr>")[2:]:
        header = row.split("<td>")[1].split("</td>")[0]
        chosen = re.search(r'<option value="(\w+)" selected', row)
        how = re.sub(r"<[^>]+>", "", row.split('class="column-how">')[1].split("</td>")[0]).strip()
        if chosen and chosen.group(1) != "ignore":
            found[header] = (chosen.group(1), how.removeprefix("by its content: "))
    return found


def test_the_command_line_and_the_preview_say_the_same(app, runner, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    for name in ("register_uk.csv", "unnamed_columns.csv"):
        result = runner.invoke(args=["import", str(DATA / name), "--dry-run", "--no-geocode"])
        assert result.exit_code == 0, result.output
        client = app.test_client()
        sign_in(client, "editor@example.org")
        page = client.get(upload(client, DATA / name).headers["Location"]).get_data(as_text=True)
        cli = _cli_lines(result.output)
        browser = _preview_columns(page)
        assert {h: f for h, (f, _) in cli.items()} == {h: f for h, (f, _) in browser.items()}
        assert {h: how for h, (_, how) in cli.items() if how.startswith("looks like")} == \
            {h: how for h, (_, how) in browser.items() if how.startswith("looks like")}
        skipped = re.search(r"(\d+) skipped", result.output).group(1)
        assert f"<li>{skipped} skipped</li>" in page
        for message in ("section heading", "spreadsheet error value", "only a title", "only a number", "total row",
                        "% filled) was not imported"):
            assert (message in result.output) == (message in page), (name, message)


def test_staff_confirm_a_guess_by_content_in_the_preview(app, worker, staff, page, live_server_for, tmp_path, db):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin/imports", "editor@example.org")
        page.wait_for_url("**/admin/imports")
        page.set_input_files("input[name=file]", str(DATA / "unnamed_columns.csv"))
        page.click("text=Upload and preview")
        page.wait_for_url("**/preview")
        columns_table = page.locator("#columns")
        row_a = columns_table.locator("tr", has=page.locator("select[name='field:A']"))
        assert row_a.inner_text().strip().endswith("by its content: looks like latitudes: 3 of 3 values")
        assert "looks like longitudes: 3 of 3 values" in columns_table.inner_text()
        page.screenshot(path=str(tmp_path / "guess.png"), full_page=True)
        # Staff confirm the guesses as they stand and leave the manager's column out on purpose.
        page.select_option("select[name='field:Gérant']", "ignore")
        page.locator("#columns").locator("xpath=following::button[1]").click()
        page.wait_for_url("**/preview")
        assert row_a.inner_text().strip().endswith("as you chose")
        assert "by its content" not in columns_table.inner_text()
        assert page.locator("#issues").count() == 0  # the manager's column left out on purpose: no problem left
        assert "0 not located" in page.locator("#dry-run-counts").inner_text()
        page.screenshot(path=str(tmp_path / "confirmed.png"), full_page=True)
        page.click("text=Import now")
        page.wait_for_url("**/admin/imports/*")
        page.locator("#report-link:not([hidden])").wait_for(timeout=20_000)
        assert "3 created" in page.locator("#state").inner_text()
    canal = stored(db, "Boulangerie du Canal")
    assert (canal["lat"], canal["lon"], canal["email"]) == (45.764, 4.8357, "pain@canal.example.fr")


def test_hostile_headers_and_cells_stay_inert_text_in_the_preview(app, staff, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(
        'Name,<script>alert(1)</script>,{{ 7*7 }},=1+1\n'
        '"{% raw %}<b>Coop</b>",48.8566,2.3522,"${x} javascript:alert(1)\r\nmore text here to fill"\n'
        '"#REF!",45.7640,4.8357,=HYPERLINK("http://x")\n'
        '"Coop <img src=x onerror=alert(1)>",43.2965,5.3698,"\ufffe text"\n', encoding="utf-8")
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, path).headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>Coop</b>" not in page
    assert not shows_49(page.split('id="columns"')[1].split("</table>")[0])
    assert "looks like latitudes: 3 of 3 values" in page  # the hostile header's column, read by its content
    assert "spreadsheet error value" in page


def _without_points(source: Path, target: Path) -> Path:
    import csv
    with source.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f)]
    with target.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([r[:-2] for r in rows])  # lattitude, longitude are the last two
    return target


def test_a_country_written_where_the_region_goes_places_the_row_in_it(db, tmp_path):
    # A French map's list: the département in one column, or the country for the few abroad.
    report = run(db, _without_points(DATA / "supermarches_coop_extract.csv", tmp_path / "coops.csv"))
    bloum, nyon, cafoutch = (stored(db, n) for n in ("Bloum", "Le Local", "Super Cafoutch"))
    assert (bloum["country"], bloum["region"]) == ("BE", "")
    assert abs(bloum["lat"] - 50.819) < 0.05 and abs(bloum["lon"] - 4.327) < 0.05  # Forest, Brussels
    assert (nyon["country"], round(nyon["lat"], 1), round(nyon["lon"], 1)) == ("CH", 46.4, 6.2)
    assert (cafoutch["country"], cafoutch["region"]) == ("FR", "13")
    said = [str(i.message) for i in report.issues if i.row == 20 and i.column == "country"]
    assert said == ["country set to BE: the region column names that country"]


def test_a_province_code_that_is_also_a_country_code_stays_a_region(db, tmp_path):
    path = tmp_path / "province.csv"
    path.write_text("denominazione,provincia,comune\nCoop Adriatica,CH,Chieti\nCoop del Lago,CO,Como\n",
                    encoding="utf-8")
    run(db, path)  # no country column: the region is not read as one
    chieti = stored(db, "Coop Adriatica")
    assert chieti["country"] != "CH" and chieti["region"] == "CH"


def test_a_british_postcode_cut_to_its_sector_is_kept_and_places_the_row(db, tmp_path):
    # The .coop registrants' "Zip" (a geocoder's output) holds "HG4 2" where the registrant wrote HG4 2JB.
    path = tmp_path / "sectors.csv"
    path.write_text("Name,Zip,Country\nYoga.Coop,HG4 2,GB\nThe Midcounties Co-operative,CV34  6,gb\n",
                    encoding="utf-8")
    chain = Chain.from_config("provided,cache,postcode,gazetteer", db, user_agent="")
    report = importer.import_file(db, path, importer.Options(), chain)
    yoga, midcounties = stored(db, "Yoga.Coop"), stored(db, "The Midcounties Co-operative")
    assert (yoga["postcode"], yoga["geo_precision"]) == ("HG4 2", "postcode")
    assert abs(yoga["lat"] - 54.13) < 0.1 and abs(yoga["lon"] + 1.53) < 0.1  # Ripon, not empty
    assert midcounties["postcode"] == "CV34 6" and midcounties["lat"] is not None
    assert "postcode 'HG4 2' is only a postcode sector (the last two letters are missing); kept, and the row " \
        "placed by it" in [str(i.message) for i in report.issues if i.row == 2]


def test_a_jersey_town_under_great_britain_is_looked_up_in_jersey(db, tmp_path):
    # Co-ops UK's row 9: St Helier, JE2 4TR, country GB; the town was taken for St Helier in Sutton.
    path = tmp_path / "jersey.csv"
    path.write_text("Name,Street Address,Locality,Postcode,Country ID\n"
                    "Jersey Co-operative,Grand Marché,St Helier,JE2 4TR,GB\n", encoding="utf-8")
    chain = Chain.from_config("provided,cache,postcode,gazetteer", db, user_agent="")
    report = importer.import_file(db, path, importer.Options(), chain)
    jersey = stored(db, "Jersey Co-operative")
    assert abs(jersey["lat"] - 49.19) < 0.05 and abs(jersey["lon"] + 2.10) < 0.05
    assert not [i for i in report.issues if "km from postcode" in str(i.message)]


def test_a_problem_about_a_field_the_file_has_no_column_for_names_it_in_the_staff_language(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    path = _without_points(DATA / "supermarches_coop_extract.csv", tmp_path / "coops.csv")
    page = client.get(upload(client, path).headers["Location"] + "?lang=fr").get_data(as_text=True)
    issues = page[page.index('id="issues"'):]
    cells = re.findall(r"<td>([^<]*)</td><td>pays fixé à", issues)
    assert cells and set(cells) == {"pays"}  # not the internal name "country"


def test_the_preview_counts_agree_with_their_number_in_polish(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, DATA / "dotcoop_extract.csv").headers["Location"] + "?lang=pl").get_data(
        as_text=True)
    counts = re.findall(r"<li>([^<]*)</li>", page[page.index('id="dry-run-counts"'):].split("</ul>")[0])
    assert "6 pominiętych wierszy" in counts and "15 ostrzeżeń" in counts  # not "6 pominięte", "15 ostrzeżenia"
    assert "0 prawdopodobnych duplikatów" in counts
