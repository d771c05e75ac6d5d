"""Owners keep their entry alive through links sent to the organisation's own e-mail:
edit (moderated or published at once), "still correct", revoked links, reminders."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import altcha
import pytest
from smtp_box import links_in, text_of
from support import csrf_from, make_org, sign_in

from mapapp import catalogue, create_app
from mapapp.catalogue import contributions as store
from mapapp.catalogue import owners as owner_store
from mapapp.contributing import owners


def site(db_path, tmp_path, smtp, **config):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c"),
                       "SMTP_URL": smtp.url, "ALTCHA_COST": 10, "PUBLIC_URL": "https://map.example.org", **config})


def ask_for_link(client, slug) -> None:
    page = client.get(f"/organisations/{slug}/owner-link").get_data(as_text=True)
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    assert client.post(f"/organisations/{slug}/owner-link",
                       data={"csrf_token": csrf_from(page), "altcha": proof}).status_code == 200


def owner_path(message) -> str:
    return urlsplit([u for u in links_in(message) if "/owner/" in u][0]).path


def test_the_owner_edits_through_the_link_and_a_moderator_sees_it(db_path, db, tmp_path, smtp, staff):
    org = make_org(db, "Bread Coop", city="Lyon", email="hello@bread.example.org")
    slug = catalogue.organisation_by_id(db, org.id)["slug"]
    client = site(db_path, tmp_path, smtp).test_client()
    assert "Get a link to edit it" in client.get(f"/organisations/{slug}").get_data(as_text=True)
    ask_for_link(client, slug)
    [mail] = smtp.box.wait(1)
    assert mail["To"] == "hello@bread.example.org"  # only the organisation's own address
    path = owner_path(mail)
    form = client.get(path).get_data(as_text=True)
    assert 'value="Bread Coop"' in form and "Everything is still correct" in form
    client.post(path, data={"csrf_token": csrf_from(form), "name": "Bread Coop", "city": "Villeurbanne",
                            "country": "FR", "email": "hello@bread.example.org"})
    assert catalogue.organisation_state(db, org.id)["values"]["city"] == "Lyon"  # moderated by default
    [pending] = store.contributions_in(db, "pending")
    assert pending["organisation_id"] == org.id and pending["email"] == "hello@bread.example.org"
    moderator = client.application.test_client()
    sign_in(moderator, "editor@example.org")
    assert "Villeurbanne" in moderator.get("/admin/moderation").get_data(as_text=True)


def test_published_at_once_when_the_site_says_so_and_still_correct(db_path, db, tmp_path, smtp):
    org = make_org(db, "Bread Coop", city="Lyon", email="hello@bread.example.org")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00'")
    client = site(db_path, tmp_path, smtp, OWNER_EDITS="publish").test_client()
    token = owners.link_token(db, "test", org.id)
    form = client.get(f"/owner/{token}").get_data(as_text=True)
    assert "January 1, 2020" in form  # when it was last checked, written as the visitor reads dates
    client.post(f"/owner/{token}", data={"csrf_token": csrf_from(form), "name": "Bread Coop", "city": "Villeurbanne"})
    assert catalogue.organisation_state(db, org.id)["values"]["city"] == "Villeurbanne"
    assert catalogue.audit.entries(db, organisation_id=org.id)[0]["user_email"] == "owner:hello@bread.example.org"
    client.post(f"/owner/{token}", data={"csrf_token": csrf_from(form), "action": "still-correct"})
    assert owner_store.checked_at(db, org.id)[:10] == time.strftime("%Y-%m-%d", time.gmtime())


def test_forged_expired_revoked_links_and_other_organisations(db_path, db, tmp_path, smtp, staff):
    org = make_org(db, "Bread Coop", email="hello@bread.example.org")
    other = make_org(db, "Other Coop", email="x@other.example.org")
    app = site(db_path, tmp_path, smtp)
    client = app.test_client()
    token = owners.link_token(db, "test", org.id)
    assert client.get(f"/owner/{token[:-3]}xyz").status_code == 410
    assert client.get(f"/owner/{owners.link_token(db, 'another secret', org.id)}").status_code == 410
    expired = site(db_path, tmp_path, smtp, OWNER_LINK_DAYS=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "time", lambda: 1_000_000_000.0)
        old = owners.link_token(db, "test", org.id)
    assert "expired" in expired.test_client().get(f"/owner/{old}").get_data(as_text=True)
    staff_client = app.test_client()
    sign_in(staff_client, "editor@example.org")
    page = staff_client.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True)
    staff_client.post(f"/admin/moderation/owner-links/{org.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert "withdrawn" in client.get(f"/owner/{token}").get_data(as_text=True)
    fresh = owners.link_token(db, "test", org.id)
    assert client.get(f"/owner/{fresh}").status_code == 200
    assert owners.organisation_of(db, "test", owners.link_token(db, "test", other.id), 30) == other.id


def test_remind_owners_writes_once_per_period(db_path, db, tmp_path, smtp):
    make_org(db, "Stale Coop", email="stale@example.org")
    make_org(db, "Fresh Coop", email="fresh@example.org")
    make_org(db, "No Mail Coop")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00' WHERE name <> 'Fresh Coop'")
    app = site(db_path, tmp_path, smtp, PUBLIC_URL="https://map.example.org")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["remind-owners", "--lang", "fr"])
    assert result.exit_code == 0 and "1 reminder(s) sent" in result.output, result.output
    [mail] = smtp.box.wait(1)
    assert mail["To"] == "stale@example.org" and "« Stale Coop » est-elle toujours juste" in mail["Subject"]
    assert "https://map.example.org/owner/" in text_of(mail)
    assert "0 reminder(s) sent" in runner.invoke(args=["remind-owners"]).output  # not twice


def test_one_edit_link_per_organisation_in_a_quarter_of_an_hour(db_path, db, tmp_path, smtp):
    org = make_org(db, "Bread Coop", email="hello@bread.example.org")
    slug = catalogue.organisation_by_id(db, org.id)["slug"]
    client = site(db_path, tmp_path, smtp).test_client()
    ask_for_link(client, slug)
    page = client.get(f"/organisations/{slug}/owner-link").get_data(as_text=True)
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    again = client.post(f"/organisations/{slug}/owner-link", data={"csrf_token": csrf_from(page), "altcha": proof})
    assert again.status_code == 429
    assert "less than 15 minutes ago" in again.get_data(as_text=True)
    # Another organisation's link, asked for afterwards, marks the end: once it is in, a second
    # link for the first would be there too (mail leaves in order, even if one day through a queue).
    other = make_org(db, "Cheese Coop", email="hello@cheese.example.org")
    ask_for_link(client, catalogue.organisation_by_id(db, other.id)["slug"])
    received = smtp.box.wait(2)
    assert [m["To"] for m in received] == ["hello@bread.example.org", "hello@cheese.example.org"]


def test_a_mail_server_that_fails_leaves_the_organisation_free_to_ask_again(db_path, db, tmp_path, smtp):
    org = make_org(db, "Bread Coop", email="hello@bread.example.org")
    slug = catalogue.organisation_by_id(db, org.id)["slug"]
    client = site(db_path, tmp_path, smtp, SMTP_URL="smtp://127.0.0.1:9").test_client()  # nothing listens there
    page = client.get(f"/organisations/{slug}/owner-link").get_data(as_text=True)
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    failed = client.post(f"/organisations/{slug}/owner-link", data={"csrf_token": csrf_from(page), "altcha": proof})
    assert failed.status_code == 503 and "could not be sent" in failed.get_data(as_text=True)
    assert owner_store.link_sent_at(db, org.id) is None
    ask_for_link(site(db_path, tmp_path, smtp).test_client(), slug)  # the next try is not refused as too soon
    assert len(smtp.box.wait(1)) == 1


def test_staff_send_edit_links_in_bulk_each_in_its_countrys_language(db_path, db, tmp_path, smtp, staff):
    french = make_org(db, "Boulangerie Coop", country="FR", email="pain@example.org")
    italian = make_org(db, "Forno Coop", country="IT", city="Torino", email="forno@example.org")
    silent = make_org(db, "No Mail Coop")
    client = site(db_path, tmp_path, smtp).test_client()
    sign_in(client, "editor@example.org")
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "Send them a link to check their entry" in page
    done = client.post("/admin/organisations/owner-links", data={
        "csrf_token": csrf_from(page), "id": [str(french.id), str(italian.id), str(silent.id)]}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Edit links sent to 2 organisations." in text and "1 has no e-mail address." in text
    mails = {m["To"]: m for m in smtp.box.wait(2)}
    assert mails["pain@example.org"]["Subject"].startswith("Merci de vérifier « Boulangerie Coop »")
    assert "L’équipe de" in text_of(mails["pain@example.org"])
    assert mails["forno@example.org"]["Subject"].startswith("Verificate «Forno Coop»")
    assert [e["action"] for e in catalogue.audit.entries(db, organisation_id=french.id)][0] == "owner-link-sent"
    # All matching the filters (on every page), minutes later: those just sent are skipped.
    again = client.post("/admin/organisations/owner-links?scope=matching", data={
        "csrf_token": csrf_from(page), "match:country": "FR,IT"}, follow_redirects=True).get_data(as_text=True)
    assert "Edit links sent to 0 organisations." in again and "2 were sent one less than 15 minutes ago" in again


def test_entries_not_checked_for_long_fade_on_the_map_until_their_owner_confirms(db_path, db, tmp_path, smtp, staff):
    old = make_org(db, "Old Coop", lat=45.7601, lon=4.8401, email="old@example.org")
    make_org(db, "New Coop", lat=45.7602, lon=4.8402)
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", [old.id])
    client = site(db_path, tmp_path, smtp).test_client()
    slug = catalogue.organisation_by_id(db, old.id)["slug"]
    clusters = client.get("/api/clusters?bbox=4.83,45.75,4.85,45.77&zoom=16")
    points = {p[1]: p for p in clusters.get_json()["points"]}
    assert clusters.get_json()["point_fields"][4] == "stale"
    assert points["Old Coop"][4] == 1 and points["New Coop"][4] == 0
    api = client.get(f"/api/organisations/{slug}").get_json()
    assert api["stale"] is True and api["checked"] == "2020-01-01"
    assert "has not been confirmed since January 1, 2020" in client.get(f"/organisations/{slug}").get_data(as_text=True)
    staff_client = client.application.test_client()
    sign_in(staff_client, "editor@example.org")
    listed = staff_client.get("/admin/organisations?unchecked=730").get_data(as_text=True)
    assert "Old Coop" in listed and "New Coop" not in listed and "2020-01-01" in listed
    assert "faded on the map" in listed

    owners.still_correct(db, old.id)  # the owner clicks "still correct"
    fresh = client.get("/api/clusters?bbox=4.83,45.75,4.85,45.77&zoom=16",
                       headers={"If-None-Match": clusters.headers["ETag"]})
    assert fresh.status_code == 200  # the map's cached answer is not reused
    assert {p[1]: p[4] for p in fresh.get_json()["points"]}["Old Coop"] == 0
    assert "Old Coop" not in staff_client.get("/admin/organisations?unchecked=730").get_data(as_text=True)
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00' WHERE name = 'New Coop'")
    new_slug = catalogue.find_organisations(db, catalogue.Filters(q="New Coop"))[0]["slug"]
    assert client.get(f"/api/organisations/{new_slug}").get_json()["stale"] is True
    never = site(db_path, tmp_path, smtp, STALE_AFTER_DAYS=0).test_client()  # the site fades nothing
    assert never.get(f"/api/organisations/{new_slug}").get_json()["stale"] is False
