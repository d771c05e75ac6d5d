"""Bulk status changes from the staff list ask first (how many, what changes), change only
the statuses they concern, and are one line of "Latest changes", undone as a whole."""

from __future__ import annotations

from support import csrf_from, make_org, sign_in, sign_in_browser

from mapapp import accounts, catalogue, create_app
from mapapp.filters import Filters

HOSTILE = "<script>alert(1)</script> {{7*7}} =1+1"


def status_of(db, saved) -> str:
    return catalogue.organisation_by_id(db, saved.id)["status"]


def test_unpublish_all_asks_first_keeps_archived_ones_and_is_undone_as_a_whole(app, db, staff):
    published = [make_org(db, f"Coop {n} {HOSTILE}", source_ref=str(n)) for n in range(3)]
    archived = make_org(db, "Old coop", status="archived", source_ref="old")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    listing = client.get("/admin/organisations").get_data(as_text=True)
    form = {"csrf_token": csrf_from(listing), "status": "draft", "back": "/admin/organisations"}
    asked = client.post("/admin/organisations/status?scope=matching", data=form).get_data(as_text=True)
    assert "Unpublish 3 organisations: they leave the public map." in asked
    assert "1 organisation that is archived stays archived." in asked
    assert catalogue.count_organisations(db, Filters()) == 3  # nothing changed before the confirmation
    client.post("/admin/organisations/status?scope=matching", data={**form, "confirm": "yes"})
    assert catalogue.count_organisations(db, Filters()) == 0
    assert status_of(db, archived) == "archived"  # not turned into a draft
    dashboard = client.get("/admin").get_data(as_text=True)
    assert dashboard.count("3 organisations set to draft") == 1 and "Coop 0" not in dashboard  # one row
    [entry] = [e for e in accounts.audit_entries(db) if e["action"] == "bulk-status:draft"]
    client.post(f"/admin/organisations/status/undo/{entry['id']}", data={"csrf_token": csrf_from(dashboard)})
    assert [status_of(db, p) for p in published] == ["published"] * 3 and status_of(db, archived) == "archived"
    dashboard = client.get("/admin").get_data(as_text=True)
    assert f"/admin/organisations/status/undo/{entry['id']}" not in dashboard  # undone once only
    assert "&lt;script&gt;" not in dashboard or "<script>alert" not in dashboard


def test_the_flash_says_one_organisation_in_the_singular(app, db, staff):
    draft = make_org(db, "Lone draft", status="draft")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    token = csrf_from(client.get("/admin/organisations").get_data(as_text=True))
    client.post("/admin/organisations/status", data={"csrf_token": token, "status": "published",
                                                     "id": str(draft.id), "confirm": "yes"})
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "1 organisation is now published." in page
    client.post("/admin/organisations/status?lang=pl", data={"csrf_token": token, "status": "draft",
                                                     "id": str(draft.id), "confirm": "yes"})
    assert "1 organizacja jest teraz szkicem." in client.get("/admin/organisations?lang=pl").get_data(as_text=True)


def test_a_partner_cannot_undo_a_bulk_change_reaching_outside_their_part(app, db, staff):
    french = make_org(db, "Coopérative Lyonnaise")
    italian = make_org(db, "Cooperativa Romana", city="Roma", country="IT", lat=41.9, lon=12.5)
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    token = csrf_from(admin.get("/admin/organisations").get_data(as_text=True))
    admin.post("/admin/organisations/status?scope=matching", data={"csrf_token": token, "status": "draft",
                                                                   "confirm": "yes"})
    [entry] = [e for e in accounts.audit_entries(db) if e["action"] == "bulk-status:draft"]
    accounts.set_moderation_scope(db, staff["editor"].id, "IT", "")
    db.conn.commit()
    partner = app.test_client()
    sign_in(partner, "editor@example.org")
    token = csrf_from(partner.get("/admin/organisations").get_data(as_text=True))
    refused = partner.post(f"/admin/organisations/status/undo/{entry['id']}", data={"csrf_token": token})
    assert refused.status_code == 403
    assert status_of(db, french) == "draft" and status_of(db, italian) == "draft"


def test_bulk_unpublish_confirm_and_undo_in_the_browser(db_path, db, staff, browser, live_server_for, tmp_path):
    for n in range(4):
        make_org(db, f"Coop {n} {HOSTILE}", source_ref=str(n))
    archived = make_org(db, "Old coop", status="archived", source_ref="old")
    db.conn.commit()
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors = []
    try:
        with live_server_for(app) as server:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            sign_in_browser(page, server.url + "/admin/organisations", "editor@example.org")
            page.get_by_role("button", name="Unpublish all").click()
            question = page.locator("#bulk-question").inner_text()
            assert "Unpublish 4 organisations: they leave the public map." in question
            assert "1 organisation that is archived stays archived." in page.locator("#bulk-kept").inner_text()
            page.screenshot(path=tmp_path / "bulk-confirm.png", full_page=True)
            assert catalogue.count_organisations(db, Filters()) == 4
            page.get_by_role("button", name="Yes, change them").click()
            page.get_by_text("4 organisations are now drafts.").wait_for()
            assert catalogue.count_organisations(db, Filters()) == 0 and status_of(db, archived) == "archived"
            page.goto(server.url + "/admin")
            row = page.locator("tr", has_text="4 organisations set to draft")
            assert row.count() == 1
            row.get_by_role("button", name="Undo").click()
            page.get_by_text("Undone: 4 organisations have their previous status again.").wait_for()
            page.screenshot(path=tmp_path / "bulk-undone.png", full_page=True)
            assert catalogue.count_organisations(db, Filters()) == 4 and status_of(db, archived) == "archived"
    finally:
        context.close()
    assert not errors
