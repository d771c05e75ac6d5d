"""Projects run by staff (/admin/projects): created, edited in every language, members picked
by the staff search with their relation and role, archived, deleted after asking and brought
back by Undo; partner editors kept to their part; hostile text shown as text."""

from __future__ import annotations

import json

from support import csrf_from, form_fields, make_org, shows_49, sign_in

from mapapp import accounts
from mapapp.catalogue import audit
from mapapp.catalogue import projects as store

HOSTILE = "{{7*7}} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> javascript:alert(1) =1+1 \ufffe"


def _token(client, url="/admin/projects"):
    return csrf_from(client.get(url).get_data(as_text=True))


def _create(client, name="Coop Bridges", slug="coop-bridges", **extra):
    return client.post("/admin/projects", data={"csrf_token": _token(client), "name": name, "slug": slug, **extra})


def _save(client, slug, **changes):
    page = client.get(f"/admin/projects/{slug}").get_data(as_text=True)
    fields = {k: v for k, v in form_fields(page).items() if not isinstance(v, list)}
    fields.update(action="save", **changes)
    return client.post(f"/admin/projects/{slug}", data=fields)


def test_search_json_finds_organisations_for_staff_only(client, db, staff):
    make_org(db, "Atelier Lumière", city="Lyon", country="FR", status="draft")
    for n in range(25):
        make_org(db, f"Atelier {n}", city="Paris")
    assert client.get("/admin/organisations/search.json?q=atelier").status_code in (302, 401)
    sign_in(client, "editor@example.org")
    found = client.get("/admin/organisations/search.json?q=lumi").get_json()["organisations"]
    assert [(o["name"], o["city"], o["country"], o["status"]) for o in found] == [("Atelier Lumière", "Lyon", "FR", "draft")]
    assert len(client.get("/admin/organisations/search.json?q=atelier").get_json()["organisations"]) == 20
    assert client.get("/admin/organisations/search.json?q=%25").get_json()["organisations"] == []


def test_create_edit_members_and_clear_errors(client, db, staff):
    one = make_org(db, "Alpha Coop", country="FR")
    two = make_org(db, "Beta Coop", country="BE")
    sign_in(client, "admin@example.org")
    assert _create(client).status_code == 302
    answer = _save(client, "coop-bridges", start_date="2025-05-01", end_date="2025-01-01")
    assert answer.status_code == 400
    assert "before it starts" in answer.get_data(as_text=True)
    answer = _save(client, "coop-bridges", link_website="javascript:alert(1)")
    assert answer.status_code == 400 and "http(s)" in answer.get_data(as_text=True)
    assert _save(client, "coop-bridges", start_date="2025-01-01", end_date="2026-06-30", name_fr="Ponts coopératifs",
                 description_fr="Un projet", funding_fr="Financé par Erasmus+",
                 link_website="https://bridges.example.org").status_code == 302
    project = store.get_project(db, "coop-bridges")
    assert project["names"] == {"fr": "Ponts coopératifs"} and project["funding"] == {"fr": "Financé par Erasmus+"}
    assert project["links"] == {"website": "https://bridges.example.org"} and project["end_date"] == "2026-06-30"
    token = _token(client, "/admin/projects/coop-bridges")
    client.post("/admin/projects/coop-bridges", data={"csrf_token": token, "action": "add", "organisation_id": one.id,
                                                       "relation": "partner", "role": "coordinator"})
    client.post("/admin/projects/coop-bridges", data={"csrf_token": token, "action": "add", "organisation_id": two.id,
                                                       "relation": "partner", "role": "partner"})
    page = client.get("/admin/projects/coop-bridges").get_data(as_text=True)
    assert "Alpha Coop" in page and "Beta Coop" in page
    assert [(m["name"], m["relation"], m["role"]) for m in store.members(db, project["id"])] == [
        ("Beta Coop", "partner", "partner"), ("Alpha Coop", "partner", "coordinator")]
    client.post("/admin/projects/coop-bridges", data={"csrf_token": token, "action": "member", "organisation_id": two.id,
                                                       "relation": "visited", "role": "partner"})
    assert store.membership(db, project["id"], two.id) == {"relation": "visited", "role": None}


def test_archive_hides_from_list_flag_and_delete_asks_then_undo_restores(client, db, staff):
    org = make_org(db, "Alpha Coop")
    sign_in(client, "admin@example.org")
    _create(client)
    project = store.get_project(db, "coop-bridges")
    store.add_member(db, "coop-bridges", org.id, "participant")
    db.execute("INSERT INTO visits (slug, project_id, title, date) VALUES ('lyon-2025', ?, 'Lyon', '2025-03-01')",
               [project["id"]])
    db.execute("INSERT INTO visit_organisations (visit_id, organisation_id, role) SELECT id, ?, 'host' FROM visits",
               [org.id])
    db.conn.commit()
    token = _token(client, "/admin/projects/coop-bridges")
    client.post("/admin/projects/coop-bridges", data={"csrf_token": token, "action": "archive"})
    assert [p["slug"] for p in store.list_projects(db, include_archived=False)] == []
    assert "archived" in client.get("/admin/projects/coop-bridges").get_data(as_text=True)

    ask = client.get("/admin/projects/coop-bridges/delete").get_data(as_text=True)
    assert "1 memberships and 1 visits" in ask
    assert store.get_project(db, "coop-bridges") is not None  # asking deletes nothing
    client.post("/admin/projects/coop-bridges/delete", data={"csrf_token": csrf_from(ask), "confirm": "yes"})
    assert store.get_project(db, "coop-bridges") is None
    assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    listing = client.get("/admin/projects").get_data(as_text=True)
    entry = audit.entries(db, action_prefix="project-delete:")[0]
    assert f"/admin/projects/undo/{entry['id']}" in listing
    client.post(f"/admin/projects/undo/{entry['id']}", data={"csrf_token": csrf_from(listing)})
    back = store.get_project(db, "coop-bridges")
    assert back == project | {"archived": True}
    assert store.membership(db, back["id"], org.id) == {"relation": "participant", "role": None}
    assert db.execute("SELECT v.slug, vo.role FROM visits v JOIN visit_organisations vo ON vo.visit_id = v.id").fetchall() == [
        ("lyon-2025", "host")]
    assert f"/admin/projects/undo/{entry['id']}" not in client.get("/admin/projects").get_data(as_text=True)


def test_hostile_text_is_inert_in_the_admin(client, db, staff):
    make_org(db, HOSTILE)
    sign_in(client, "admin@example.org")
    _create(client, name=HOSTILE, slug="hostile")
    _save(client, "hostile", name_fr=HOSTILE, description_fr=HOSTILE, funding_fr=HOSTILE)
    org_id = db.execute("SELECT id FROM organisations").fetchone()[0]
    store.add_member(db, "hostile", org_id, "partner", "coordinator")
    db.conn.commit()
    stored = store.get_project(db, "hostile")
    assert "\ufffe" not in stored["names"]["fr"] and "\ufffe" not in stored["descriptions"]["fr"]
    _save(client, "hostile", name_fr="Un\r\nDeux", description_fr="Un\r\nDeux")
    stored = store.get_project(db, "hostile")
    assert stored["names"]["fr"] == "Un Deux" and stored["descriptions"]["fr"] == "Un\nDeux"
    _save(client, "hostile", name_fr=HOSTILE, description_fr=HOSTILE)
    for url in ("/admin/projects", "/admin/projects/hostile", "/admin/projects/hostile/delete", "/projects/hostile?lang=fr"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert not shows_49(page)  # nothing evaluated {{7*7}}
    found = client.get("/admin/organisations/search.json?q=script").get_json()["organisations"]
    assert found[0]["name"] == HOSTILE  # JSON: the page's script puts it in with textContent


def test_partner_editors(client, db, staff):
    org = make_org(db, "Alpha Coop", country="FR")
    other = make_org(db, "Gamma Coop", country="PL")
    store.create_project(db, "ours", "Ours")
    store.create_project(db, "theirs", "Theirs")
    store.add_member(db, "ours", org.id, "partner")
    db.conn.commit()
    countries, _ = accounts.create_user(db, "fr@example.org", "correct horse battery", "editor")
    accounts.set_moderation_scope(db, countries.id, "FR", "")
    projects, _ = accounts.create_user(db, "ours@example.org", "correct horse battery", "editor")
    accounts.set_moderation_scope(db, projects.id, "", "ours")
    db.conn.commit()

    sign_in(client, "fr@example.org", "correct horse battery")
    assert client.get("/admin/projects").status_code == 403
    assert client.get("/admin/projects/ours").status_code == 403
    client.post("/logout", data={"csrf_token": _token(client, "/admin")})

    sign_in(client, "ours@example.org", "correct horse battery")
    listing = client.get("/admin/projects")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "Ours" in text and "Theirs" not in text and 'name="slug"' not in text
    assert client.get("/admin/projects/theirs").status_code == 403
    assert client.post("/admin/projects", data={"csrf_token": csrf_from(text), "name": "New"}).status_code == 403
    assert client.get("/admin/projects/ours/delete").status_code == 403
    assert _save(client, "ours", name_fr="Les nôtres").status_code == 302
    assert store.get_project(db, "ours")["names"] == {"fr": "Les nôtres"}
    token = _token(client, "/admin/projects/ours")
    answer = client.post("/admin/projects/ours", data={"csrf_token": token, "action": "add", "organisation_id": other.id,
                                                       "relation": "participant"})
    assert answer.status_code == 403
    assert store.membership(db, store.get_project(db, "ours")["id"], other.id) is None
    assert json.loads(client.get("/admin/organisations/search.json?q=coop").get_data())["organisations"][0]["name"] == "Alpha Coop"


def test_bulk_add_asks_first_is_one_entry_and_undone_at_once(client, db, staff):
    orgs = [make_org(db, f"Coop {n}") for n in range(4)]
    store.create_project(db, "bridges", "Bridges")
    store.add_member(db, "bridges", orgs[0].id, "partner", "coordinator")
    store.add_member(db, "bridges", orgs[1].id, "participant")
    db.conn.commit()
    sign_in(client, "editor@example.org")
    listing = client.get("/admin/organisations").get_data(as_text=True)
    assert 'name="bulk_project"' in listing
    data = {"csrf_token": csrf_from(listing), "bulk_project": "bridges", "bulk_relation": "participant",
            "id": [o.id for o in orgs[:4]]}
    ask = client.post("/admin/projects/bulk-add", data=data).get_data(as_text=True)
    assert "Add 4 organisations to Bridges as participant?" in ask
    assert "2 join the project." in ask and "1 is a member already and changes relation." in ask and "1 stays as it is." in ask
    project_id = store.get_project(db, "bridges")["id"]
    assert len(store.members(db, project_id)) == 2  # asking changes nothing
    client.post("/admin/projects/bulk-add", data={**data, "confirm": "yes"})
    assert {m["name"]: m["relation"] for m in store.members(db, project_id)} == {f"Coop {n}": "participant" for n in range(4)}
    assert audit.count(db, "project-bulk:") == 1
    page = client.get("/admin/projects/bridges").get_data(as_text=True)
    entry = audit.entries(db, action_prefix="project-bulk:")[0]
    client.post(f"/admin/projects/bulk-undo/{entry['id']}", data={"csrf_token": csrf_from(page)})
    assert {m["name"]: (m["relation"], m["role"]) for m in store.members(db, project_id)} == {
        "Coop 0": ("partner", "coordinator"), "Coop 1": ("participant", None)}


def test_relation_per_project_on_the_organisation_page_and_its_undo(client, db, staff):
    org = make_org(db, "Alpha Coop")
    store.create_project(db, "bridges", "Bridges")
    store.add_member(db, "bridges", org.id, "partner", "coordinator")
    store.create_project(db, "old", "Old one", archived=True)
    db.conn.commit()
    sign_in(client, "admin@example.org")
    page = client.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    fields = {k: v for k, v in form_fields(page).items()}
    assert fields["project_relation:bridges"] == "partner" and fields["project_relation:old"] == ""
    fields.update({"project_relation:old": "visited", "action": "save"})
    client.post(f"/admin/organisations/{org.id}/edit", data=fields)
    old_id, bridges_id = store.get_project(db, "old")["id"], store.get_project(db, "bridges")["id"]
    assert store.membership(db, old_id, org.id) == {"relation": "visited", "role": None}
    assert store.membership(db, bridges_id, org.id) == {"relation": "partner", "role": "coordinator"}
    entry = audit.entries(db, organisation_id=org.id, action="edit")[0]
    page = client.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    client.post(f"/audit/{entry['id']}/undo".replace("/audit", "/admin/audit"), data={"csrf_token": csrf_from(page)})
    assert store.membership(db, old_id, org.id) is None
    assert store.membership(db, bridges_id, org.id) == {"relation": "partner", "role": "coordinator"}


def test_public_page_of_an_archived_project_says_so_and_shows_texts_inert(client, db, staff):
    store.create_project(db, "bridges", "Bridges", descriptions={"fr": HOSTILE}, funding={"fr": "Erasmus+ " + HOSTILE},
                         links={"results": "https://results.example.org"})
    store.create_project(db, "current", "Current")
    db.conn.commit()
    page = client.get("/projects/bridges?lang=fr").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    assert "Erasmus+" in page and "https://results.example.org" in page
    assert "archiv" not in page.lower().split("<main", 1)[1].split("</main>")[0]
    sign_in(client, "admin@example.org")
    token = _token(client, "/admin/projects/bridges")
    client.post("/admin/projects/bridges", data={"csrf_token": token, "action": "archive"})
    client.post("/logout", data={"csrf_token": token})
    public = client.get("/projects/bridges?lang=en")
    assert public.status_code == 200 and "This project is archived" in public.get_data(as_text=True)
    map_page = client.get("/?lang=en").get_data(as_text=True)
    assert 'value="current"' in map_page and 'value="bridges"' not in map_page


def test_logo_is_cleaned_served_and_an_svg_runs_nothing(client, db, staff):
    import io
    store.create_project(db, "bridges", "Bridges")
    db.conn.commit()
    sign_in(client, "admin@example.org")
    token = _token(client, "/admin/projects/bridges")
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
           b'<script>alert(2)</script><rect width="10" height="10"/></svg>')
    client.post("/admin/projects/bridges/logo", data={"csrf_token": token, "logo": (io.BytesIO(svg), "logo.svg")},
                content_type="multipart/form-data")
    assert store.get_project(db, "bridges")["logo_file"] == "project-logo:bridges"
    served = client.get("/projects/bridges/logo")
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    assert b"alert" not in served.data and b"<rect" in served.data
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/projects/bridges/logo", headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    assert "/projects/bridges/logo" in client.get("/projects/bridges").get_data(as_text=True)
    client.post("/admin/projects/bridges/logo", data={"csrf_token": token, "logo": (io.BytesIO(b"not a picture"), "x.png")},
                content_type="multipart/form-data")
    assert client.get("/projects/bridges/logo").data == served.data  # a refused file changes nothing
    client.post("/admin/projects/bridges/logo/remove", data={"csrf_token": token})
    assert client.get("/projects/bridges/logo").status_code == 404


def test_bulk_add_keeps_partner_editors_to_their_part(client, db, staff):
    ours = make_org(db, "Alpha Coop", country="FR")
    outside = make_org(db, "Gamma Coop", country="PL")
    store.create_project(db, "ours", "Ours")
    store.add_member(db, "ours", ours.id, "partner")
    db.conn.commit()
    editor, _ = accounts.create_user(db, "ours@example.org", "correct horse battery", "editor")
    accounts.set_moderation_scope(db, editor.id, "", "ours")
    db.conn.commit()
    sign_in(client, "ours@example.org", "correct horse battery")
    token = _token(client, "/admin/projects/ours")
    answer = client.post("/admin/projects/bulk-add", data={"csrf_token": token, "bulk_project": "ours", "confirm": "yes",
                                                           "bulk_relation": "participant", "id": [ours.id, outside.id]})
    assert answer.status_code == 403
    project_id = store.get_project(db, "ours")["id"]
    assert [(m["name"], m["relation"]) for m in store.members(db, project_id)] == [("Alpha Coop", "partner")]
