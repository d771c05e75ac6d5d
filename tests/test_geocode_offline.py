"""Every marker where it belongs, offline (issue 29): postcodes, a country for the file,
namesakes, districts, arrondissements, typos, towns on the street line, one-cell
addresses, Channel Islands postcodes and points at sea.

The fixtures (tests/fixtures/uk_places.csv, yorkshire_coops.csv, french_towns.csv) were
written for these tests, with real place names and postcodes of public places.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from support import csrf_from, shows_49, sign_in, upload

from mapapp import catalogue, geo
from mapapp.filters import Filters
from mapapp.importing import importer
from mapapp.mapdata import geocode

FIXTURES = Path(__file__).parent / "fixtures"


def _chain(db):
    return geocode.Chain.from_config("provided,cache,postcode,gazetteer", db, user_agent="")


def _imported(db, name: str, options: importer.Options | None = None):
    report = importer.import_file(db, FIXTURES / name, options or importer.Options(), _chain(db))
    orgs = {o["name"]: o for o in db.query("select * from organisations")}
    return report, orgs


def _km(org, lat, lon) -> float:
    assert org["lat"] is not None, f"{org['name']} was not placed"
    return geo.distance_km((org["lat"], org["lon"]), (lat, lon))


def _messages(report, row: int | None = None) -> str:
    return " | ".join(str(i.message) for i in report.issues if row is None or i.row == row)


def test_british_rows_without_a_country_are_placed_by_postcode_and_town(db):
    report, orgs = _imported(db, "uk_places.csv")
    # "Oxford" + "OX2 6TP": the country comes from the postcode, the point from its sector
    assert orgs["Oxford Food Co-op"]["country"] == "GB"
    assert _km(orgs["Oxford Food Co-op"], 51.765, -1.265) < 3
    assert orgs["Oxford Food Co-op"]["geo_precision"] == "postcode"
    assert "country set to GB: its postcode has only that country's form" in _messages(report, 2)
    # a row whose only address is a postcode
    assert _km(orgs["Moseley Bakery"], 52.445, -1.885) < 3
    # Newbridge by Edinburgh (EH28), not Newbridge in Wales
    assert _km(orgs["Newbridge Workers"], 55.933, -3.40) < 5
    # St Ives, Cornwall, not the larger St Ives in Cambridgeshire
    assert _km(orgs["St Ives Fishers"], 50.209, -5.488) < 5
    # a district of Manchester, an island
    assert _km(orgs["Levenshulme Market Co-op"], 53.445, -2.19) < 6
    assert _km(orgs["Skye Crofters"], 57.3, -6.2) < 40
    # "Kirkby" + "Stephen"
    assert _km(orgs["Eden Valley Wool"], 54.472, -2.349) < 3
    # the town only on the street line
    assert _km(orgs["Caroline Street Printers"], 52.486, -1.89) < 5
    assert "town 'Birmingham' taken from the street lines" in _messages(report, 8)


def test_an_address_in_one_cell_is_split(db):
    report, orgs = _imported(db, "uk_places.csv")
    quay = orgs["Quay Farm Growers"]
    assert (quay["street"], quay["postcode"], quay["city"]) == ("c/o Quay Farm, 12 Mill Lane", "NE10 0AB", "Gateshead")
    assert _km(quay, 54.95, -1.56) < 5
    assert "split into street, postcode and town" in _messages(report, 9)
    # Staff searching for the town find it: the search index holds the town of the split.
    found = catalogue.find_organisations(db, Filters(q="gateshead"), statuses=("draft", "published"))
    assert [o["name"] for o in found] == ["Quay Farm Growers"]


def test_channel_islands_postcodes_are_valid_and_placed(db):
    report, orgs = _imported(db, "uk_places.csv")
    jersey, guernsey = orgs["Jersey Car Share"], orgs["Guernsey Housing"]
    assert (jersey["postcode"], jersey["country"]) == ("JE2 3AA", "JE")
    assert (guernsey["postcode"], guernsey["country"]) == ("GY1 1AA", "GG")
    assert _km(jersey, 49.19, -2.11) < 10 and _km(guernsey, 49.46, -2.54) < 10
    assert "does not look like a postcode" not in _messages(report)


def test_a_jersey_postcode_is_valid_under_great_britain_too(db, tmp_path):
    path = tmp_path / "gb.csv"
    path.write_text("Name,Postcode,Country\nJersey Shop,JE2 3AA,GB\nGuernsey Shop,GY1 1AA,JE\n", encoding="utf-8")
    report = importer.import_file(db, path, importer.Options(), _chain(db))
    orgs = {o["name"]: o for o in db.query("select * from organisations")}
    assert orgs["Jersey Shop"]["postcode"] == "JE2 3AA" and _km(orgs["Jersey Shop"], 49.19, -2.11) < 10
    # a Guernsey code under Jersey is not a Jersey postcode
    assert "'GY1 1AA' does not look like a postcode of JE" in _messages(report)


def test_a_file_of_yorkshire_coops_stays_in_yorkshire(db):
    report, orgs = _imported(db, "yorkshire_coops.csv", importer.Options(country="GB"))
    assert _km(orgs["Swaledale Wool"], 54.404, -1.734) < 5  # Richmond, North Yorkshire, not London's
    assert "nearest the file's other rows" in _messages(report, 7)


def test_arrondissements_and_typos_find_their_city(db):
    report, orgs = _imported(db, "french_towns.csv")
    assert _km(orgs["Atelier Montmartre"], 48.857, 2.352) < 10
    assert _km(orgs["Coop Croix-Rousse"], 45.764, 4.836) < 10
    assert _km(orgs["Marseille Solidaire"], 43.297, 5.37) < 10
    assert _km(orgs["Alsace Partage"], 48.584, 7.746) < 5
    assert "town 'Strabourg' not found; placed at Strasbourg, the nearest spelling: check it" in _messages(report, 5)


def test_the_region_chooses_among_french_and_italian_namesakes(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("Nom,Ville,Région,Pays\nCoop Tarn-et-Garonne,Valence,Occitanie,FR\nCoop Drôme,Valence,,FR\n"
                    "Coop Umbra,Castelnuovo,Umbria,IT\n", encoding="utf-8")
    importer.import_file(db, path, importer.Options(), _chain(db))
    orgs = {o["name"]: o for o in db.query("select * from organisations")}
    assert _km(orgs["Coop Tarn-et-Garonne"], 44.108, 0.891) < 5
    assert _km(orgs["Coop Drôme"], 44.926, 4.91) < 5
    assert orgs["Coop Umbra"]["lat"] is not None and _km(orgs["Coop Umbra"], 43.1, 12.4) < 60


def test_a_town_far_from_its_postcode_is_said(db, tmp_path):
    path = tmp_path / "far.csv"
    path.write_text("Name,Postcode,Town,Country\nMisfiled,OX2 6TP,Carlisle,GB\n", encoding="utf-8")
    report = importer.import_file(db, path, importer.Options(), _chain(db))
    org = db.query("select * from organisations").__next__()
    assert _km(org, 51.765, -1.265) < 3
    assert re.search(r"town 'Carlisle' lies \d+ km from postcode OX2 6TP .*placed at the postcode", _messages(report))


def test_a_point_at_sea_is_warned(db, tmp_path):
    path = tmp_path / "sea.csv"
    path.write_text("Name,Latitude,Longitude\nAdrift,50.0,-5.9\nAshore,51.75,-1.26\n", encoding="utf-8")
    report = importer.import_file(db, path, importer.Options(), _chain(db))
    assert "the coordinates (50.0, -5.9) lie in no country (at sea?): check them" in _messages(report, 2)
    assert _messages(report, 3) == "country set to GB, where the coordinates lie"


def test_the_file_country_on_the_command_line(app, runner, tmp_path):
    path = tmp_path / "towns.csv"
    path.write_text("Name,Town\nA,Newport\nB,Richmond\n", encoding="utf-8")
    guessed = runner.invoke(args=["import", str(path), "--dry-run"])
    assert "rows 2-3, column 'country': country set to GB: only that country has a place of that name" in guessed.output
    given = runner.invoke(args=["import", str(path), "--country", "GB"])
    assert given.exit_code == 0, given.output
    assert "0 not located" in given.output and "country set to" not in given.output
    wrong = runner.invoke(args=["import", str(path), "--country", "Atlantis"])
    assert wrong.exit_code != 0 and "--country: 'Atlantis' is not an ISO country code" in wrong.output


def test_the_file_country_in_the_preview(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    path = tmp_path / "towns.csv"
    path.write_text("Name,Town\nA,Newport\nB,Richmond\n", encoding="utf-8")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, path).headers["Location"]
    first = client.get(url).get_data(as_text=True)
    assert "country set to GB: only that country has a place of that name" in first
    page = client.post(url, data={"csrf_token": csrf_from(first), "action": "preview", "country": "GB",
                                  "link_project": "", "link_relation": "", "link_visit": ""}).get_data(as_text=True)
    assert re.search(r'<option value="GB" selected>', page)
    assert "country set to" not in page and "only that country" not in page
    assert "0 not located" in re.sub(r"<[^>]+>|\s+", " ", page)


def test_file_text_in_placement_messages_stays_text(app, db, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    path = tmp_path / "attack.csv"
    path.write_text('Name,Address,Town,Country\n'
                    '"=1+1 Coop","1 Road Street <script>alert(1)</script>{{7*7}}, Birmingham",,GB\n'
                    '"Typo ${7*7}",,"Strabourg<img src=x onerror=alert(2)>",FR\n'
                    '"Typo 2",,"Strabourgg{% raw %}",FR\n', encoding="utf-8")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get(upload(client, path).headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page and not shows_49(page)


def test_staff_choose_the_file_country_in_the_browser(app, db, staff, page, live_server_for, tmp_path):
    from support import sign_in_browser

    app.config["UPLOAD_DIR"] = str(tmp_path / "up")
    sheet = tmp_path / "towns.csv"
    sheet.write_text("Name,Town\nA,Newport\nB,Richmond\n", encoding="utf-8")
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin/imports?lang=fr", "editor@example.org")
        page.goto(server.url + "/admin/imports?lang=fr")
        page.set_input_files("input[name=file]", str(sheet))
        page.click("form[enctype] button[type=submit]")
        assert "seul ce pays a un lieu de ce nom" in page.content()
        page.select_option("#file-country", "GB")
        page.click("#links button[value=preview]")
        assert page.locator("#file-country").input_value() == "GB"
        assert "seul ce pays" not in page.content()
        page.screenshot(path=tmp_path / "preview-country.png", full_page=True)
        # the country list is in the staff member's language
        assert page.locator("#file-country option[value=GB]").inner_text() == "Royaume-Uni (GB)"


@pytest.mark.parametrize("country", ["FR", "BE", "GR", "CY", "NL", "GB"])
def test_points_checked_together_get_the_verdict_each_would_get_alone(country):
    """An import checks a chunk's points per country at once (``geo.points_near_country``); each
    verdict is ``geo.in_country``'s: inside, by the border, offshore or in a neighbour."""
    south, west, north, east = geo.country_bounds(country)
    rng = random.Random(country)
    lats = [rng.uniform(south - 1, north + 1) for _ in range(400)]
    lons = [rng.uniform(west - 1, east + 1) for _ in range(400)]
    verdicts = geo.points_near_country(country, lats, lons)
    assert verdicts == [bool(geo.in_country(country, lat, lon)) for lat, lon in zip(lats, lons)]
    assert 0 < sum(verdicts) < 400


def test_the_point_among_namesakes_is_the_median_of_the_last_points_placed():
    # Kept sorted as points come and go, the median is the one sorting the window would give.
    from mapapp.mapdata.geocode import CONTEXT_POINTS, _RecentPoints

    rng = random.Random(3)
    recent, window = _RecentPoints(), []
    assert recent.median() is None
    for _ in range(3 * CONTEXT_POINTS):
        point = (round(rng.uniform(43, 51), 1), round(rng.uniform(-1, 8), 1))  # rounded: many equal
        recent.add(*point)
        window = [*window[-CONTEXT_POINTS + 1:], point]
        expected = (sorted(p[0] for p in window)[len(window) // 2],
                    sorted(p[1] for p in window)[len(window) // 2]) if len(window) >= 3 else None
        assert recent.median() == expected
