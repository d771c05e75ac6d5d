"""Attacks on the links the site e-mails (issue #24): links built from a forged Host or
X-Forwarded-Host, a secret key per process, "Is this your organisation?" as a mail
cannon, edit links that outlive the address they were sent to, tokens left in logs and
caches."""

from __future__ import annotations

from pathlib import Path

import altcha
from smtp_box import links_in
from support import csrf_from, make_org

from mapapp import catalogue, create_app

ATTACKER = "attacker.example:8080"


def site(db_path, tmp_path, **config):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "OUTBOX_DIR": str(tmp_path / "outbox"),
                       "ALTCHA_COST": 10, **config})


def proof(client) -> str:
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def ask_for_edit_link(client, slug: str, headers: dict | None = None, lang: str = "en"):
    page = client.get(f"/organisations/{slug}/owner-link?lang={lang}", headers=headers or {}).get_data(as_text=True)
    return client.post(f"/organisations/{slug}/owner-link?lang={lang}", headers=headers or {},
                       data={"csrf_token": csrf_from(page), "altcha": proof(client)})


def an_organisation(db, name="Bread Coop", email="hello@bread.example.org") -> str:
    org = make_org(db, name, email=email)
    return catalogue.organisation_by_id(db, org.id)["slug"]


def outbox_links(tmp_path: Path) -> list[str]:
    import email
    import email.policy

    out = []
    for path in sorted((tmp_path / "outbox").glob("*.eml")):
        out += links_in(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return out


# HIGH: links in messages come from MAPAPP_PUBLIC_URL, never from the request.

def test_a_forged_host_gets_no_edit_link_mailed_and_the_visitor_is_told_why_in_their_language(
        db_path, db, tmp_path, smtp):
    slug = an_organisation(db)
    client = site(db_path, tmp_path, SMTP_URL=smtp.url).test_client()  # real mail, no MAPAPP_PUBLIC_URL
    answer = ask_for_edit_link(client, slug, {"Host": ATTACKER}, lang="fr")
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "MAPAPP_PUBLIC_URL" in page and "ce site ne peut pas envoyer" in page.lower()
    assert smtp.box.messages == []  # sent synchronously: nothing went out, to anyone


def test_a_forged_host_cannot_steer_the_links_when_the_public_address_is_set(db_path, db, tmp_path, smtp):
    slug = an_organisation(db)
    client = site(db_path, tmp_path, SMTP_URL=smtp.url, PUBLIC_URL="https://map.example.org/").test_client()
    assert ask_for_edit_link(client, slug, {"Host": ATTACKER}).status_code == 200
    [mail] = smtp.box.wait(1)
    [link] = [u for u in links_in(mail) if "/owner/" in u]
    assert link.startswith("https://map.example.org/owner/")


def test_a_subscription_and_a_contribution_with_a_forged_host_send_nothing(db_path, db, tmp_path, smtp):
    client = site(db_path, tmp_path, SMTP_URL=smtp.url).test_client()
    page = client.get("/subscribe", headers={"Host": ATTACKER}).get_data(as_text=True)
    answer = client.post("/subscribe", headers={"Host": ATTACKER}, data={
        "csrf_token": csrf_from(page), "email": "lea@example.org", "frequency": "daily", "altcha": proof(client)})
    assert answer.status_code == 503 and "MAPAPP_PUBLIC_URL" in answer.get_data(as_text=True)
    page = client.get("/contribute", headers={"Host": ATTACKER}).get_data(as_text=True)
    answer = client.post("/contribute", headers={"Host": ATTACKER}, data={
        "csrf_token": csrf_from(page), "name": "Vélo Coop", "city": "Lyon", "country": "FR",
        "contact": "ana@example.org", "altcha": proof(client)})
    assert answer.status_code == 503
    assert smtp.box.messages == []


def test_a_clients_own_x_forwarded_host_is_not_believed_behind_a_proxy(db_path, db, tmp_path):
    slug = an_organisation(db)
    app = site(db_path, tmp_path, TRUSTED_PROXIES=1)  # outbox mode: links to MAPAPP_HOST:MAPAPP_PORT
    client = app.test_client()
    forged = {"X-Forwarded-Host": ATTACKER, "X-Forwarded-For": "203.0.113.9"}
    assert ask_for_edit_link(client, slug, forged).status_code == 200
    [link] = [u for u in outbox_links(tmp_path) if "/owner/" in u]
    assert link.startswith("http://127.0.0.1:5000/owner/")
    assert "attacker.example" not in client.get("/embed.js", headers=forged).get_data(as_text=True)


def test_a_proxy_that_sets_the_host_itself_can_be_believed_when_the_operator_says_so(db_path, tmp_path):
    app = site(db_path, tmp_path, TRUSTED_PROXIES=1, TRUSTED_FORWARDED_HOST=1)
    body = app.test_client().get("/embed.js", headers={"X-Forwarded-Host": "map.example.org"}).get_data(as_text=True)
    assert "map.example.org" in body


def test_the_command_line_refuses_to_mail_digests_or_reminders_without_the_public_address(db_path, db, tmp_path,
                                                                                         smtp):
    make_org(db, "Stale Coop", email="stale@example.org")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00'")
    runner = site(db_path, tmp_path, SMTP_URL=smtp.url).test_cli_runner()
    for args in (["remind-owners"], ["send-digests", "--frequency", "daily"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, result.output
        assert "set MAPAPP_PUBLIC_URL to the site's address, e.g. https://" in result.output
    assert smtp.box.messages == []


def test_the_command_line_links_to_the_public_address_under_its_path(db_path, db, tmp_path, smtp):
    make_org(db, "Stale Coop", email="stale@example.org")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00'")
    runner = site(db_path, tmp_path, SMTP_URL=smtp.url, PUBLIC_URL="https://example.org/map").test_cli_runner()
    assert "1 reminder(s) sent" in runner.invoke(args=["remind-owners"]).output
    [mail] = smtp.box.wait(1)
    assert [u for u in links_in(mail) if u.startswith("https://example.org/map/owner/")]


# MEDIUM: without MAPAPP_SECRET_KEY, every worker signs with one key kept in the data folder.

def test_workers_without_a_configured_key_share_one_kept_key(db_path, tmp_path, monkeypatch):
    import stat

    from mapapp import config

    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "data")
    workers = [create_app({"DATABASE": str(db_path), "SECRET_KEY": "", "CACHE_DIR": str(tmp_path / "cache")})
               for _ in range(2)]
    assert workers[0].config["SECRET_KEY"] == workers[1].config["SECRET_KEY"]
    kept = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    first, second = (w.test_client() for w in workers)
    page = first.get("/contribute").get_data(as_text=True)  # the form's token is signed by the first worker
    second.set_cookie("session", first.get_cookie("session").value)
    answer = second.post("/contribute", data={"csrf_token": csrf_from(page), "name": "x"}).get_data(as_text=True)
    assert "CSRF" not in answer and 'name="contact"' in answer  # the form again, saying what to fill in


def test_workers_starting_at_once_agree_on_the_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from mapapp import secretkey

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secretkey.kept_key(tmp_path / "data"), range(16)))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]  # no drafts left behind


# MEDIUM: "Is this your organisation?" is no mail cannon.

def mailing_site(db_path, tmp_path, smtp, **config):
    return site(db_path, tmp_path, SMTP_URL=smtp.url, PUBLIC_URL="https://map.example.org", **config)


def test_concurrent_requests_for_one_organisation_send_one_link(db_path, db, tmp_path, smtp):
    import threading

    slug = an_organisation(db)
    app = mailing_site(db_path, tmp_path, smtp)
    ready = []
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        page = client.get(f"/organisations/{slug}/owner-link").get_data(as_text=True)
        ready.append((client, {"csrf_token": csrf_from(page), "altcha": proof(client)}))
    start, answers = threading.Barrier(len(ready)), []

    def ask(client, form):
        start.wait()
        answers.append(client.post(f"/organisations/{slug}/owner-link", data=form).status_code)

    threads = [threading.Thread(target=ask, args=pair) for pair in ready]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 429, 429, 429]
    assert len(smtp.box.messages) == 1  # each answer came after its mail was handed over


def test_one_client_cannot_mail_organisation_after_organisation(db_path, db, tmp_path, smtp):
    slugs = [an_organisation(db, f"Coop {n}", f"coop{n}@example.org") for n in range(3)]
    client = mailing_site(db_path, tmp_path, smtp, OWNER_LINKS_PER_CLIENT=2).test_client()
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::10"
    assert [ask_for_edit_link(client, s).status_code for s in slugs[:2]] == [200, 200]
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::99"  # another address of the same /64
    answer = ask_for_edit_link(client, slugs[2])
    assert answer.status_code == 429 and "too many edit links" in answer.get_data(as_text=True)
    assert len(smtp.box.messages) == 2


def test_the_whole_site_sends_a_bounded_number_of_edit_links_an_hour(db_path, db, tmp_path, smtp):
    slugs = [an_organisation(db, f"Coop {n}", f"coop{n}@example.org") for n in range(3)]
    app = mailing_site(db_path, tmp_path, smtp, OWNER_LINKS_PER_HOUR=2)
    answers = []
    for n, slug in enumerate(slugs):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        answers.append(ask_for_edit_link(client, slug).status_code)
    assert answers == [200, 200, 429]
    assert len(smtp.box.messages) == 2


# LOW: an edit link is bound to the address it went to; tokens stay out of logs and caches.

def test_an_edit_link_dies_when_the_organisation_changes_its_email(db_path, db, tmp_path, smtp):
    from urllib.parse import urlsplit

    slug = an_organisation(db)
    client = mailing_site(db_path, tmp_path, smtp).test_client()
    ask_for_edit_link(client, slug)
    [mail] = smtp.box.wait(1)
    path = urlsplit([u for u in links_in(mail) if "/owner/" in u][0]).path
    assert client.get(path).status_code == 200
    db.execute("UPDATE organisations SET email = 'new-owner@bread.example.org' WHERE slug = ?", [slug])
    answer = client.get(path)
    assert answer.status_code == 410 and "no longer has" in answer.get_data(as_text=True)


def test_the_outbox_console_shows_links_without_their_tokens(db_path, db, tmp_path, caplog):
    slug = an_organisation(db)
    client = site(db_path, tmp_path).test_client()  # no mail server: the outbox
    with caplog.at_level("WARNING", logger="mapapp.mail"):
        assert ask_for_edit_link(client, slug).status_code == 200
    [link] = [u for u in outbox_links(tmp_path) if "/owner/" in u]  # the .eml keeps it whole
    token = link.rsplit("/", 1)[1]
    console = "\n".join(r.getMessage() for r in caplog.records)
    assert "/owner/" in console and token not in console and token[:4] + "…" in console


def test_token_pages_are_not_cached_nor_logged_whole(db_path, db, tmp_path, caplog, live_server_for):
    import urllib.request

    from mapapp.contributing import owners

    org = make_org(db, "Bread Coop", email="hello@bread.example.org")
    app = site(db_path, tmp_path)
    token = owners.link_token(db, "test", org.id)
    client = app.test_client()
    for path in (f"/owner/{token}", "/contribute/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg",
                 "/subscribe/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg", "/unsubscribe/AbCdEfGhIjKlMnOpQr"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store", path
        assert answer.headers["Referrer-Policy"] == "no-referrer", path
    with caplog.at_level("INFO", logger="werkzeug"), live_server_for(app) as server:
        with urllib.request.urlopen(f"{server.url}/owner/{token}") as answer:
            assert answer.status == 200
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "GET /owner/" in logged and token not in logged


def test_the_embed_script_and_oembed_answer_with_the_public_address_whatever_the_host(app, client):
    # A cache in front keys on the path: an answer built from a forged Host would be kept for
    # every partner site, pointing their frames at the attacker.
    app.config["PUBLIC_URL"] = "https://map.example.org"
    script = client.get("/embed.js", headers={"Host": "attacker.example:8080"}).get_data(as_text=True)
    assert "https://map.example.org" in script and "attacker.example" not in script
    answer = client.get("/oembed?url=https://map.example.org/%3Fcountry%3DFR",
                        headers={"Host": "attacker.example:8080"}).get_json()
    assert 'src="https://map.example.org/embed?' in answer["html"]
    assert answer["provider_url"] == "https://map.example.org/"
    assert "attacker.example" not in str(answer)
