"""Audit #24, moderation: an undo that finds exactly its own history entry and takes back
only what its contribution changed; partner editors held to their part of the catalogue
on every staff page that changes an organisation; descriptions merged per language."""

from __future__ import annotations

import pytest
from support import PASSWORD, csrf_from, form_fields, make_org, sign_in

from mapapp import accounts, catalogue, create_app
from mapapp.catalogue import contributions as store
from mapapp.contributing import flow, owners
from mapapp.importing.rows import check_record
from mapapp.mail import Mailer


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "OUTBOX_DIR": str(tmp_path / "outbox")})


@pytest.fixture
def settings(tmp_path) -> flow.Settings:
    return flow.Settings(secret="s", site="Test map", per_hour=100, confirm_hours=48,
                         mailer=Mailer("Test map <noreply@example.org>", "", tmp_path / "outbox"),
                         link=lambda endpoint, values: "http://127.0.0.1/x")


def sent_in(db, kind: str, raw: dict, org_id: int | None = None, lang: str = "en") -> int:
    """A confirmed contribution waiting in the queue, as the form would have sent it."""
    check = check_record(raw) if raw else None
    proposal = ({"values": check.values, "related": check.related, "notes": []} if check
                else {"values": {}, "related": {}, "notes": []})
    country = proposal["values"].get("country") or (
        catalogue.organisation_state(db, org_id)["values"]["country"] if org_id else None)
    with catalogue.write_transaction(db):
        cid = store.add_contribution(db, kind=kind, organisation_id=org_id, proposal=proposal, note="",
                                     email="ana@example.org", lang=lang, token_hash=None, token_expires_at=None,
                                     client="c", country=country, project=None)
        store.confirm_contribution(db, cid)
    return cid


def correction_of(db, org_id: int, lang: str = "en", **changes) -> int:
    """A correction sent from the form: every field as the form showed it, ``changes`` over them."""
    org = catalogue.get_organisation(db, catalogue.organisation_by_id(db, org_id)["slug"], published_only=False)
    raw = {f: org.get(f) or "" for f in ("name", "street", "postcode", "city", "country", "website", "email",
                                         "phone", "description")}
    raw.update(changes)
    raw[f"description_{lang}"] = raw["description"]
    return sent_in(db, "correction", raw, org_id, lang)


# -- HIGH: undo finds its own entry -------------------------------------------------------


def test_undoing_contribution_4_does_not_take_contribution_40s_entry_and_delete_another_organisation(db, settings):
    kept = make_org(db, "Atelier Existant", phone="+33 4 72 00 00 00")
    for n in range(1, 41):
        cid = (sent_in(db, "correction", {"phone": "+33 4 72 11 11 11"}, kept.id) if n == 4
               else sent_in(db, "new", {"name": f"Filler {n}", "city": "Lyon", "country": "FR"}))
        assert cid == n
    flow.accept(db, 4, "mod@example.org", settings)
    added_by_40 = flow.accept(db, 40, "mod@example.org", settings)  # a new organisation, accepted later
    flow.undo(db, 4, "mod@example.org")
    assert catalogue.organisation_by_id(db, kept.id) is not None, "undoing #4 deleted an unrelated organisation"
    assert catalogue.organisation_state(db, kept.id)["values"]["phone"] == "+33 4 72 00 00 00"
    assert catalogue.organisation_by_id(db, added_by_40)["name"] == "Filler 40"
    assert store.contribution(db, 40)["state"] == "accepted" and store.contribution(db, 4)["state"] == "pending"


# -- LOW: undo takes back only what the contribution changed ---------------------------------


def test_undo_leaves_a_field_staff_changed_since_and_says_so(site, db, staff):
    org = make_org(db, "Coop du Coin", phone="+33 4 72 00 00 00", city="Lyon")
    cid = correction_of(db, org.id, phone="+33 4 72 11 11 11", city="Villeurbanne")
    admin = site.test_client()
    sign_in(admin, "admin@example.org")
    queue = admin.get("/admin/moderation").get_data(as_text=True)
    admin.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)})
    assert catalogue.organisation_state(db, org.id)["values"]["city"] == "Villeurbanne"
    edit = admin.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    fields = {**form_fields(edit), "city": "Caluire", "action": "save"}
    assert admin.post(f"/admin/organisations/{org.id}/edit", data=fields).status_code == 302
    warned = admin.get("/admin/moderation").get_data(as_text=True)  # said before Undo is pressed
    assert "Changed since it was accepted, so Undo keeps: Town or city." in warned
    undone = admin.post(f"/admin/moderation/{cid}/undo", data={"csrf_token": csrf_from(queue)},
                        follow_redirects=True).get_data(as_text=True)
    values = catalogue.organisation_state(db, org.id)["values"]
    assert values["phone"] == "+33 4 72 00 00 00"  # what only the contribution changed comes back
    assert values["city"] == "Caluire"  # the staff edit made since stays
    assert "kept as they are now: Town or city" in undone


def test_undoing_an_added_organisation_says_which_later_changes_went_with_it(site, db, staff, settings):
    cid = sent_in(db, "new", {"name": "Coop Nouvelle", "city": "Lyon", "country": "FR", "phone": "+33 4 72 00 00 00"})
    org_id = flow.accept(db, cid, "mod@example.org", settings)
    admin = site.test_client()
    sign_in(admin, "admin@example.org")
    edit = admin.get(f"/admin/organisations/{org_id}/edit").get_data(as_text=True)
    admin.post(f"/admin/organisations/{org_id}/edit", data={**form_fields(edit), "phone": "+33 4 72 99 99 99",
                                                            "action": "save"})
    undone = admin.post(f"/admin/moderation/{cid}/undo", data={"csrf_token": csrf_from(edit)},
                        follow_redirects=True).get_data(as_text=True)
    assert catalogue.organisation_by_id(db, org_id) is None
    assert "deleted with the changes made to it since: Phone" in undone


# -- MEDIUM: partner editors stay in their part of the catalogue ------------------------------


@pytest.fixture
def partner(site, db, staff):
    """An editor limited to Italy, signed in; a French and an Italian organisation."""
    accounts.set_moderation_scope(db, staff["editor"].id, "IT", "")
    db.conn.commit()
    client = site.test_client()
    sign_in(client, "editor@example.org")
    french = make_org(db, "Coopérative Lyonnaise", email="contact@lyon.example.org")
    italian = make_org(db, "Cooperativa Romana", city="Roma", country="IT", lat=41.9, lon=12.5)
    return {"client": client, "french": french, "italian": italian}


def test_a_partner_cannot_open_or_save_an_organisation_outside_their_part(partner, db):
    client, french, italian = partner["client"], partner["french"], partner["italian"]
    page = client.get(f"/admin/organisations/{french.id}/edit")
    assert page.status_code == 403 and "IT" in page.get_data(as_text=True)
    edit = client.get(f"/admin/organisations/{italian.id}/edit").get_data(as_text=True)
    moved = client.post(f"/admin/organisations/{italian.id}/edit",
                        data={**form_fields(edit), "country": "FR", "lat": "45.76", "lon": "4.84", "action": "save"})
    assert moved.status_code == 403  # out of their part through their own page
    assert catalogue.organisation_state(db, italian.id)["values"]["country"] == "IT"


def test_a_correction_moving_a_french_organisation_to_italy_is_not_the_italian_partners_to_accept(partner, db):
    client, french = partner["client"], partner["french"]
    cid = correction_of(db, french.id, country="IT", city="Roma", name="Defaced")
    queue = client.get("/admin/moderation").get_data(as_text=True)
    answer = client.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)})
    assert answer.status_code == 403 and "IT" in answer.get_data(as_text=True)
    values = catalogue.organisation_state(db, french.id)["values"]
    assert (values["country"], values["name"]) == ("FR", "Coopérative Lyonnaise")
    assert client.get(f"/admin/organisations/{french.id}/edit").status_code == 403


def test_a_correction_moving_an_organisation_out_of_a_partners_part_is_in_their_queue(site, db, staff):
    accounts.set_moderation_scope(db, staff["editor"].id, "FR", "")
    db.conn.commit()
    french = make_org(db, "Coopérative Lyonnaise")
    cid = correction_of(db, french.id, country="IT", city="Roma")
    client = site.test_client()
    sign_in(client, "editor@example.org")
    queue = client.get("/admin/moderation").get_data(as_text=True)
    assert f"/admin/moderation/{cid}/reject" in queue  # theirs to judge: it is about their organisation
    assert client.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)}).status_code == 403
    client.post(f"/admin/moderation/{cid}/reject", data={"csrf_token": csrf_from(queue), "reason": "Still in Lyon"})
    assert store.contribution(db, cid)["state"] == "rejected"


def test_a_partners_status_changes_and_lists_hold_their_part_only(partner, db):
    client, french, italian = partner["client"], partner["french"], partner["italian"]
    listing = client.get("/admin/organisations").get_data(as_text=True)
    assert "Cooperativa Romana" in listing and "Coopérative Lyonnaise" not in listing
    dashboard = client.get("/admin").get_data(as_text=True)
    assert '<strong>1</strong> published' in dashboard.replace("\n", " ")
    token = csrf_from(listing)
    client.post("/admin/organisations/status?scope=matching",
                data={"csrf_token": token, "status": "archived", "match:status": "published", "confirm": "yes"})
    assert catalogue.organisation_by_id(db, italian.id)["status"] == "archived"
    assert catalogue.organisation_by_id(db, french.id)["status"] == "published"
    ticked = client.post("/admin/organisations/status", data={"csrf_token": token, "status": "draft",
                                                              "id": [str(french.id)], "confirm": "yes"})
    assert ticked.status_code == 403 and catalogue.organisation_by_id(db, french.id)["status"] == "published"


def test_a_partner_cannot_undo_history_send_owner_links_or_import_outside_their_part(partner, db, staff, site):
    client, french = partner["client"], partner["french"]
    admin = site.test_client()
    sign_in(admin, "admin@example.org")
    listing = admin.get("/admin/organisations").get_data(as_text=True)
    admin.post("/admin/organisations/status", data={"csrf_token": csrf_from(listing), "status": "draft",
                                                    "id": [str(french.id)], "confirm": "yes"})
    [entry] = accounts.audit_entries(db, organisation_id=french.id)
    assert "Coopérative Lyonnaise" not in client.get("/admin").get_data(as_text=True)  # nor in their history
    token = csrf_from(client.get("/admin/organisations").get_data(as_text=True))
    assert client.post(f"/admin/audit/{entry['id']}/undo", data={"csrf_token": token}).status_code == 403
    assert catalogue.organisation_by_id(db, french.id)["status"] == "draft"
    sent = client.post("/admin/organisations/owner-links", data={"csrf_token": token, "id": [str(french.id)]})
    assert sent.status_code == 403
    assert not db.execute("SELECT count(*) FROM audit_log WHERE action = 'owner-link-sent'").fetchone()[0]
    imports = client.get("/admin/imports")
    assert imports.status_code == 403 and "Imports can change any organisation" in imports.get_data(as_text=True)
    assert admin.get("/admin/imports").status_code == 200


# -- MEDIUM: descriptions in other languages survive ------------------------------------------


def _with_translations(db):
    saved = catalogue.save_organisation(
        db, {"name": "Vélo Partagé", "city": "Lyon", "country": "FR", "lat": 45.76, "lon": 4.84, "status": "published",
             "source": "test", "source_ref": "v", "phone": "+33 4 72 00 00 00", "description": "Bike repairs"},
        descriptions={"fr": "Réparation de vélos", "nl": "Fietsreparatie"})
    db.conn.commit()
    return saved.id


def test_a_phone_correction_keeps_the_descriptions_in_other_languages(db, settings):
    org_id = _with_translations(db)
    flow.accept(db, correction_of(db, org_id, phone="+33 4 72 99 99 99"), "mod@example.org", settings)
    state = catalogue.organisation_state(db, org_id)
    assert state["values"]["phone"] == "+33 4 72 99 99 99"
    assert state["values"]["description"] == "Bike repairs"
    assert state["related"]["descriptions"]["fr"] == "Réparation de vélos"
    assert state["related"]["descriptions"]["nl"] == "Fietsreparatie"


def test_a_description_written_in_french_is_stored_as_the_french_one(db, settings):
    org_id = _with_translations(db)
    flow.accept(db, correction_of(db, org_id, lang="fr", description="Atelier de réparation solidaire"),
                "mod@example.org", settings)
    state = catalogue.organisation_state(db, org_id)
    assert state["related"]["descriptions"]["fr"] == "Atelier de réparation solidaire"
    assert state["values"]["description"] == "Bike repairs"  # the English one is not replaced by French
    assert state["related"]["descriptions"]["nl"] == "Fietsreparatie"


def test_an_owners_edit_keeps_the_descriptions_in_other_languages(db):
    org_id = _with_translations(db)
    org = catalogue.get_organisation(db, catalogue.organisation_by_id(db, org_id)["slug"])
    raw = {"name": org["name"], "city": "Lyon", "country": "FR", "phone": "+33 4 72 12 34 56",
           "description": org["description"], "description_en": org["description"]}
    assert owners.edit(db, org_id, raw, publish=True, lang="en") == "published"
    descriptions = catalogue.organisation_state(db, org_id)["related"]["descriptions"]
    assert descriptions["fr"] == "Réparation de vélos" and descriptions["nl"] == "Fietsreparatie"


def test_the_moderation_page_shows_every_languages_description(site, db, staff):
    org_id = _with_translations(db)
    correction_of(db, org_id, lang="fr", description="Atelier solidaire")
    admin = site.test_client()
    sign_in(admin, "admin@example.org", PASSWORD)
    queue = admin.get("/admin/moderation").get_data(as_text=True)
    assert "Fietsreparatie" in queue and "Réparation de vélos" in queue and "Atelier solidaire" in queue
