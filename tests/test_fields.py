"""The network's own fields (#28): staff define them at /admin/fields, values are checked by
one set of rules, and they show on pages and in exports (staff-only ones never publicly)."""

from __future__ import annotations

import pytest
from support import csrf_from, make_org, sign_in

from mapapp import fields as rules
from mapapp.catalogue import fields as store

HOSTILE = "{{7*7}} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> javascript:alert(1) =1+1 \ufffe"


def _add(client, **data):
    token = csrf_from(client.get("/admin/fields").get_data(as_text=True))
    rows = sum(1 for k in data if k.startswith("choice_") and k.endswith("_value"))
    return client.post("/admin/fields", data={"csrf_token": token, "choice_rows": str(max(rows, 3)), **data})


def _examples(client):
    assert _add(client, type="yes_no", label_en="EPV label", label_fr="Label EPV", filter="1",
                in_popup="1").status_code == 302
    assert _add(client, type="choices", label_en="Trade", choice_0_value="plumbing", choice_0_en="Plumbing",
                choice_0_fr="Plomberie", choice_1_value="", choice_1_en="Carpentry", choice_1_fr="Menuiserie",
                filter="1").status_code == 302
    assert _add(client, type="number", label_en="Founded").status_code == 302
    assert _add(client, type="number", label_en="Employees", visibility="staff").status_code == 302


def test_admin_adds_the_examples_and_only_admins_may(client, db, staff):
    sign_in(client, "editor@example.org")
    assert client.get("/admin/fields").status_code == 403
    client.get("/logout")
    sign_in(client, "admin@example.org")
    _examples(client)
    listed = {f.slug: f for f in store.list_fields(db)}
    assert list(listed) == ["epv-label", "trade", "founded", "employees"]
    assert listed["epv-label"].filter and listed["epv-label"].labels == {"en": "EPV label", "fr": "Label EPV"}
    assert [c["value"] for c in listed["trade"].choices] == ["plumbing", "carpentry"]
    assert not listed["employees"].public and not listed["founded"].filter
    page = client.get("/admin/fields?lang=fr").get_data(as_text=True)
    assert "Label EPV" in page and "Plomberie" not in page
    # A number cannot be a filter; a field needs a label; a slug is taken once.
    assert _add(client, type="number", label_en="Size", filter="1").status_code == 302
    assert not store.get_field(db, "size").filter
    answer = _add(client, type="text")
    assert answer.status_code == 400 and "un libellé dans au moins une langue" in answer.get_data(as_text=True)  # in French, as chosen
    assert _add(client, type="text", label_en="Trade").status_code == 400


def test_reorder_retire_restore_and_choices_in_use(client, db, staff):
    sign_in(client, "admin@example.org")
    _examples(client)
    token = csrf_from(client.get("/admin/fields").get_data(as_text=True))
    client.post("/admin/fields/founded/up", data={"csrf_token": token})
    assert [f.slug for f in store.list_fields(db)] == ["epv-label", "founded", "trade", "employees"]
    client.post("/admin/fields/trade/retire", data={"csrf_token": token})
    assert [f.slug for f in store.list_fields(db)] == ["epv-label", "founded", "employees"]
    client.post("/admin/fields/trade/restore", data={"csrf_token": token})
    assert "trade" in [f.slug for f in store.list_fields(db)]
    assert client.post("/admin/fields/trade/retire").status_code == 400  # no CSRF token
    org = make_org(db, "Plombiers Réunis")
    store.set_values(db, org.id, {"trade": ["plumbing"]})
    edit = {"csrf_token": token, "label_en": "Trade", "choice_rows": "3", "choice_0_value": "plumbing",
            "choice_0_en": "Plumbing", "choice_0_remove": "1", "choice_1_value": "carpentry", "choice_1_en": "Joinery"}
    answer = client.post("/admin/fields/trade", data=edit)
    assert answer.status_code == 400
    assert "held by 1 organisations" in answer.get_data(as_text=True)
    assert store.values_of(db, org.id) == {"trade": ["plumbing"]}
    assert client.post("/admin/fields/trade", data={**edit, "drop_values": "1"}).status_code == 302
    assert store.values_of(db, org.id) == {}
    assert store.get_field(db, "trade").choices == [{"value": "carpentry", "labels": {"en": "Joinery"}}]


@pytest.mark.parametrize(("kind", "raw", "stored"), [
    ("number", "12,5", ["12.5"]), ("number", "1987", ["1987"]),
    ("date", "31/03/2024", ["2024-03-31"]), ("date", "2024-03-31", ["2024-03-31"]),
    ("yes_no", "oui", ["yes"]), ("yes_no", "Sì", ["yes"]), ("yes_no", "tak", ["yes"]), ("yes_no", "ναι", ["yes"]),
    ("yes_no", "nee", ["no"]), ("yes_no", "όχι", ["no"]), ("yes_no", "x", ["yes"]), ("yes_no", "0", ["no"]),
    ("url", "example.org/a", ["https://example.org/a"]), ("choices", "Plomberie; carpentry", ["plumbing", "carpentry"]),
    ("choice", "Menuiserie", ["carpentry"]), ("text", "  a\r\nb\ufffe ", ["a b"]), ("yes_no", "", []),
])
def test_values_are_read_by_type(kind, raw, stored):
    fld = rules.Field(1, "f", kind, {"en": "Thing"}, choices=[
        {"value": "plumbing", "labels": {"en": "Plumbing", "fr": "Plomberie"}},
        {"value": "carpentry", "labels": {"en": "Carpentry", "fr": "Menuiserie"}}])
    assert rules.parse(fld, raw) == (stored, None)


@pytest.mark.parametrize(("kind", "raw", "says"), [
    ("number", "twelve", "is not a number"), ("date", "31/02/2024", "write it as 2024-03-31"),
    ("yes_no", "maybe", "neither yes nor no"), ("url", "javascript:alert(1)", "not a web address"),
    ("choices", "plumbing; welding", "'welding' is not one of its choices"),
    ("choice", "plumbing; carpentry", "choose one value"),
])
def test_bad_values_say_what_to_write(kind, raw, says):
    fld = rules.Field(1, "f", kind, {"en": "Thing"}, choices=[
        {"value": "plumbing", "labels": {"en": "Plumbing"}}, {"value": "carpentry", "labels": {"en": "Carpentry"}}])
    values, problem = rules.parse(fld, raw)
    assert values == [] and says in problem and problem.startswith("Thing: ")


def test_required_only_where_the_field_applies():
    fld = rules.Field(1, "trade", "choices", {"en": "Trade"}, choices=[{"value": "plumbing", "labels": {}}],
                      categories=["AM90"], required=True)
    assert rules.check_all([fld], {}, ["AM40"]) == ({"trade": []}, {})
    values, problems = rules.check_all([fld], {}, ["AM90"])
    assert problems["trade"] == "Trade is required"


def _staff_form(client, org_id, **changes):
    from support import form_fields
    page = client.get(f"/admin/organisations/{org_id}/edit").get_data(as_text=True)
    data = form_fields(page)
    data = {k: v for k, v in data.items() if not k.startswith("field:")}
    data.update(action="save", **changes)
    return client.post(f"/admin/organisations/{org_id}/edit", data=data)


def test_staff_form_sets_fields_shown_on_the_page_and_in_exports(client, db, staff):
    import csv
    import io
    import json
    import re
    sign_in(client, "admin@example.org")
    _examples(client)
    assert _add(client, type="text", label_en=HOSTILE, in_popup="1").status_code == 302
    hostile = store.list_fields(db)[-1].slug
    org = make_org(db, "Menuiserie Dupont")
    answer = _staff_form(client, org.id, **{"field:founded": "douze"})
    assert answer.status_code == 400 and "is not a number" in answer.get_data(as_text=True)
    assert "Founded: Founded" not in answer.get_data(as_text=True)  # the error list names the field once
    assert '<a href="#f-field-founded">Founded: &#39;douze&#39; is not a number' in answer.get_data(as_text=True)
    assert store.values_of(db, org.id) == {}
    answer = _staff_form(client, org.id, **{"field:epv-label": "yes", "field:trade": ["plumbing", "carpentry"],
                                            "field:founded": "1987", "field:employees": "12",
                                            f"field:{hostile}": "=1+1 " + HOSTILE})
    assert answer.status_code == 302
    assert store.values_of(db, org.id)["trade"] == ["plumbing", "carpentry"]
    client.get("/logout")
    page = client.get("/organisations/menuiserie-dupont?lang=fr").get_data(as_text=True)
    fields_part = page[page.index('id="org-fields"'):page.index("</dl>")]
    assert "Label EPV" in fields_part and "Plomberie, Menuiserie" in fields_part and "1987" in fields_part
    assert "Employees" not in page and ">12<" not in fields_part
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in fields_part
    node = json.loads(re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert {"@type": "PropertyValue", "propertyID": "founded", "name": "Founded", "value": "1987"} in \
        node["additionalProperty"]
    one = client.get("/api/organisations/menuiserie-dupont").get_json()
    assert [f["slug"] for f in one["fields"]] == ["epv-label", "trade", "founded", hostile]
    assert [f["slug"] for f in one["popup_fields"]] == ["epv-label", hostile]
    assert "employees" not in json.dumps(one)
    rows = list(csv.reader(io.StringIO(client.get("/api/organisations.csv?lang=en").get_data(as_text=True).lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert header[-4:] == ["epv-label", "trade", "founded", hostile] and "employees" not in header
    assert row[header.index("trade")] == "Plumbing, Carpentry"
    assert row[header.index(hostile)].startswith("'=1+1 {{7*7}}")  # inert in a spreadsheet
    feature = client.get("/api/organisations.geojson").get_json()["features"][0]["properties"]
    assert feature["f-epv-label"] == "yes" and "f-employees" not in feature


def test_a_filter_field_filters_the_map_the_api_and_the_exports(client, db, staff):
    import csv
    import io
    sign_in(client, "admin@example.org")
    _examples(client)
    client.get("/logout")
    with_label = make_org(db, "Ébénisterie Labellisée")
    make_org(db, "Atelier Sans Label")
    store.set_values(db, with_label.id, {"epv-label": ["yes"], "trade": ["carpentry"]})
    listed = client.get("/api/organisations?f-epv-label=yes").get_json()["items"]
    assert [o["name"] for o in listed] == ["Ébénisterie Labellisée"]
    assert [o["name"] for o in client.get("/api/organisations?f-trade=plumbing").get_json()["items"]] == []
    facets = client.get("/api/facets?lang=fr").get_json()["facets"]
    assert {o["value"]: (o["label"], o["count"]) for o in facets["f-epv-label"]} == {"yes": ("oui", 1), "no": ("non", 0)}
    assert "f-founded" not in facets and "f-employees" not in facets
    answer = client.get("/api/organisations?f-epv-label=maybe")
    assert answer.status_code == 400 and "f-epv-label" in answer.get_data(as_text=True)
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert 'data-kind="f-epv-label"' in page and "Label EPV" in page
    rows = list(csv.reader(io.StringIO(client.get("/api/organisations.csv?f-epv-label=yes")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][1] == "Ébénisterie Labellisée"
    directory = client.get("/organisations?f-trade=carpentry").get_data(as_text=True)
    assert "Ébénisterie Labellisée" in directory and "Atelier Sans Label" not in directory
    spec = client.get("/api/openapi.json").get_json()
    names = {p["name"] for path in spec["paths"].values() for op in path.values() if isinstance(op, dict)
             for p in op.get("parameters", [])}
    assert {"f-epv-label", "f-trade"} <= names


def test_visitors_propose_public_fields_and_moderators_see_and_accept_them(db_path, tmp_path, smtp, db, staff):
    from urllib.parse import urlsplit

    import altcha
    from smtp_box import links_in

    from mapapp import create_app
    site = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                       "PUBLIC_URL": "http://map.example.org"})
    admin = site.test_client()
    sign_in(admin, "admin@example.org")
    _examples(admin)
    visitor = site.test_client()

    def send(**fields):
        page = visitor.get("/contribute?lang=en").get_data(as_text=True)
        challenge = altcha.Challenge.from_dict(visitor.get("/contribute/challenge").get_json())
        proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
        return page, visitor.post("/contribute", data={"csrf_token": csrf_from(page), "altcha": proof,
                                                       "contact": "ana@example.org", "name": "Plomberie Solidaire",
                                                       "city": "Lyon", "country": "FR", **fields})

    page, answer = send(**{"field:founded": "soon", "field:employees": "40"})
    assert "EPV label" in page and "Employees" not in page  # staff-only fields stay out of public forms
    assert answer.status_code == 400 and "is not a number" in answer.get_data(as_text=True)
    _page, answer = send(**{"field:founded": "1999", "field:trade": ["plumbing"], "field:employees": "40"})
    assert answer.status_code == 302
    path = urlsplit([u for u in links_in(smtp.box.wait(1)[0]) if "/confirm/" in u][0]).path
    visitor.post(path, data={"csrf_token": csrf_from(visitor.get(path).get_data(as_text=True))})
    queue = admin.get("/admin/moderation?lang=en").get_data(as_text=True)
    assert "Founded" in queue and "1999" in queue and "Plumbing" in queue
    cid = db.execute("SELECT id FROM contributions").fetchone()[0]
    admin.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)})
    org_id = db.execute("SELECT id FROM organisations").fetchone()[0]
    assert store.values_of(db, org_id) == {"trade": ["plumbing"], "founded": ["1999"]}


def test_an_import_reads_field_columns_by_label_or_slug_and_reports_bad_values(db, tmp_path):
    from mapapp.importing import importer
    from mapapp.mapdata.geocode import Chain
    for fld in (rules.Field(0, "epv-label", "yes_no", {"en": "EPV label", "fr": "Label EPV"}, filter=True),
                rules.Field(0, "trade", "choices", {"en": "Trade", "fr": "Métier"}, choices=[
                    {"value": "plumbing", "labels": {"en": "Plumbing", "fr": "Plomberie"}},
                    {"value": "carpentry", "labels": {"en": "Carpentry", "fr": "Menuiserie"}}]),
                rules.Field(0, "founded", "number", {"en": "Founded"})):
        store.create_field(db, fld)
    path = tmp_path / "artisans.csv"
    path.write_text("name,city,country,lat,lon,Label EPV,métier,founded\n"
                    "Plombiers Réunis,Lyon,FR,45.7,4.8,oui,Plomberie; menuiserie,1987\n"
                    "Atelier Flou,Lyon,FR,45.7,4.8,peut-être,welding,douze\n", encoding="utf-8")
    report = importer.import_file(db, path, importer.Options(source="artisans", geocode=False), Chain([]))
    ids = dict(db.execute("SELECT name, id FROM organisations").fetchall())
    assert store.values_of(db, ids["Plombiers Réunis"]) == {"epv-label": ["yes"], "trade": ["plumbing", "carpentry"],
                                                            "founded": ["1987"]}
    assert store.values_of(db, ids["Atelier Flou"]) == {}
    said = [(i.row, i.column, str(i.message)) for i in report.issues if i.row == 3]
    assert any(c == "Label EPV" and "neither yes nor no" in m for _r, c, m in said), said
    assert any(c == "métier" and "'welding' is not one of its choices" in m for _r, c, m in said), said
    assert any(c == "founded" and "is not a number" in m for _r, c, m in said), said


def test_a_partner_editor_of_another_country_cannot_set_fields_and_xlsx_has_the_columns(client, db, staff):
    import openpyxl

    from mapapp import accounts
    sign_in(client, "admin@example.org")
    _examples(client)
    client.get("/logout")
    french = make_org(db, "Coop Lyonnaise", country="FR")
    accounts.set_moderation_scope(db, staff["editor"].id, "IT", "")
    sign_in(client, "editor@example.org")
    assert client.get(f"/admin/organisations/{french.id}/edit").status_code == 403
    token = csrf_from(client.get("/admin/organisations/new").get_data(as_text=True))
    answer = client.post(f"/admin/organisations/{french.id}/edit",
                         data={"csrf_token": token, "name": "Coop Lyonnaise", "country": "FR", "action": "save",
                               "field:epv-label": "yes"})
    assert answer.status_code == 403
    assert store.values_of(db, french.id) == {}
    client.get("/logout")
    store.set_values(db, french.id, {"epv-label": ["yes"], "employees": ["12"]})
    import io
    book = openpyxl.load_workbook(io.BytesIO(client.get("/api/organisations.xlsx?lang=en").data))
    header = [c.value for c in next(book.active.iter_rows(max_row=1))]
    row = [c.value for c in next(book.active.iter_rows(min_row=2, max_row=2))]
    assert header[-3:] == ["epv-label", "trade", "founded"] and "employees" not in header
    assert row[header.index("epv-label")] == "yes"


def test_values_are_shown_in_the_visitors_language():
    founded = rules.Field(1, "opened", "date", {"en": "Opened", "pl": "Otwarcie"})
    assert founded.display(["2024-03-31"], "fr") == "31 mars 2024"
    assert founded.display(["2024-03-31"], "el") == "31 Μαρτίου 2024"
    assert rules.Field(2, "epv", "yes_no", {"en": "EPV"}).display(["yes"], "nl") == "ja"


def test_the_export_command_filters_by_a_field_as_the_site_does(runner, db, tmp_path):
    """``mapapp export --filters 'f-epv-label=yes'`` keeps only the labelled organisations
    (the command ignored f-<slug> filters and wrote them all)."""
    import csv

    from mapapp import kinds
    from mapapp.fields import Field

    store.create_field(db, Field(id=0, slug="epv-label", type="yes_no", labels={"en": "EPV label"}, filter=True))
    store.set_values(db, make_org(db, "Labelled workshop").id, {"epv-label": ["yes"]})
    store.set_values(db, make_org(db, "Unlabelled workshop").id, {"epv-label": ["no"]})
    make_org(db, "Silent workshop")
    kinds.use_fields(None)  # as in the command's own process: no request has read the fields
    out = tmp_path / "epv.csv"
    result = runner.invoke(args=["export", "--format", "csv", "--filters", "f-epv-label=yes", "-o", str(out)])
    assert result.exit_code == 0, result.output
    names = [row["name"] for row in csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())]
    assert names == ["Labelled workshop"]
    wrong = runner.invoke(args=["export", "--format", "csv", "--filters", "f-epv-label=maybe", "-o", str(out)])
    assert wrong.exit_code != 0 and "f-epv-label" in wrong.output
