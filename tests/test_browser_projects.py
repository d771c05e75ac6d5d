"""A project run from start to finish in Chromium, in French: created, two partners picked
with the search box, a relation changed on an organisation's page, three organisations added
in bulk as participants, archived, deleted after the warning and brought back by Undo."""

from __future__ import annotations

from support import make_org, sign_in_browser

from mapapp import create_app
from mapapp.catalogue import projects as store

HOSTILE = "<script>alert(1)</script> {{7*7}}"


def test_a_project_from_creation_to_undone_deletion(db_path, db, staff, browser, live_server_for, tmp_path):
    alpha = make_org(db, "Coopérative Alpha", city="Lyon", country="FR")
    make_org(db, "Atelier Beta", city="Liège", country="BE")
    others = [make_org(db, f"Réseau {n}", city="Namur", country="BE") for n in range(3)]
    db.conn.commit()
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors, dialogs = [], []
    try:
        with live_server_for(app) as server:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            sign_in_browser(page, server.url + "/admin/projects?lang=fr", "admin@example.org")
            page.locator(".admin-nav").get_by_role("link", name="Projets").click()  # the main menu has the public one
            page.locator("input[name=name]").fill("Ponts " + HOSTILE)
            page.locator("input[name=slug]").fill("ponts")
            page.locator("input[name=start_date]").fill("2025-01-01")
            page.get_by_role("button", name="Créer").click()
            page.get_by_text("Projet créé").wait_for()
            assert page.locator("h1").inner_text() == "Ponts " + HOSTILE  # as typed, not as markup

            for typed, name, role in (("alph", "Coopérative Alpha", "coordinator"), ("liè", "Atelier Beta", "partner")):
                page.wait_for_load_state()  # the search box's script runs once the page has loaded
                page.locator("#member-search").fill(typed)
                page.locator("#member-results button", has_text=name).click()
                assert name in page.locator("#member-chosen").inner_text()
                page.locator("#add-member select[name=relation]").select_option("partner")
                page.locator("#add-member select[name=role]").select_option(role)
                page.get_by_role("button", name="Ajouter", exact=True).click()
                page.locator("#project-members", has_text=name).wait_for()
            page.screenshot(path=tmp_path / "project-edit.png", full_page=True)
            project_id = store.get_project(db, "ponts")["id"]
            assert {m["name"]: (m["relation"], m["role"]) for m in store.members(db, project_id)} == {
                "Coopérative Alpha": ("partner", "coordinator"), "Atelier Beta": ("partner", "partner")}

            page.goto(f"{server.url}/admin/organisations/{alpha.id}/edit?lang=fr")
            page.locator("select[name='project_relation:ponts']").select_option("visited")
            page.get_by_role("button", name="Enregistrer").first.click()
            page.get_by_text("Enregistré.").wait_for()
            assert store.membership(db, project_id, alpha.id) == {"relation": "visited", "role": None}

            page.goto(server.url + "/admin/organisations?lang=fr&q=R%C3%A9seau")
            for org in others:
                page.locator(f"input[name=id][value='{org.id}']").check()
            page.locator("select[name=bulk_project]").select_option("ponts")
            page.locator("select[name=bulk_relation]").select_option("participant")
            page.get_by_role("button", name="Ajouter au projet comme…").click()
            page.get_by_text("3 rejoignent le projet.").wait_for()
            page.screenshot(path=tmp_path / "project-bulk.png", full_page=True)
            page.get_by_role("button", name="Les ajouter").click()
            page.get_by_text("3 organisations ont rejoint").wait_for()
            assert len(store.members(db, project_id)) == 5

            page.get_by_role("button", name="Archiver", exact=True).click()
            page.get_by_text("Archivé :").wait_for()
            page.goto(server.url + "/projects/ponts?lang=fr")
            page.get_by_text("Ce projet est archivé").wait_for()

            page.goto(server.url + "/admin/projects/ponts?lang=fr")
            page.get_by_role("link", name="Supprimer le projet…").click()
            page.get_by_text("Ses 5 adhésions et 0 visites partent avec lui.").wait_for()
            page.screenshot(path=tmp_path / "project-delete.png", full_page=True)
            page.get_by_role("button", name="Supprimer").click()
            page.get_by_text("supprimé. Annuler le rétablit").wait_for()
            assert store.get_project(db, "ponts") is None
            page.get_by_role("button", name="Annuler").click()
            page.get_by_text("rétabli avec ses membres").wait_for()
            back = store.get_project(db, "ponts")
            assert back["archived"] and len(store.members(db, back["id"])) == 5
            assert store.membership(db, back["id"], alpha.id) == {"relation": "visited", "role": None}
            page.screenshot(path=tmp_path / "project-restored.png", full_page=True)
    finally:
        context.close()
    assert errors == [] and dialogs == []
