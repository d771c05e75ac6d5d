"""Staff know what is waiting and can get back in: the dashboard counts the contributions
waiting in their part of the queue, moderators get at most one digest an hour in their own
language (or none, if they say so on "My account"), a forgotten password is reset by an
e-mailed link that works once, and staff add organisations with the edit form's checks."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from smtp_box import html_of, links_in, text_of
from support import PASSWORD, csrf_from, sign_in

from mapapp import accounts, catalogue, create_app
from mapapp.catalogue import contributions as store
from mapapp.contributing import flow, notify

HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> javascript:alert(1) =1+1 \ufffe"
NEW_PASSWORD = "a brand new passphrase"


def _app(db_path, tmp_path, smtp, **extra):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "SMTP_URL": smtp.url,
                       "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": "https://map.example.org", **extra})


def _waiting(db, name: str, country: str, *, confirmed: bool = True, at: datetime | None = None) -> tuple[int, str]:
    """A new organisation proposed for ``country``, confirmed by its author (``at`` that time)
    unless said; its id and the token of its confirmation link."""
    token = f"token-{name}-{time.monotonic_ns()}"
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(timespec="seconds")
    with catalogue.write_transaction(db):
        cid = store.add_contribution(db, kind="new", organisation_id=None, proposal={
            "values": {"name": name, "country": country}, "related": {}, "notes": []}, note="", email="ana@example.org",
            lang="en", token_hash=flow.token_hash(token), token_expires_at=expires, client="c", country=country,
            project=None)
        if confirmed:
            store.confirm_contribution(db, cid)
        if at is not None:
            db.execute("UPDATE contributions SET confirmed_at = ? WHERE id = ?", [at.isoformat(timespec="seconds"), cid])
    return cid, token


def _until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.05)


# -- what is waiting -----------------------------------------------------------------------


def test_the_dashboard_counts_the_contributions_waiting_in_each_ones_part_of_the_queue(app, client, db, staff):
    _waiting(db, "Coop Lyon", "FR")
    _waiting(db, "Spółdzielnia", "PL")
    _waiting(db, "Not confirmed yet", "PL", confirmed=False)
    partner, _ = accounts.create_user(db, "partner@example.org", PASSWORD, "editor")
    accounts.set_moderation_scope(db, partner.id, "PL", "")

    sign_in(client, "admin@example.org")
    page = client.get("/admin").get_data(as_text=True)
    assert "2 contributions wait for moderation" in page and 'href="/admin/moderation"' in page

    partners = app.test_client()
    sign_in(partners, "partner@example.org")
    assert "1 contribution waits for moderation" in partners.get("/admin").get_data(as_text=True)
    french = partners.get("/admin?lang=fr").get_data(as_text=True)
    assert "1 contribution attend la modération" in french


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_confirmed_contribution_mails_the_moderators_through_the_worker(db_path, db, staff, tmp_path, smtp,
                                                                          worker_for):
    app = _app(db_path, tmp_path, smtp)
    client = app.test_client()
    _cid, token = _waiting(db, "Vélo Solidaire", "FR", confirmed=False)
    page = client.get(f"/contribute/confirm/{token}").get_data(as_text=True)
    assert client.post(f"/contribute/confirm/{token}", data={"csrf_token": csrf_from(page)}).status_code == 200
    queue = app.extensions["mapapp.jobs"]
    with worker_for(app):
        mails = smtp.box.wait(2)
        _until(lambda: queue.state("moderation", "digest")["state"] == "done", "the digest job")
    assert sorted(m["To"] for m in mails) == ["admin@example.org", "editor@example.org"]
    assert len(smtp.box.messages) == 2
    assert "Vélo Solidaire" in text_of(mails[0])
    assert "https://map.example.org/admin/moderation?lang=en" in links_in(mails[0])


def test_at_most_one_digest_an_hour_in_each_ones_language_and_none_when_switched_off(db_path, db, staff, tmp_path,
                                                                                      smtp):
    app = _app(db_path, tmp_path, smtp)
    settings = app.extensions["mapapp.jobs"].hooks.mail_settings()
    editor = app.test_client()
    sign_in(editor, "editor@example.org")
    page = editor.get("/admin/account").get_data(as_text=True)
    editor.post("/admin/account", data={"csrf_token": csrf_from(page), "action": "preferences", "lang": "fr",
                                        "notify": "1"})
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=5)  # time driven by ``now``

    _waiting(db, HOSTILE, "FR", at=start)
    assert notify.send_digests(db, settings, now=start + timedelta(minutes=1)).sent == 2
    by_to = {m["To"]: m for m in smtp.box.wait(2)}
    french = by_to["editor@example.org"]
    assert french["Subject"].startswith("Nouvelles contributions") and "1 attendent" in text_of(french)
    assert by_to["admin@example.org"]["Subject"].startswith("New contributions")
    assert HOSTILE.replace("\ufffe", "") in text_of(french).replace("\ufffe", "")
    assert "<script>alert(1)</script>" not in html_of(french) and "&lt;script&gt;" in html_of(french)

    _waiting(db, "Second Coop", "FR", at=start + timedelta(minutes=5))  # within the hour: no new mail
    outcome = notify.send_digests(db, settings, now=start + timedelta(minutes=10))
    assert outcome.sent == 0 and len(smtp.box.messages) == 2
    assert outcome.next_at == start + timedelta(minutes=61)  # the job plans its next run then

    assert notify.send_digests(db, settings, now=start + timedelta(minutes=62)).sent == 2
    mails = smtp.box.wait(4)[2:]
    assert all("Second Coop" in text_of(m) and "alert" not in text_of(m) for m in mails)  # only what is new

    page = editor.get("/admin/account").get_data(as_text=True)
    editor.post("/admin/account", data={"csrf_token": csrf_from(page), "action": "preferences", "lang": "fr"})
    _waiting(db, "Third Coop", "FR", at=start + timedelta(minutes=70))
    assert notify.send_digests(db, settings, now=start + timedelta(hours=3)).sent == 1
    assert [m["To"] for m in smtp.box.wait(5)[4:]] == ["admin@example.org"]
    assert notify.send_digests(db, settings, now=start + timedelta(hours=4)).sent == 0  # nothing new
    assert len(smtp.box.messages) == 5


def test_a_partner_moderator_hears_only_of_their_part_of_the_queue(db_path, db, tmp_path, smtp):
    app = _app(db_path, tmp_path, smtp)
    partner, _ = accounts.create_user(db, "partner@example.org", PASSWORD, "editor")
    accounts.set_moderation_scope(db, partner.id, "PL", "")
    _waiting(db, "Coop Lyon", "FR")
    settings = app.extensions["mapapp.jobs"].hooks.mail_settings()
    assert notify.send_digests(db, settings, now=datetime.now(timezone.utc) + timedelta(seconds=5)).sent == 0
    _waiting(db, "Spółdzielnia", "PL")
    assert notify.send_digests(db, settings, now=datetime.now(timezone.utc) + timedelta(seconds=5)).sent == 1
    [mail] = smtp.box.wait(1)
    assert "Spółdzielnia" in text_of(mail) and "Coop Lyon" not in text_of(mail)


def test_digests_are_refused_without_the_sites_public_address(db_path, db, staff, tmp_path, smtp):
    from mapapp.mail import NoPublicAddress

    app = _app(db_path, tmp_path, smtp, PUBLIC_URL="")
    with pytest.raises(NoPublicAddress):
        app.extensions["mapapp.jobs"].hooks.mail_settings()


# -- my account ----------------------------------------------------------------------------


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, db, staff):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, "editor@example.org")
    sign_in(elsewhere, "editor@example.org")
    page = here.get("/admin/account").get_data(as_text=True)
    wrong = here.post("/admin/account", data={"csrf_token": csrf_from(page), "action": "password", "current": "nope",
                                              "password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(as_text=True)
    short = here.post("/admin/account", data={"csrf_token": csrf_from(page), "action": "password",
                                              "current": PASSWORD, "password": "short", "repeat": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    done = here.post("/admin/account", data={"csrf_token": csrf_from(page), "action": "password",
                                             "current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert done.status_code == 302
    assert here.get("/admin").status_code == 200
    assert elsewhere.get("/admin").status_code == 302  # signed out
    assert sign_in(app.test_client(), "editor@example.org", NEW_PASSWORD).status_code == 302


def test_the_account_form_needs_its_csrf_token(app, client, staff):
    sign_in(client, "editor@example.org")
    assert client.post("/admin/account", data={"action": "preferences", "lang": "fr"}).status_code == 400


# -- forgot your password? -----------------------------------------------------------------


def _ask(client, email: str, address: str = "127.0.0.1"):
    page = client.get("/login/forgot").get_data(as_text=True)
    return client.post("/login/forgot", data={"csrf_token": csrf_from(page), "email": email},
                       environ_base={"REMOTE_ADDR": address})


def _link(db) -> str:
    """The path of the link of the latest reset request, as the job makes it."""
    reset_id = db.execute("SELECT max(id) FROM password_resets").fetchone()[0]
    return f"/login/reset/{accounts.issue_reset(db, reset_id).token}"


def test_a_reset_is_asked_for_alike_for_any_address_and_mailed_to_active_accounts_only(db_path, db, staff, tmp_path,
                                                                                      smtp, worker_for):
    app = _app(db_path, tmp_path, smtp)
    gone, _ = accounts.create_user(db, "gone@example.org", PASSWORD, "editor")
    accounts.update_user(db, gone.id, active=False, acting=staff["admin"])
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in login
    answers = [_ask(client, email) for email in ("nobody@example.org", "gone@example.org", "EDITOR@example.org")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1  # the same page
    queue = app.extensions["mapapp.jobs"]
    ids = [r[0] for r in db.execute("SELECT id FROM password_resets ORDER BY id")]
    with worker_for(app):
        [mail] = smtp.box.wait(1)
        _until(lambda: all((queue.state("reset", str(i)) or {}).get("state") == "done" for i in ids), "the reset jobs")
    assert len(smtp.box.messages) == 1 and mail["To"] == "editor@example.org"
    [link] = [u for u in links_in(mail) if "/login/reset/" in u]
    assert link.startswith("https://map.example.org/login/reset/")
    assert db.execute("SELECT count(*) FROM password_resets WHERE token_hash LIKE ?",
                      [f"%{link.rsplit('.', 1)[1]}%"]).fetchone()[0] == 0  # stored hashed


def test_a_reset_link_works_once_and_signs_out_every_session(app, db, staff):
    elsewhere = app.test_client()
    sign_in(elsewhere, "editor@example.org")
    client = app.test_client()
    _ask(client, "editor@example.org")
    link = _link(db)
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_from(page.get_data(as_text=True))
    differ = client.post(link, data={"csrf_token": token, "password": NEW_PASSWORD, "repeat": "something else!"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    done = client.post(link, data={"csrf_token": token, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert elsewhere.get("/admin").status_code == 302  # every session ended
    assert sign_in(app.test_client(), "editor@example.org", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "editor@example.org", NEW_PASSWORD).status_code == 302
    again = client.get(link)
    assert again.status_code == 410 and "Ask for a new link" in again.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token, "password": "yet another passphrase",
                                   "repeat": "yet another passphrase"}).status_code == 410


def test_a_reset_link_dies_when_it_expires_or_the_password_changes(app, db, staff):
    client = app.test_client()
    _ask(client, "editor@example.org")
    expiring = _link(db)
    _ask(client, "editor@example.org")
    superseded = _link(db)
    assert client.get(expiring).status_code == 200 and client.get(superseded).status_code == 200
    db.execute("UPDATE password_resets SET expires_at = '2020-01-01T00:00:00+00:00' WHERE id = ?",
               [int(expiring.rsplit("/", 1)[1].split(".")[0])])
    assert client.get(expiring).status_code == 410
    accounts.change_password(db, staff["editor"], PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert client.get(superseded).status_code == 410
    assert client.get("/login/reset/1.forged").status_code == 410
    assert client.get("/login/reset/nothing").status_code == 410


def test_reset_requests_are_limited_per_client_and_per_address(app, db, staff):
    client = app.test_client()
    for _ in range(5):
        assert _ask(client, "nobody@example.org").status_code == 200
    sixth = _ask(client, "someone-else@example.org")
    assert sixth.status_code == 429 and "too many requests" in sixth.get_data(as_text=True)
    for n in range(5):  # one address asked from many connections
        assert _ask(client, "editor@example.org", address=f"10.0.0.{n}").status_code == 200
    assert _ask(client, "editor@example.org", address="10.0.1.1").status_code == 429
    assert _ask(client, "nobody@example.org", address="10.0.1.2").status_code == 429  # unknown ones alike


def test_a_reset_is_refused_without_the_sites_public_address(db_path, db, staff, tmp_path, smtp):
    app = _app(db_path, tmp_path, smtp, PUBLIC_URL="")
    answer = _ask(app.test_client(), "editor@example.org")
    assert answer.status_code == 503 and "MAPAPP_PUBLIC_URL" in answer.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM password_resets").fetchone()[0] == 0


# -- a new organisation from the staff area -------------------------------------------------


def _new(client, **fields):
    page = client.get("/admin/organisations/new").get_data(as_text=True)
    return client.post("/admin/organisations/new", data={"csrf_token": csrf_from(page), "action": "save",
                                                          "country": "FR", **fields})


def test_staff_add_an_organisation_with_the_edit_forms_checks(client, db, staff):
    sign_in(client, "editor@example.org")
    assert 'href="/admin/organisations/new"' in client.get("/admin/organisations").get_data(as_text=True)
    bad = _new(client, name="Coop", email="not an address", website="javascript:alert(1)")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing was saved" in page and 'href="#f-email"' in page
    assert 'href="#f-website"' in page
    blank = client.get("/admin/organisations/new").get_data(as_text=True)
    assert 'value="None"' not in blank and ">None</textarea>" not in blank  # empty fields are empty
    assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] == 0
    made = _new(client, name="Coop Draft", city="Lyon")
    assert made.status_code == 302
    org = db.execute("SELECT id, slug, status, source FROM organisations").fetchone()
    assert org[2:] == ("draft", "staff")  # a draft unless published is chosen
    assert client.get(f"/organisations/{org[1]}").status_code == 404
    assert "created by staff" in client.get("/admin").get_data(as_text=True)
    assert "created by staff" in client.get(made.headers["Location"]).get_data(as_text=True)


def test_hostile_text_in_a_new_organisation_is_inert_on_its_public_page(client, db, staff):
    sign_in(client, "admin@example.org")
    made = _new(client, name=HOSTILE, description=HOSTILE, city=HOSTILE, status="published", lat="45.76", lon="4.84",
                description_fr=HOSTILE)
    assert made.status_code == 302
    slug = db.execute("SELECT slug FROM organisations").fetchone()[0]
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and "${7*7}" in page and ">49<" not in page
    assert 'href="javascript:' not in page


def test_a_partner_editor_adds_organisations_only_in_their_part(app, db):
    accounts.create_user(db, "admin@example.org", PASSWORD, "admin")
    partner, _ = accounts.create_user(db, "partner@example.org", PASSWORD, "editor")
    accounts.set_moderation_scope(db, partner.id, "PL", "")
    client = app.test_client()
    sign_in(client, "partner@example.org")
    outside = _new(client, name="Coop Lyon", country="FR", status="published")
    assert outside.status_code == 403 and "PL" in outside.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] == 0
    assert _new(client, name="Spółdzielnia", country="PL").status_code == 302
    assert db.execute("SELECT country FROM organisations").fetchone()[0] == "PL"


def test_visitors_are_sent_to_sign_in_first(client):
    assert client.get("/admin/account").status_code == 302  # to the sign-in page
    assert client.get("/admin/organisations/new").status_code == 302


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_moderator_who_had_a_digest_lately_gets_the_next_when_the_hour_is_up(db_path, db, staff, tmp_path, smtp,
                                                                              worker_for):
    app = _app(db_path, tmp_path, smtp)
    last = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    db.execute("UPDATE users SET last_moderation_digest_at = ?", [last.isoformat()])
    _cid, token = _waiting(db, "Coop Later", "FR", confirmed=False)
    client = app.test_client()
    page = client.get(f"/contribute/confirm/{token}").get_data(as_text=True)
    client.post(f"/contribute/confirm/{token}", data={"csrf_token": csrf_from(page)})
    queue = app.extensions["mapapp.jobs"]
    with worker_for(app):
        _until(lambda: queue.state("moderation", "digest")["state"] == "done"
               and queue.huey.scheduled_count() == 1, "the digest job and its next run")
    assert smtp.box.messages == []  # not within the hour
    [planned] = queue.huey.scheduled()
    due = (last + notify.DIGEST_EVERY).timestamp()
    assert due <= planned.eta.replace(tzinfo=timezone.utc).timestamp() <= due + 60
