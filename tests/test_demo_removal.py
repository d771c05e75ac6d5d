"""A clean start: removing the fictional demo (dashboard and command line), undoing that, and
the demo banner shown only where fictional organisations are."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import PASSWORD, csrf_from, make_org, sign_in

from mapapp import accounts, catalogue
from mapapp.importing import demo

FIXTURES = Path(__file__).parent / "fixtures"
BANNER = "Demo data: the organisations shown here are fictional."
SHOWN = 'class="fictional-banner"'  # the banner on the page (map.js may hold its text, to show it later)
DEMO_TABLES = ("organisations", "organisation_themes", "organisation_resources", "organisation_descriptions",
               "projects", "visits", "project_organisations", "visit_organisations", "organisation_owners",
               "contributions")


def everything(db) -> dict[str, list[tuple]]:
    """Every row of the tables a removal touches, to compare before and after."""
    return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in DEMO_TABLES}  # nosec B608


@pytest.fixture
def demo_and_real(db):
    """The demo, plus two real organisations: one also a member of a demo project."""
    demo.load_demo(db)
    member = make_org(db, "Real Member Coop", city="Lyon")
    make_org(db, "Forno Quintavalle", city="Bologna", country="IT", lat=44.49, lon=11.34)
    catalogue.link_organisation(db, member.id, projects=["demo-study-visits"], visits=[])
    return db


def remove_from_dashboard(client) -> None:
    page = client.get("/admin/demo/remove").get_data(as_text=True)
    response = client.post("/admin/demo/remove", data={"csrf_token": csrf_from(page), "confirm": "yes"})
    assert response.status_code == 302


def test_staff_remove_the_demo_after_a_page_that_says_what_goes(app, demo_and_real, staff, tmp_path):
    db = demo_and_real
    fictional = catalogue.find_organisations(db, catalogue.Filters(q="canuts"))[0]
    reports = tmp_path / "cache" / "reports"
    reports.mkdir(parents=True)
    (reports / "v1-made-before.pdf").write_bytes(b"%PDF-1.7 demo project report")
    client = app.test_client()
    sign_in(client, "admin@example.org")
    assert "Remove the demo data" in client.get("/admin").get_data(as_text=True)
    confirm = client.get("/admin/demo/remove").get_data(as_text=True)
    assert "80 fictional organisations will be deleted" in confirm
    assert "2 demo projects will be deleted" in confirm
    assert "7 demo visits will be deleted" in confirm
    assert "1 real organisation is a member of a demo project or visit: it stays" in confirm
    # Without the confirmation, nothing goes.
    client.post("/admin/demo/remove", data={"csrf_token": csrf_from(confirm)})
    assert client.get(f"/organisations/{fictional['slug']}").status_code == 200
    remove_from_dashboard(client)
    flashed = client.get("/admin").get_data(as_text=True)
    assert "Demo data removed: 80 organisations, 2 projects and 7 visits." in flashed
    assert "Undo the removal of the demo data" in flashed

    api = client.get("/api/organisations?limit=100").get_json()
    assert sorted(o["name"] for o in api["items"]) == ["Forno Quintavalle", "Real Member Coop"]
    assert not any(o.get("fictional") for o in api["items"])
    assert client.get(f"/organisations/{fictional['slug']}").status_code == 404
    assert client.get(f"/api/organisations/{fictional['slug']}").status_code == 404
    assert client.get("/projects/demo-study-visits").status_code == 404
    assert client.get("/projects/demo-study-visits/report.pdf").status_code == 404
    assert not list(reports.glob("*.pdf"))
    csv = client.get("/api/organisations.csv").get_data(as_text=True)
    assert "Forno Quintavalle" in csv and "Canuts" not in csv
    geojson = client.get("/api/organisations.geojson").get_json()
    assert len(geojson["features"]) == 2
    assert db.execute("SELECT count(*) FROM organisations WHERE source = 'demo'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    member = catalogue.get_organisation(db, "real-member-coop")
    assert member["name"] == "Real Member Coop" and member["projects"] == []
    assert client.get("/organisations/forno-quintavalle").status_code == 200


HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> =1+1 \r\nnext \ufffe"


def test_undo_brings_back_every_removed_row_identical(app, demo_and_real, staff):
    db = demo_and_real
    odd = make_org(db, HOSTILE, source="demo", description=HOSTILE, city=HOSTILE, themes=["AM10"],
                   needs={"funding": HOSTILE})
    db.execute("INSERT INTO contributions (kind, organisation_id, proposal, email, lang, created_at)"
               " VALUES ('correction', ?, '{}', 'someone@example.org', 'en', '2026-01-01T00:00:00+00:00')", [odd.id])
    before = everything(db)
    client = app.test_client()
    sign_in(client, "admin@example.org")
    assert client.get("/api/organisations?q=canuts").get_json()["total"] == 1  # the map's columns are read
    on_the_map = client.get("/api/facets").get_json()["total"]
    remove_from_dashboard(client)
    assert everything(db) != before
    assert client.get("/api/organisations?q=canuts").get_json()["total"] == 0
    dashboard = client.get("/admin").get_data(as_text=True)
    assert "<script>alert" not in dashboard
    removal = demo.latest_removal(db)
    response = client.post(f"/admin/demo/restore/{removal['id']}", data={"csrf_token": csrf_from(dashboard)})
    assert response.status_code == 302
    assert everything(db) == before
    dashboard = client.get("/admin").get_data(as_text=True)
    assert "Demo data restored: 81 organisations, 2 projects and 7 visits." in dashboard
    assert "Undo the removal of the demo data" not in dashboard
    assert "removal of the demo data undone" in dashboard  # in the latest changes
    assert client.get("/projects/demo-study-visits").status_code == 200
    assert client.get("/api/organisations?q=canuts").get_json()["total"] == 1  # back on the map
    assert client.get("/api/facets").get_json()["total"] == on_the_map
    # Undone once: a second undo changes nothing and says so.
    again = client.post(f"/admin/demo/restore/{removal['id']}", data={"csrf_token": csrf_from(dashboard)},
                        follow_redirects=True).get_data(as_text=True)
    assert "has been undone already" in again
    assert everything(db) == before


def test_undo_after_a_new_project_took_a_demo_projects_number(app, demo_and_real, staff):
    db = demo_and_real
    before = everything(db)
    demo.remove_demo(db, "admin@example.org")
    catalogue.save_project(db, {"slug": "real-project", "name": "Real project"})
    demo.undo_removal(db, demo.latest_removal(db)["id"], "admin@example.org")
    members = {r[0] for r in db.execute(
        "SELECT o.source FROM project_organisations po JOIN projects p ON p.id = po.project_id"
        " JOIN organisations o ON o.id = po.organisation_id WHERE p.slug = 'demo-provence-crafts'")}
    assert members == {"demo"}
    assert len(everything(db)["projects"]) == len(before["projects"]) + 1
    assert everything(db)["organisations"] == before["organisations"]


def test_the_command_line_removes_the_demo_prints_counts_and_undoes(app, runner, demo_and_real):
    db = demo_and_real
    before = everything(db)
    result = runner.invoke(args=["remove-demo", "--yes"])
    assert result.exit_code == 0, result.output
    assert "80 organisations, 2 projects, 7 visits" in result.output
    assert "1 real organisations lose their membership" in result.output
    assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] == 2
    again = runner.invoke(args=["remove-demo", "--yes"])
    assert "there is no demo data in this catalogue" in again.output
    undone = runner.invoke(args=["remove-demo", "--undo"])
    assert undone.exit_code == 0, undone.output
    assert "demo data restored: 80 organisations, 2 projects, 7 visits" in undone.output
    assert everything(db) == before
    refused = runner.invoke(args=["remove-demo"], input="n\n")
    assert refused.exit_code != 0
    assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] == 82


def test_make_run_does_not_bring_back_a_demo_removed_on_purpose(app, runner, db):
    assert "80 created" in runner.invoke(args=["load-demo", "--if-empty"]).output  # a fresh machine
    runner.invoke(args=["remove-demo", "--yes"])
    again = runner.invoke(args=["load-demo", "--if-empty"])
    assert "the demo data was removed from this catalogue; not loaded again" in again.output
    assert catalogue.organisation_count(db) == 0


def test_removing_when_there_is_no_demo_says_so(app, db, staff):
    make_org(db, "Real Coop")
    client = app.test_client()
    sign_in(client, "admin@example.org")
    assert "Remove the demo data" not in client.get("/admin").get_data(as_text=True)
    page = client.get("/admin/demo/remove").get_data(as_text=True)
    assert "There is no demo data in this catalogue: nothing to remove." in page
    answer = client.post("/admin/demo/remove", data={"csrf_token": csrf_from(page), "confirm": "yes"},
                         follow_redirects=True).get_data(as_text=True)
    assert "There is no demo data to remove." in answer
    assert catalogue.get_organisation(db, "real-coop") is not None


def test_editors_even_unlimited_ones_cannot_remove_the_demo(app, demo_and_real, staff):
    db = demo_and_real
    partner, _ = accounts.create_user(db, "partner@example.org", PASSWORD, "editor")
    accounts.set_moderation_scope(db, partner.id, "IT", "")
    for email in ("editor@example.org", "partner@example.org"):
        client = app.test_client()
        sign_in(client, email)
        dashboard = client.get("/admin").get_data(as_text=True)
        assert "Remove the demo data" not in dashboard
        assert client.get("/admin/demo/remove").status_code == 403
        assert client.post("/admin/demo/remove", data={"csrf_token": csrf_from(dashboard),
                                                       "confirm": "yes"}).status_code == 403
    assert demo.removal_preview(db)["organisations"] == 80
    demo.remove_demo(db, "admin@example.org")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    removal = demo.latest_removal(db)
    assert client.post(f"/admin/demo/restore/{removal['id']}",
                       data={"csrf_token": csrf_from(client.get("/admin").get_data(as_text=True))}).status_code == 403
    assert demo.latest_removal(db) is not None


def test_the_banner_goes_once_the_demo_is_removed_and_a_real_file_imported(app, runner, db):
    demo.load_demo(db)
    client = app.test_client()
    for page in ("/", "/organisations", "/stats"):
        assert SHOWN in client.get(page).get_data(as_text=True), page
    demo.remove_demo(db, "admin@example.org")
    result = runner.invoke(args=["import", str(FIXTURES / "ica_youth_coops.csv"), "--status", "published"])
    assert result.exit_code == 0, result.output
    assert catalogue.count_organisations(db, catalogue.Filters()) > 0
    for page in ("/", "/organisations", "/stats"):
        html = client.get(page).get_data(as_text=True)
        assert SHOWN not in html and BANNER not in html, page


def test_the_banner_follows_what_the_page_shows(app, demo_and_real):
    db = demo_and_real
    client = app.test_client()
    fictional = catalogue.find_organisations(db, catalogue.Filters(q="canuts"))[0]
    assert SHOWN in client.get("/?country=FR").get_data(as_text=True)  # demo and real together
    assert SHOWN in client.get("/organisations?country=FR").get_data(as_text=True)
    assert SHOWN not in client.get("/?q=quintavalle").get_data(as_text=True)  # real ones only
    assert SHOWN not in client.get("/organisations?q=quintavalle").get_data(as_text=True)
    assert SHOWN not in client.get("/stats?q=quintavalle").get_data(as_text=True)
    assert SHOWN in client.get("/stats").get_data(as_text=True)
    assert SHOWN not in client.get("/organisations/forno-quintavalle").get_data(as_text=True)
    assert SHOWN in client.get(f"/organisations/{fictional['slug']}").get_data(as_text=True)
    assert SHOWN in client.get("/projects/demo-study-visits").get_data(as_text=True)
    catalogue.save_project(db, {"slug": "real-network", "name": "Real network"})
    catalogue.link_organisation(db, catalogue.get_organisation(db, "forno-quintavalle")["id"], projects=["real-network"])
    assert SHOWN not in client.get("/projects/real-network").get_data(as_text=True)
