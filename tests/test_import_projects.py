"""Imports that link organisations to projects and visits: per row (the French columns
Projet, Relation, Visite, Date de visite) or for the whole file, the same from the command
line, the browser preview and a second reading process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import csrf_from, make_org, sign_in, sign_in_browser, upload

from mapapp import catalogue
from mapapp.catalogue import memberships
from mapapp.importing import importer, reading
from mapapp.mapdata import geocode

FIXTURE = Path(__file__).parent / "fixtures" / "participants_fr.csv"


@pytest.fixture
def project(db):
    project_id = catalogue.save_project(db, {"slug": "visites-2026", "name": "Study visits 2026",
                                             "names": {"fr": "Visites d'étude 2026"}})
    catalogue.save_visit(db, {"project": "visites-2026", "slug": "poznan-2026", "title": "Coopératives de Poznań",
                              "date": "2026-05-14", "city": "Poznań", "country": "PL"})
    catalogue.save_project(db, {"slug": "autre", "name": "Autre projet"})
    return project_id


def _chain(db):
    return geocode.Chain.from_config("provided,cache,gazetteer", db, user_agent="")


def _run(db, path=FIXTURE, **options):
    return importer.import_file(db, path, importer.Options(source="participants", **options), _chain(db))


def _memberships(db) -> dict[str, tuple]:
    rows = db.execute(
        "SELECT o.name, p.slug, po.relation, o.relation FROM project_organisations po"
        " JOIN organisations o ON o.id = po.organisation_id JOIN projects p ON p.id = po.project_id").fetchall()
    return {name: (slug, relation, own) for name, slug, relation, own in rows}


def _visit_roles(db) -> dict[str, str]:
    return dict(db.execute("SELECT o.name, vo.role FROM visit_organisations vo"
                           " JOIN organisations o ON o.id = vo.organisation_id").fetchall())


def test_a_french_file_links_each_row_to_its_project_relation_and_visit(db, project):
    report = _run(db)
    assert report.counts["created"] == 4 and report.counts["skipped"] == 1
    assert _memberships(db) == {
        "Coopérative du Lac": ("visites-2026", "visited", "visited"),
        "Atelier Solidaire": ("visites-2026", "participant", "participant"),  # by its French name
        "Ferme Commune": ("visites-2026", "partner", "partner"),
        "Le Relais": ("visites-2026", "other", "other"),
    }
    # by title and date, and by slug; 'visited' relation → visited in the visit
    assert _visit_roles(db) == {"Coopérative du Lac": "visited", "Atelier Solidaire": "participant"}
    text = report.summary()
    assert "linked: project visites-2026 4; relation participant 1, partner 1, visited 1; visit poznan-2026 2" in text
    # the unknown project skips its row and says which projects exist
    assert re.search(r"ERROR row 5, column 'Projet': no project 'projet-inconnu' \(by slug or name\); "
                     r"the projects are: autre, visites-2026", text), text
    # an unknown visit is reported, not created; the row keeps its project
    assert "project 'visites-2026' has no visit 'Séminaire de Gdańsk' on 2026-09-01" in text
    assert [v["slug"] for v in memberships.visits_of(db)] == ["poznan-2026"]


def test_a_dry_run_counts_the_links_and_stores_none(db, project):
    report = _run(db, dry_run=True)
    assert report.links["project"] == {"visites-2026": 4}
    assert report.links["visit"] == {"poznan-2026": 2}
    assert _memberships(db) == {} and _visit_roles(db) == {}
    assert {s["row"]: s["linked"] for s in report.samples}[2] == {
        "project": "visites-2026", "relation": "visited", "visit": "poznan-2026"}


def test_relations_are_kept_per_project_and_an_organisation_keeps_its_own(db, project):
    make_org(db, "Coopérative du Lac", relation="partner", source="participants",
             source_ref="key:cooperative du lac|lyon|FR")
    catalogue.link_organisation(db, catalogue.organisation_by_id(db, 1)["id"], projects=["autre"])
    memberships.set_membership(db, catalogue.project_id(db, "autre"), 1, "partner")
    _run(db)
    rows = db.execute("SELECT p.slug, po.relation FROM project_organisations po JOIN projects p ON p.id = po.project_id"
                      " WHERE po.organisation_id = 1 ORDER BY p.slug").fetchall()
    assert rows == [("autre", "partner"), ("visites-2026", "visited")]
    # it already had a relation of its own: the row's relation is to the project only
    assert db.execute("SELECT relation FROM organisations WHERE id = 1").fetchone()[0] == "partner"


def test_file_level_choices_link_rows_without_cells(db, project, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("Nom;Ville;Pays\nCoop A;Lyon;FR\nCoop B;Lyon;FR\n", encoding="utf-8")
    report = _run(db, path, relation="participant", visit="poznan-2026")  # the visit gives the project
    assert report.links["project"] == {"visites-2026": 2} and report.links["relation"] == {"participant": 2}
    assert _visit_roles(db) == {"Coop A": "participant", "Coop B": "participant"}
    assert _memberships(db)["Coop A"] == ("visites-2026", "participant", "participant")


@pytest.mark.parametrize(("options", "says"), [
    ({"project": "nope"}, "no project 'nope' (projects: autre, visites-2026)"),
    ({"visit": "nope"}, "no visit 'nope' (visits: poznan-2026)"),
    ({"project": "autre", "visit": "poznan-2026"}, "visit 'poznan-2026' is of project 'visites-2026', not 'autre'"),
    ({"relation": "friend"}, "--relation must be one of visited, participant, partner, other"),
])
def test_file_level_choices_that_name_nothing_import_nothing(db, project, options, says):
    with pytest.raises(importer.ImportFailed, match=re.escape(says)):
        _run(db, **options)
    assert catalogue.organisation_count(db) == 0


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_second_process_gives_the_same_report(db, project, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK_ROWS", 2)  # the rows cross the pipe in several chunks
    here = _run(db, dry_run=True, second_process=False)
    there = _run(db, dry_run=True, second_process=True)
    assert there.summary() == here.summary()
    assert there.links == here.links and there.samples == here.samples


def test_the_command_line_and_the_browser_preview_say_the_same(app, db, project, staff, runner, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    cli = runner.invoke(args=["import", str(FIXTURE), "--dry-run"])
    assert "linked: project visites-2026 4; relation participant 1, partner 1, visited 1; visit poznan-2026 2" \
        in cli.output
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, FIXTURE).headers["Location"]
    page = client.get(url + "?lang=fr").get_data(as_text=True)
    assert page.split('id="dry-run-counts"')[1].split("</ul>")[0].split("<li>")[1].startswith("4 ")  # created
    counts = page.split('id="link-counts"')[1].split("</table>")[0]
    assert re.search(r"visites-2026</td><td>4<", counts)
    assert re.search(r"Entreprise visitée</td><td>1<", counts)
    assert re.search(r"poznan-2026</td><td>2<", counts)
    samples = page.split('id="samples"')[1].split("</table>")[0]
    assert "visites-2026 (Entreprise visitée), " in samples
    assert "projet-inconnu" in page and "Séminaire de Gdańsk" in page
    # the same choices for the whole file in the browser as --relation and --visit
    plain = tmp_path / "plain.csv"
    plain.write_text("Nom;Ville;Pays\nCoop A;Lyon;FR\n", encoding="utf-8")
    url = upload(client, plain).headers["Location"]
    form = client.get(url).get_data(as_text=True)
    page = client.post(url, data={"csrf_token": csrf_from(form), "action": "preview", "link_project": "",
                                  "link_relation": "partner", "link_visit": "poznan-2026"}).get_data(as_text=True)
    counts = page.split('id="link-counts"')[1].split("</table>")[0]
    assert re.search(r"poznan-2026</td><td>1<", counts) and re.search(r"Partenaire du projet</td><td>1<", counts)
    cli = runner.invoke(args=["import", str(plain), "--dry-run", "--relation", "partner", "--visit", "poznan-2026"])
    assert "linked: project visites-2026 1; relation partner 1; visit poznan-2026 1" in cli.output


def test_cells_that_look_like_code_stay_text(app, db, project, staff, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    path = tmp_path / "attack.csv"
    path.write_text("Nom;Ville;Pays;Projet;Visite\n"
                    "Coop;Lyon;FR;<script>alert(1)</script>{{7*7}};x\n"
                    "Coop 2;Lyon;FR;visites-2026;<img src=x onerror=alert(2)>${7*7}{% raw %}\n",
                    encoding="utf-8")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = upload(client, path).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;${7*7}{% raw %}" in page
    assert "49" not in page.split('id="issues"')[1].split("</table>")[0]


def test_staff_choose_the_visit_for_the_whole_file_and_import_it(app, db, project, staff, page, live_server_for,
                                                                 tmp_path, worker_for):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    plain = tmp_path / "visitors.csv"
    plain.write_text("Nom;Ville;Pays\nCoop A;Lyon;FR\nCoop B;Grenoble;FR\n", encoding="utf-8")
    with live_server_for(app) as server, worker_for(app):
        sign_in_browser(page, server.url + "/admin/imports", "editor@example.org")
        page.set_input_files("input[name=file]", str(plain))
        page.click("text=Upload and preview")
        page.select_option("select[name=link_visit]", "poznan-2026")
        page.select_option("select[name=link_relation]", "participant")
        page.click("#links button")
        assert page.locator("#link-counts").inner_text().split("\n") == [
            "Linked to\tRows", "project visites-2026\t2", "Participant organisation\t2", "visit poznan-2026\t2"]
        assert "visites-2026 (Participant organisation), visit poznan-2026" in page.locator("#samples").inner_text()
        page.click("text=Import now")
        page.wait_for_selector("text=done", timeout=20_000)
    assert _visit_roles(db) == {"Coop A": "participant", "Coop B": "participant"}
    assert _memberships(db)["Coop B"] == ("visites-2026", "participant", "participant")
