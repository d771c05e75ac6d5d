"""The staff area: accounts, roles on every route, CSRF, throttling, publishing."""


from support import PASSWORD, csrf_from, make_org, sign_in

from mapapp import accounts, catalogue
from mapapp.filters import Filters


def test_every_admin_route_requires_a_signed_in_user_with_the_right_role(app, staff):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 8
    urls = app.url_map.bind("localhost")
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        assert roles, f"{rule.rule} has no role check"
        path = urls.build(rule.endpoint, {arg: 1 for arg in rule.arguments})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            anonymous = app.test_client().open(path, method=method)
            if method == "GET":  # sent to sign in, then back
                assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
            else:  # refused (no CSRF token, no session)
                assert anonymous.status_code in (400, 401, 403), rule.rule
    editor = app.test_client()
    sign_in(editor, "editor@example.org")
    assert editor.get("/admin/users").status_code == 403
    assert editor.get("/admin").status_code == 200
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    assert admin.get("/admin/users").status_code == 200


def test_forms_without_a_csrf_token_are_refused(app, db, staff):
    saved = make_org(db, "Draft one", status="draft")
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 400
    sign_in(client, "admin@example.org")
    refused = client.post("/admin/organisations/status", data={"status": "published", "id": saved.id})
    assert refused.status_code == 400
    assert catalogue.get_organisation(db, saved.slug) is None  # still a draft


def test_publishing_from_the_list_shows_on_the_map_and_is_audited(app, db, staff):
    drafts = [make_org(db, f"Draft {i}", status="draft", source_ref=str(i)) for i in range(3)]
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get("/admin/organisations?status=draft").get_data(as_text=True)
    assert all(f"Draft {i}" in page for i in range(3))
    form = {"csrf_token": csrf_from(page), "status": "published", "id": [drafts[0].id, drafts[1].id]}
    asked = client.post("/admin/organisations/status", data=form).get_data(as_text=True)
    assert "Publish 2 organisations: they appear on the public map." in asked
    assert catalogue.count_organisations(db, Filters()) == 0  # asked first, nothing changed
    response = client.post("/admin/organisations/status", data={**form, "confirm": "yes"})
    assert response.status_code == 302
    assert catalogue.count_organisations(db, Filters()) == 2
    assert client.get("/api/clusters?bbox=-180,-90,180,90&zoom=3").get_json()["total"] == 2
    [entry] = accounts.audit_entries(db)  # one entry for the whole change
    assert (entry["user_email"], entry["action"]) == ("editor@example.org", "bulk-status:published")
    assert entry["before"]["statuses"] == {str(drafts[0].id): "draft", str(drafts[1].id): "draft"}


def test_sign_in_is_slowed_down_after_failures(db, staff):
    results = [accounts.authenticate(db, "admin@example.org", "wrong", "10.0.0.1", now=1000.0) for _ in range(4)]
    assert all(user is None for user, _ in results)
    user, wait = accounts.authenticate(db, "admin@example.org", PASSWORD, "10.0.0.1", now=1000.5)
    assert user is None and wait > 0  # even the right password waits
    user, wait = accounts.authenticate(db, "admin@example.org", PASSWORD, "10.0.0.9", now=1100.0)
    assert user is not None and wait == 0
    # another address guessing other accounts is slowed down too
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        accounts.authenticate(db, email, "x", "10.0.0.7", now=2000.0)
    assert accounts.authenticate(db, "editor@example.org", PASSWORD, "10.0.0.7", now=2000.1)[1] > 0


def test_login_page_answers_429_when_throttled(app, staff):
    client = app.test_client()
    for _ in range(3):
        sign_in(client, "admin@example.org", "wrong password")
    response = sign_in(client, "admin@example.org", "wrong password")
    assert response.status_code == 429 and "Too many failed attempts" in response.get_data(as_text=True)


def test_next_only_redirects_within_the_site(app, staff):
    for target, expected in (("/admin/organisations", "/admin/organisations"),
                             ("https://evil.example/", "/admin"), ("//evil.example/", "/admin"),
                             ("/\\\\evil.example", "/admin")):
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(f"/login?next={target}", data={
            "email": "admin@example.org", "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == expected, target


def test_session_cookie_flags(app, staff):
    client = app.test_client()
    response = sign_in(client, "admin@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    token = csrf_from(secure.get("/login", base_url="https://localhost").get_data(as_text=True))
    response = secure.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                           data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": token})
    assert "Secure" in response.headers["Set-Cookie"]


def test_admins_manage_users_but_not_their_own_rights(app, db, staff):
    client = app.test_client()
    sign_in(client, "admin@example.org")
    page = client.get("/admin/users").get_data(as_text=True)
    created = client.post("/admin/users", data={"csrf_token": csrf_from(page), "action": "create",
                                                "email": "new@example.org", "role": "editor"})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "shown only now" in text
    assert accounts.find_user(db, email="new@example.org").role == "editor"
    refused = client.post("/admin/users", data={"csrf_token": csrf_from(page), "action": "deactivate",
                                                "user_id": staff["admin"].id})
    assert refused.status_code == 400 and accounts.find_user(db, email="admin@example.org").active


def test_create_user_command(runner, db):
    result = runner.invoke(args=["create-user", "boss@example.org", "--role", "admin"])
    assert result.exit_code == 0 and "password (shown only now):" in result.output
    password = result.output.rsplit(": ", 1)[1].strip()
    assert accounts.authenticate(db, "boss@example.org", password, "127.0.0.1")[0].is_admin
    again = runner.invoke(args=["create-user", "boss@example.org"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(args=["create-user", "x@example.org", "--password"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_staff_list_filters_by_public_filters_precision_and_source(app, db, staff):
    make_org(db, "Lyon draft", status="draft", themes=["AM40"], geo_precision="manual", source="crm")
    make_org(db, "Gent published", country="BE", city="Gent", source_ref="g")
    client = app.test_client()
    sign_in(client, "editor@example.org")

    def names(query):
        page = client.get(f"/admin/organisations?{query}").get_data(as_text=True)
        return sorted(n for n in ("Lyon draft", "Gent published") if n in page)

    assert names("") == ["Gent published", "Lyon draft"]
    assert names("country=BE") == ["Gent published"]
    assert names("theme=AM40") == ["Lyon draft"]
    assert names("precision=manual") == ["Lyon draft"]
    assert names("source=crm") == ["Lyon draft"]
    assert names("status=published") == ["Gent published"]


def test_staff_dates_are_in_their_language_and_time_zone_and_the_history_names_the_organisation(app, db, staff):

    org = make_org(db, "Dated coop", status="draft")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    page = client.get("/admin/organisations").get_data(as_text=True)
    client.post("/admin/organisations/status", data={"csrf_token": csrf_from(page), "status": "published",
                                                     "id": str(org.id), "confirm": "yes"})
    db.execute("UPDATE audit_log SET at = '2026-12-02T07:18:45+00:00'")
    client.set_cookie("tz", "Asia/Nicosia")
    dashboard = client.get("/admin?lang=fr").get_data(as_text=True)
    assert "2 déc. 2026, 09:18:45" in dashboard  # UTC+2 in Nicosia, French month
    assert "statut changé en publiée" in dashboard and ">Dated coop</a>" in dashboard
    client.set_cookie("tz", "Not/AZone")  # nonsense from a browser: the setting's zone (Brussels)
    assert "Dec 2, 2026, 8:18:45" in client.get("/admin?lang=en").get_data(as_text=True)


def test_an_edit_in_the_history_says_which_fields_changed(app, db, staff):
    from mapapp import accounts

    before = {"values": {"name": "A", "street": "1 rue", "city": "Lyon"}, "related": {"themes": ["AM10"]}}
    after = {"values": {"name": "A", "street": "2 rue", "city": "Lyon"}, "related": {"themes": ["AM20"]}}
    assert accounts.changed_fields(before, after) == ["street", "themes"]
    with app.test_request_context("/?lang=it"):
        from mapapp.web.mapcontext import audit_text

        app.preprocess_request()
        text = audit_text({"action": "edit", "before": before, "after": after})
    assert text == "modificato: via, temi"


def test_an_editors_scope_is_picked_from_lists_of_countries_and_projects_by_name(app, db, staff):
    from mapapp.catalogue import projects as project_store

    project_store.create_project(db, "ponts", "Ponts <b>{{7*7}}</b>")
    db.conn.commit()
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    page = admin.get("/admin/users?lang=fr").get_data(as_text=True)
    form = page.split('name="countries"')[1].split("</select>")[0]
    assert ">Italie</option>" in form and ">Pérou</option>" in form  # every country, not only those in use
    assert form.index("Égypte") < form.index("Espagne")  # by name, in the staff member's alphabet
    projects = page.split('name="projects"')[1].split("</select>")[0]
    assert "Ponts &lt;b&gt;{{7*7}}&lt;/b&gt;" in projects
    admin.post("/admin/users", data={"csrf_token": csrf_from(page), "action": "scope", "user_id": staff["editor"].id,
                                     "countries": ["IT", "CY"], "projects": ["ponts"]})
    scope = accounts.scope_of(db, staff["editor"])
    assert (scope.countries, scope.projects) == (("IT", "CY"), ("ponts",))
    page = admin.get("/admin/users").get_data(as_text=True)
    chosen = page.split('name="countries"')[1].split("</select>")[0]
    assert 'value="IT" selected' in chosen and 'value="CY" selected' in chosen and 'value="FR" selected' not in chosen
    assert 'value="ponts" selected' in page
