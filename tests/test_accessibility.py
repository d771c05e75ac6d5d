"""No serious or critical WCAG 2 A/AA violation (axe-core) on any public page, nor on
the staff pages people use most, with a filter panel open and a popup showing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import make_org, open_settled, published, route_tiles, sign_in_browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the current page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}})""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def axe_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    route_tiles(page)
    yield page
    context.close()


def public_pages(db_path) -> list[str]:
    org = published(db_path, country=("IT",))[0]
    return ["/", "/?country=IT&lang=fr", "/organisations", "/organisations?theme=AM60&lang=el",
            f"/organisations/{org['slug']}", f"/organisations/{org['slug']}?lang=pl", "/embed?country=BE",
            "/embed?controls=0", "/embed/builder", "/embed/builder?lang=nl", "/login", "/login/forgot?lang=el", "/organisations/nobody-here",
            "/organisations?page=999", "/contribute", "/contribute?lang=fr", f"/organisations/{org['slug']}/suggest",
            "/subscribe?country=IT&lang=it", "/contribute/sent?lang=el", "/stats", "/stats?country=FR&theme=AM40&lang=fr",
            "/projects/demo-study-visits?lang=pl", "/projects/demo-provence-crafts"]


def test_public_pages_have_no_serious_accessibility_violation(demo_app, demo_db_path, axe_page, live_server_for):
    found = {}
    with live_server_for(demo_app) as server:
        for path in public_pages(demo_db_path):
            open_settled(axe_page, server.url + path)
            problems = serious_violations(axe_page)
            if problems:
                found[path] = problems
    assert not found, found


def test_an_open_filter_panel_and_a_popup_pass_too(demo_app, demo_db_path, axe_page, live_server_for):
    org = published(demo_db_path, country=("BE",))[0]
    with live_server_for(demo_app) as server:
        axe_page.goto(f"{server.url}/?q={org['slug']}")
        axe_page.wait_for_selector("body[data-map-ready=true]")
        axe_page.locator("details summary").first.click()
        axe_page.locator(f'.leaflet-marker-icon[title="{org["name"]}"]').click()
        axe_page.wait_for_selector(".org-popup[data-loaded=true]")
        assert not serious_violations(axe_page)


def test_staff_pages_have_no_serious_accessibility_violation(app, db, staff, axe_page, live_server_for):

    org = make_org(db, "Accessible coop")
    # One correction waiting, so that the queue's table and forms are checked too.
    db.execute("INSERT INTO contributions (kind, organisation_id, proposal, email, lang, state, created_at, confirmed_at)"
               " VALUES ('correction', ?, ?, 'a@example.org', 'en', 'pending', '2026-12-01', '2026-12-01')",
               [org.id, '{"values": {"name": "Accessible coop", "city": "Villeurbanne"}, "related": {}, "notes": []}'])
    from mapapp.catalogue import syncsources

    syncsources.save_source(db, name="partners", url="https://partners.example.org/orgs.csv", fmt="csv", mapping=None,
                            project=None, status="draft")  # a source listed, with its buttons
    syncsources.record_outcome(db, "partners", {"ok": False, "message": "the source answered HTTP 404", "gone": []})
    from mapapp import pages
    from mapapp.catalogue import pages as stored_pages

    page_id = stored_pages.create_page(db, slug="privacy", kind="privacy", user_email="admin@example.org")
    stored_pages.save_text(db, page_id, "fr", **dict(zip(("title", "body_markdown"), pages.template("privacy", "fr"))),
                           user_email="admin@example.org")  # the editor, its gaps listed, and the page itself
    with live_server_for(app) as server:
        sign_in_browser(axe_page, server.url + "/login", "admin@example.org")
        found = {}
        for path in ("/admin", "/admin/organisations", f"/admin/organisations/{org.id}/edit", "/admin/imports",
                     "/admin/users", "/admin/moderation", "/admin/sources", "/admin/account", "/admin/organisations/new",
                     "/admin/pages", f"/admin/pages/{page_id}/fr",
                     "/pages/privacy?lang=pl"):
            axe_page.goto(server.url + path)
            problems = serious_violations(axe_page)
            if problems:
                found[path] = problems
    assert not found, found
