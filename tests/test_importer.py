import csv
import json
from pathlib import Path

import pytest
from support import make_org

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

FIXTURES = Path(__file__).parent / "fixtures"


def run(db, path, **options):
    chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
    return importer.import_file(db, path, importer.Options(**options), chain)


def org(db, name):
    [found] = [o for o in catalogue.duplicate_candidates(db) if o["name"] == name]
    return catalogue.get_organisation(db, found["slug"], published_only=False)


def issues(report, row=None):
    return [i.message for i in report.issues if row is None or i.row == row]


def test_french_excel_file_row_by_row(db):
    report = run(db, FIXTURES / "french_excel.csv")
    assert report.counts["created"] == 5 and report.counts["skipped"] == 1
    assert "cp1252" in report.details and "semicolon" in report.details

    elan = org(db, "Coopérative Élan")
    assert (elan["postcode"], elan["country"], elan["website"]) == ("01000", "FR", "https://www.elan-coop.fr")
    assert elan["themes"] == ["AM40", "AM60"]
    assert elan["needs"] == {"funding": "un prêt de 5 000 €"}
    assert elan["offers"] == {"premises": ""}
    assert elan["geo_precision"] == "locality"  # Bourg-en-Bresse from the gazetteer
    assert any("lost its leading zero" in m for m in issues(report, 2))

    mistral = org(db, "Atelier Mistral")
    assert mistral["website"] == "" and mistral["email"] == ""
    assert any("is an e-mail address, not a website" in m for m in issues(report, 3))
    assert (mistral["lat"], mistral["lon"], mistral["geo_precision"]) == (43.1242, 5.928, "provided")

    assert any(i.level == "error" and i.row == 4 and "no organisation name" in i.message
               for i in report.issues)

    ruche = org(db, "La Ruche Bruxelloise")
    assert (ruche["lat"], ruche["lon"]) == (50.8503, 4.3517)  # swapped in the file
    assert any("swapped" in m for m in issues(report, 5))
    assert ruche["country"] == "BE" and ruche["themes"] == ["AM90", "AM10"]  # the file's order: its first is the main one

    verger = org(db, "Verger Partagé")
    assert any("0, 0" in m for m in issues(report, 6))
    assert verger["geo_precision"] == "locality" and round(verger["lat"], 1) == 43.4

    epicerie = org(db, "Épicerie du Monde")
    assert epicerie["lat"] is None and epicerie["country"] is None
    assert [r for r, _, _ in report.not_located] == [7]
    # An unknown category is reported once, grouped, with its rows (not as a row's warning).
    assert [(u.value, u.rows, u.first) for u in report.unknown_values()] == [("Cuisine moléculaire", 1, [7])]
    statuses = {r[0] for r in db.execute("SELECT status FROM organisations")}
    assert statuses == {"draft"}


def test_new_organisations_are_drafts_unless_asked(db):
    run(db, FIXTURES / "osm_keys.csv")
    assert catalogue.count_organisations(db, Filters()) == 0
    run(db, FIXTURES / "osm_keys.csv", source="again", status="published")
    assert catalogue.count_organisations(db, Filters()) == 2


def test_osm_style_keys(db):
    report = run(db, FIXTURES / "osm_keys.csv")
    assert report.issues == []
    gent = org(db, "Fietsatelier Gent")
    assert gent["street"] == "Sleepstraat 12" and gent["postcode"] == "9000"
    assert gent["website"] == "https://fietsatelier.example.be" and gent["phone"] == "+32 9 000 00 00"
    assert org(db, "Cooperativa Bolognese")["country"] == "IT"


def test_geojson_export_of_another_map(db):
    report = run(db, FIXTURES / "export.geojson")
    assert report.counts["created"] == 3
    jezyce = org(db, "Kooperatywa Jeżyce")
    assert (jezyce["lat"], jezyce["lon"], jezyce["geo_precision"]) == (52.4064, 16.9252, "provided")
    assert jezyce["needs"] == {"funding": "", "volunteers": "two on Saturdays"}
    assert org(db, "Nicosia Makers")["themes"] == ["AM10"]
    assert org(db, "Sans géométrie")["geo_precision"] == "locality"


def test_reimport_creates_and_changes_nothing(db):
    first = run(db, FIXTURES / "french_excel.csv")
    stamps = dict(db.execute("SELECT slug, updated_at FROM organisations").fetchall())
    second = run(db, FIXTURES / "french_excel.csv")
    assert second.counts["created"] == 0 and second.counts["updated"] == 0
    assert second.counts["unchanged"] == first.counts["created"]
    assert dict(db.execute("SELECT slug, updated_at FROM organisations").fetchall()) == stamps


def test_a_changed_row_updates_its_organisation(db, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("name,city,country,website\nCoop A,Lyon,FR,a.example.org\nCoop B,Lyon,FR,\n")
    run(db, path, source="list")
    path.write_text("name,city,country,website\nCoop A,Lyon,FR,https://new.example.org\nCoop B,Lyon,FR,\n")
    report = run(db, path, source="list")
    assert [(r.name, r.action) for r in report.rows] == [("Coop A", "updated"), ("Coop B", "unchanged")]
    assert org(db, "Coop A")["website"] == "https://new.example.org"
    assert catalogue.organisation_count(db) == 2


def test_reference_column_is_the_key(db, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,name,city,country\n7,Old Name,Lyon,FR\n")
    run(db, path, source="crm")
    path.write_text("id,name,city,country\n7,New Name,Lyon,FR\n")
    report = run(db, path, source="crm")
    assert report.rows[0].action == "updated"
    assert catalogue.organisation_count(db) == 1


def test_stored_values_survive_columns_the_file_does_not_have(db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,city,country,website,themes\nCoop,Lyon,FR,coop.example.org,AM40\n")
    run(db, path, source="s", status="published")
    path.write_text("name,city,country\nCoop,Lyon,FR\n")
    report = run(db, path, source="s")
    coop = org(db, "Coop")
    assert report.rows[0].action == "unchanged"
    assert coop["website"] == "https://coop.example.org" and coop["themes"] == ["AM40"]
    assert coop["status"] == "published"  # a re-import without --status keeps it


def test_same_organisation_twice_in_a_file(db, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("name,city,country\nCoop,Lyon,FR\nCOOP,lyon,fr\n")
    report = run(db, path)
    assert report.counts["created"] == 1 and report.counts["skipped"] == 1
    assert any("same organisation as row 2" in m for m in issues(report, 3))


def test_unknown_and_clashing_columns_are_reported(db, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("Name,name,Colour,City,Country\nCoop,kind of coop,blue,Lyon,FR\n")
    report = run(db, path)
    file_issues = {i.column: i.message for i in report.issues if i.row is None}
    assert "not recognised" in file_issues["Colour"]
    assert "already read from column 'Name'" in file_issues["name"]
    assert org(db, "Coop")["city"] == "Lyon"


def test_mapping_file_maps_and_ignores(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Raison,Commune,Colour,Pays\nCoop,Lyon,blue,FR\n")
    mapping = tmp_path / "map.yml"
    mapping.write_text("columns:\n  Raison: name\n  commune: city\nignore:\n  - Colour\n")
    report = run(db, path, mapping=mapping)
    assert report.issues == []
    assert org(db, "Coop")["city"] == "Lyon"


def test_bad_mapping_and_missing_name_column_fail_with_advice(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Raison,Commune\nCoop,Lyon\n")
    with pytest.raises(importer.ImportFailed, match="no column holds the organisations' names"):
        run(db, path)
    mapping = tmp_path / "map.yml"
    mapping.write_text("columns:\n  Raison: title\n")
    with pytest.raises(importer.ImportFailed, match="unknown field 'title'"):
        run(db, path, mapping=mapping)
    with pytest.raises(importer.ImportFailed, match="no project 'nope'"):
        run(db, FIXTURES / "osm_keys.csv", project="nope")
    assert catalogue.organisation_count(db) == 0


def test_project_membership(db):
    catalogue.save_project(db, {"slug": "seminar", "name": "Seminar"})
    run(db, FIXTURES / "osm_keys.csv", project="seminar", status="published")
    assert catalogue.count_organisations(db, Filters(project=("seminar",))) == 2


def test_coordinates_in_another_country_are_not_trusted(db, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,city,country,lat,lon\nCoop,Lyon,FR,50.85,4.35\n")
    report = run(db, path)
    coop = org(db, "Coop")
    assert any("lie in Belgium (BE), not in France (FR)" in m for m in issues(report, 2))
    assert coop["geo_source"] == "gazetteer" and round(coop["lat"], 1) == 45.7


def test_country_taken_from_coordinates_when_missing(db, tmp_path):
    path = tmp_path / "nocountry.csv"
    path.write_text("name,city,lat,lon\nCoop,Poznań,52.40,16.92\n")
    report = run(db, path)
    assert org(db, "Coop")["country"] == "PL"
    assert any("country set to PL" in m for m in issues(report, 2))


def test_dry_run_reports_the_same_and_writes_nothing(db):
    dry = run(db, FIXTURES / "french_excel.csv", dry_run=True)
    assert catalogue.organisation_count(db) == 0
    real = run(db, FIXTURES / "french_excel.csv")
    assert dry.counts == real.counts and dry.dry_run and "DRY RUN" in dry.summary()


@pytest.mark.parametrize("exception", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failure_mid_import_leaves_the_catalogue_as_it_was(db, monkeypatch, exception):
    make_org(db, "Already here")
    original = catalogue.bulk_insert

    def crash_after_writing(*args, **kwargs):
        original(*args, **kwargs)  # rows, indexes and dropped triggers all written…
        raise exception  # …then the import dies

    monkeypatch.setattr(catalogue, "bulk_insert", crash_after_writing)
    with pytest.raises(type(exception)):
        run(db, FIXTURES / "french_excel.csv")
    assert [o["name"] for o in catalogue.duplicate_candidates(db)] == ["Already here"]
    assert db.execute("SELECT count(*) FROM organisations_fts").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == 1
    # The indexing triggers are back: a later write is indexed as usual.
    make_org(db, "Written later", city="Gent", country="BE", lat=51.05, lon=3.72)
    assert [o["name"] for o in catalogue.find_organisations(db, Filters(q="later"))] == ["Written later"]
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == 2


def test_bulk_import_fills_the_search_and_spatial_indexes(db):
    run(db, FIXTURES / "french_excel.csv", status="published")
    assert [o["name"] for o in catalogue.find_organisations(db, Filters(q="bruxelloise"))] == ["La Ruche Bruxelloise"]
    located = db.execute("SELECT count(*) FROM organisations WHERE lat IS NOT NULL").fetchone()[0]
    assert db.execute("SELECT count(*) FROM organisations_rtree").fetchone()[0] == located == 4


def test_manual_pin_is_kept_by_a_reimport(db):
    run(db, FIXTURES / "osm_keys.csv")
    gent = org(db, "Fietsatelier Gent")
    catalogue.set_location(db, gent["id"], 51.06, 3.72, "manual", "staff")
    report = run(db, FIXTURES / "osm_keys.csv")
    gent = org(db, "Fietsatelier Gent")
    assert (gent["lat"], gent["lon"], gent["geo_precision"]) == (51.06, 3.72, "manual")
    assert report.counts["updated"] == 0


def test_likely_duplicates_are_reported(db, tmp_path):
    make_org(db, "Fietsatelier Gent", lat=51.051, lon=3.718, country="BE", city="Gent")
    make_org(db, "Another name", website="https://coop-bo.example.it", source_ref="x")
    report = run(db, FIXTURES / "osm_keys.csv")
    reasons = {name: why for _, name, _, why in report.duplicates}
    assert reasons["Fietsatelier Gent"].startswith("same name")
    assert reasons["Cooperativa Bolognese"] == "same website"


def test_report_csv_is_formula_safe(db, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text('name,city,country,website\n"=HYPERLINK(""http://evil.example"")",Lyon,FR,\n'
                    '@SUM(1+1),-2+3,+X,javascript:alert(1)\n')  # a row with problems too: lines of its own
    report = run(db, path)
    out = tmp_path / "report.csv"
    report.write_csv(out)
    with out.open(encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert [line["name"] for line in lines if line["action"]] == ["'=HYPERLINK(\"http://evil.example\")", "'@SUM(1+1)"]
    assert any(line["name"] == "'@SUM(1+1)" and line["level"] for line in lines)  # a problem's line names it too
    assert not [cell for line in lines for cell in line.values() if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # the catalogue stores the text as it was; it is only neutralised in CSV
    assert org(db, '=HYPERLINK("http://evil.example")')


def test_the_three_kinds_of_descriptions(db, tmp_path):
    path = tmp_path / "desc.csv"
    path.write_text("name,Description,Description (FR),description_pl\nCoop,In English,En français,Po polsku\n")
    run(db, path)
    coop = org(db, "Coop")
    assert coop["description"] == "In English"
    assert coop["descriptions"] == {"fr": "En français", "pl": "Po polsku"}


def test_summary_groups_the_same_problem(db, tmp_path):
    path = tmp_path / "many.csv"
    rows = "\n".join(f"Coop {i},Lyon,FR,Cuisine" for i in range(10))
    path.write_text("name,city,country,themes\n" + rows + "\n")
    summary = run(db, path).summary()
    assert "10 rows (2-11)" in summary and summary.count("Cuisine") == 1


def test_geojson_properties_with_nested_values(db, tmp_path):
    path = tmp_path / "nested.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [4.35, 50.85]},
        "properties": {"name": "Coop", "country": "BE", "tags": ["a", "b"]}}]}))
    report = run(db, path)
    assert report.counts["created"] == 1


def test_a_closing_total_row_is_skipped_and_reported(db, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("Nom,Ville,Pays,Adhérents\nCoop Alpha,Lyon,FR,12\nTotal Lyon Coop,Lyon,FR,3\n"
                    "Totaux,,,15\nSomme,,,15\n", encoding="utf-8")
    report = run(db, path)
    assert report.counts["created"] == 2  # "Total Lyon Coop" has a place: an organisation
    skipped = [i.message for i in report.issues if "total row" in i.message]
    assert len(skipped) == 2 and {r.name for r in report.rows if r.action == "skipped"} == {"Totaux", "Somme"}


def test_a_geojson_point_written_lat_lon_lands_in_riga_not_in_oman(db, tmp_path):
    import json

    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [56.9496, 24.1052]},  # [lat, lon]
                 "properties": {"name": "Rīgas kooperatīvs", "city": "Rīga", "country": country}}
                for country in ("Latvija", None)]
    features[1]["properties"]["name"] = "Kooperatīvs bez valsts"
    path = tmp_path / "riga.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    report = run(db, path)
    assert report.counts["created"] == 2
    for org in catalogue.find_organisations(db, Filters(), statuses=("draft",)):
        assert org["country"] == "LV" and round(org["lat"], 2) == 56.95 and round(org["lon"], 2) == 24.11
    assert sum("swapped" in i.message for i in report.issues) == 2
