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
                       "SMTP_URL": smtp.url, "ALTCHA_COST": 10, **config})


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
    assert "2020-01-01" in form  # when it was last checked
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
