"""The browser import as good as the command line: known formats recognised from their
headers, ready-made mappings offered, problems grouped, duplicates and counts shown, in
the staff member's language."""

from __future__ import annotations

from pathlib import Path

from support import csrf_from, make_org, sign_in, upload

from mapapp import catalogue
from mapapp.importing import columns, importer
from mapapp.importing.report import Report
from mapapp.mapdata import geocode

FIXTURES = Path(__file__).parent / "fixtures"


def preview_of(app, name: str, lang: str = "en") -> tuple[object, str, str]:
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, FIXTURES / name).headers["Location"]
    return client, url, client.get(url + f"?lang={lang}").get_data(as_text=True)


def samples(page: str) -> str:
    return page.split('id="samples"')[1].split("</table>")[0]


def test_essglobal_standard_is_recognised_and_its_geo_container_gives_the_points(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    _, _, page = preview_of(app, "essglobal_standard.csv")
    assert "recognised the format &#39;ESSGLOBAL standard CSV" in page
    assert "3 created" in page and "0 not located" in page
    assert "coordinates from the file" in samples(page)
    chosen = page.split('name="field:Geo Container Latitude"')[1].split("</select>")[0]
    assert 'value="lat" selected' in chosen


def test_dotcoop_registrants_keep_their_domain_as_website_and_the_clean_columns(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    _, _, page = preview_of(app, "dotcoop_registrants.csv")
    rows = samples(page)
    assert "https://dbc.coop" in rows and "Böhlen" in rows and "Kantstraße 10" in rows
    assert "B?hlen" not in rows and "lost letters" not in page


def test_ica_youth_coops_are_recognised_the_same_way_from_the_command_line(db):
    chain = geocode.Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    report = importer.import_file(db, FIXTURES / "ica_youth_coops.csv", importer.Options(dry_run=True), chain)
    assert any("ICA youth-led co-operatives" in note for note in report.notes)
    assert report.counts["created"] == 2
    assert not any(i.column in ("name", "Additional Details", "Size") for i in report.issues)


def test_every_bundled_mapping_recognises_its_own_format():
    names = {f.name for f in columns.known_formats()}
    assert names == {"essglobal-standard", "dotcoop-registrants", "ica-youth-led-coops"}
    assert columns.recognise_format(["Name", "City", "Country"]) is None


def test_a_ready_made_mapping_can_be_chosen_in_the_preview(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    client, url, page = preview_of(app, "french_headers.csv")
    assert "Formats of other maps" in page and "ESSGLOBAL standard CSV (Digital Commons maps)" in page
    page = client.post(url, data={"csrf_token": csrf_from(page), "action": "preview",
                                  "use_saved": "format:ica-youth-led-coops"}).get_data(as_text=True)
    assert "2 created" in page  # the chosen mapping ignores none of these headers


def test_french_headers_and_values_are_recognised(app, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    _, _, page = preview_of(app, "french_headers.csv", lang="fr")
    assert "non reconnue" not in page and "2 créées" in page
    rows = samples(page)
    assert "Éducation" in rows  # "Thématique: Formation"


def test_french_needs_and_offers_become_codes(db):
    chain = geocode.Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    report = importer.import_file(db, FIXTURES / "french_headers.csv", importer.Options(status="published"), chain)
    assert report.counts["warnings"] == 0, [i.message for i in report.issues]
    org = catalogue.get_organisation(db, report.rows[0].slug)
    assert set(org["needs"]) == {"premises", "equipment"} and org["offers"] == {"training": "ateliers de couture"}


def test_problems_are_grouped_with_the_rare_ones_first(app, staff, tmp_path):
    lines = ["name,city,country,structure"]
    lines += [f"Coop {n},Lyon,FR,Youth-led groups" for n in range(97)]
    lines += ["Odd one,Lyon,Atlantis,"]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, path).headers["Location"]).get_data(as_text=True)
    table = page.split('id="issues"')[1].split("</table>")[0]
    assert table.count("<tr class=") == 2
    atlantis, youth = table.index("Atlantis"), table.index("Youth-led groups")
    assert atlantis < youth and "97 rows" in table and "row 99" in table


def test_many_variants_of_one_problem_are_one_line():
    report = Report(file="f.csv", source="f")
    from mapapp.translate import N_, Message
    for row in range(2, 40):
        report.add(row + 1, "", "error", Message(N_("same organisation as row %(row)s (same reference, or same "
                                                    "name, city and country); row skipped"), row=row))
    report.add(50, "Name", "warning", "something rare")
    groups = report.grouped_issues()
    assert [g.message for g in groups][0] == "something rare"
    assert len(groups) == 2 and groups[1].similar == 37 and len(groups[1].rows) == 38


def test_likely_duplicates_are_listed_in_the_preview(app, db, staff, tmp_path):
    make_org(db, "Coop Alpha", city="Lyon", country="FR", lat=45.76, lon=4.84, website="https://alpha.example.org")
    path = tmp_path / "again.csv"
    path.write_text("name,city,country,website\nCoop Alpha,Lyon,FR,alpha.example.org\n", encoding="utf-8")
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, path).headers["Location"]).get_data(as_text=True)
    table = page.split('id="duplicates"')[1].split("</table>")[0]
    assert "coop-alpha" in table and "same website" in table and "1 likely duplicate<" in page


def test_the_preview_speaks_the_staff_members_language(app, staff, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,city,country,email\nCoop,Lyon,Atlantis,not-an-address\n", encoding="utf-8")
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, path).headers["Location"] + "?lang=fr").get_data(as_text=True)
    assert "n&#39;est ni un code pays ISO ni un nom de pays connu" in page
    assert "n&#39;est pas une adresse e-mail valide" in page
    assert "is not an ISO country code" not in page and "--mapping" not in page
    assert "<option value=\"postcode\" >code postal</option>" in page.replace("  ", " ")
