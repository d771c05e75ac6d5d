"""'Tell me about new organisations here': the form keeps the map's filters and area, the
e-mailed link confirms, digests list what is new there (and only there), and every digest
stops the subscription in one click (RFC 8058), without a session or a form token."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import altcha
import pytest
from smtp_box import links_in, text_of
from support import csrf_from, make_org

from mapapp import create_app


@pytest.fixture
def site(db_path, tmp_path, smtp):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c"),
                       "SMTP_URL": smtp.url, "ALTCHA_COST": 10, "PUBLIC_URL": "https://map.example.org"})


def subscribe(client, query, email="sub@example.org", frequency="daily"):
    page = client.get(f"/subscribe?{query}").get_data(as_text=True)
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    return client.post(f"/subscribe?{query}", data={"csrf_token": csrf_from(page), "email": email,
                                                    "frequency": frequency, "altcha": proof})


def test_a_digest_lists_what_is_new_in_the_view_and_stops_in_one_click(site, db, smtp):
    make_org(db, "Old Italian Coop", country="IT", lat=41.9, lon=12.5)
    client = site.test_client()
    assert subscribe(client, "country=IT&bbox=6,36,19,47&lang=it").status_code == 200
    [mail] = smtp.box.wait(1)
    assert "Confermate" in mail["Subject"]
    path = urlsplit([u for u in links_in(mail) if "/subscribe/confirm/" in u][0]).path
    client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    runner = site.test_cli_runner()
    assert "0 digest(s) sent" in runner.invoke(args=["send-digests", "--frequency", "daily"]).output  # nothing new
    make_org(db, "Nuova Cooperativa Roma", country="IT", lat=41.9, lon=12.5)
    make_org(db, "Coop in Lyon", country="FR", lat=45.7, lon=4.8)  # another country
    make_org(db, "Cooperativa Argentina", country="IT", lat=-34.6, lon=-58.4)  # outside the area
    db.execute("UPDATE subscriptions SET last_sent_at = ?",
               [(datetime.now(timezone.utc) - timedelta(days=1, minutes=1)).isoformat(timespec="seconds")])
    db.execute("UPDATE organisations SET created_at = ? WHERE name = 'Old Italian Coop'", ["2020-01-01T00:00:00+00:00"])
    result = runner.invoke(args=["send-digests", "--frequency", "daily"])
    assert "1 digest(s) sent" in result.output, result.output
    digest = smtp.box.wait(2)[1]
    body = text_of(digest)
    assert "Nuova Cooperativa Roma" in body
    assert "Coop in Lyon" not in body and "Argentina" not in body and "Old Italian" not in body
    unsubscribe = digest["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith("https://map.example.org/unsubscribe/")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = client.application.test_client()  # a mail program: no session, no token
    response = one_click.post(urlsplit(unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0
    assert "already stopped" in one_click.post(urlsplit(unsubscribe).path).get_data(as_text=True)


def test_bad_input_and_an_unconfirmed_subscription_get_nothing(site, db, smtp):
    client = site.test_client()
    response = subscribe(client, "country=IT", email="not an address")
    assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.get("/subscribe?bbox=1,2").status_code == 400
    subscribe(client, "country=IT")
    make_org(db, "Nuova Cooperativa", country="IT")
    assert "0 digest(s) sent" in site.test_cli_runner().invoke(args=["send-digests", "--frequency", "daily"]).output
    assert len(smtp.box.messages) == 1  # only the confirmation


def test_a_digest_keeps_the_views_field_filter(site, db, smtp):
    """A view filtered by a field of the network's own (``f-epv-label=yes``) gets only the new
    organisations holding it (the digest ignored f-<slug> and listed every new one)."""
    from mapapp import kinds
    from mapapp.catalogue import fields as field_store
    from mapapp.fields import Field

    field_store.create_field(db, Field(id=0, slug="epv-label", type="yes_no", labels={"en": "EPV label"}, filter=True))
    client = site.test_client()
    assert subscribe(client, "f-epv-label=yes&lang=en").status_code == 200
    [mail] = smtp.box.wait(1)
    path = urlsplit([u for u in links_in(mail) if "/subscribe/confirm/" in u][0]).path
    client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    assert "f-epv-label=yes" in db.execute("SELECT query FROM subscriptions").fetchone()[0]
    field_store.set_values(db, make_org(db, "Labelled Workshop").id, {"epv-label": ["yes"]})
    field_store.set_values(db, make_org(db, "Unlabelled Workshop").id, {"epv-label": ["no"]})
    db.execute("UPDATE subscriptions SET last_sent_at = ?",
               [(datetime.now(timezone.utc) - timedelta(days=1, minutes=1)).isoformat(timespec="seconds")])
    kinds.use_fields(None)  # as in the command's own process: no request has read the fields
    result = site.test_cli_runner().invoke(args=["send-digests", "--frequency", "daily"])
    assert "1 digest(s) sent" in result.output, result.output
    body = text_of(smtp.box.wait(2)[1])
    assert "Labelled Workshop" in body and "Unlabelled Workshop" not in body


def test_a_view_whose_category_was_retired_does_not_stop_the_other_digests(site, db, smtp):
    """A subscription whose view names a category staff retired since is read without it;
    the run goes on to the others (it stopped at the first, sending nobody anything)."""
    from test_map_categories import add_category

    from mapapp.catalogue import categories

    add_category(db, "plumbing", labels={"en": "Plumbing"})
    db.conn.commit()
    client = site.test_client()
    views = (("a@example.org", "theme=plumbing&lang=en"), ("b@example.org", "country=FR&lang=en"),
             ("c@example.org", "theme=plumbing,AM40&lang=en"))
    for n, (email, query) in enumerate(views, start=1):
        assert subscribe(client, query, email=email).status_code == 200
        mail = smtp.box.wait(n)[-1]
        path = urlsplit([u for u in links_in(mail) if "/subscribe/confirm/" in u][0]).path
        client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    plumbing = db.execute("SELECT id FROM categories WHERE code = 'plumbing'").fetchone()[0]
    categories.retire(db, plumbing, user_email="admin@example.org")
    make_org(db, "Nouvelle Coop", country="FR")
    make_org(db, "Scuola Nuova", country="IT", themes=["AM40"])
    db.execute("UPDATE subscriptions SET last_sent_at = ?",
               [(datetime.now(timezone.utc) - timedelta(days=1, minutes=1)).isoformat(timespec="seconds")])
    result = site.test_cli_runner().invoke(args=["send-digests", "--frequency", "daily"])
    assert result.exit_code == 0, result.output
    assert "2 digest(s) sent" in result.output  # not a's: its only category is gone
    sent = {m["To"]: text_of(m) for m in smtp.box.wait(5)[3:]}
    assert "Nouvelle Coop" in sent["b@example.org"] and "Scuola Nuova" not in sent["b@example.org"]
    assert "Scuola Nuova" in sent["c@example.org"] and "Nouvelle Coop" not in sent["c@example.org"]
