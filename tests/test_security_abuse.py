"""Abuse of the catalogue's ids, of odd characters and of the contribution and subscription
forms (issue #24): each test replays what an attacker did and checks what they would see."""

from __future__ import annotations

import feedparser
import pytest
from support import form_fields, make_org, proof_of_work, sign_in

from mapapp import catalogue, create_app
from mapapp.contributing import flow, owners
from mapapp.importing import importer
from mapapp.mapdata.geocode import Chain

NONCHARACTERS = "\ufffe\uffff\ufdd0\U0001fffe\x00\x1b"


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


# -- ids are never given twice ---------------------------------------------------------


def test_an_old_edit_link_does_not_open_the_organisation_created_after_a_deletion(db):
    mine = make_org(db, "Attacker's Coop", email="me@example.org")
    link = owners.link_token(db, "test", mine.id)  # the owner's edit link, kept
    with catalogue.write_transaction(db):
        catalogue.audit.record(db, "admin@example.org", "edit", mine.id, None, None)
        catalogue.delete_organisation(db, mine.id)
    honest = make_org(db, "Honest Coop")
    assert honest.id != mine.id
    with pytest.raises(flow.LinkError):
        owners.organisation_of(db, "test", link, 30)
    assert catalogue.audit.entries(db, organisation_id=honest.id) == []  # not the deleted one's history


# -- characters no text may hold -----------------------------------------------------------


def test_a_stored_noncharacter_does_not_break_the_atom_feed(db, site):
    make_org(db, "Plain Coop", description="Bread.")
    make_org(db, "Odd Coop", description="Bread.")
    # Stored before input was cleaned: straight into the catalogue.
    db.execute("UPDATE organisations SET name = ?, description = ?, city = ? WHERE name = 'Odd Coop'",
               [f"Odd{NONCHARACTERS} Coop", f"Fresh{NONCHARACTERS} bread", f"Ly{NONCHARACTERS}on"])
    response = site.test_client().get("/feed.atom")
    assert response.status_code == 200
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert sorted(e.title for e in feed.entries) == ["Odd Coop", "Plain Coop"]
    assert any("Fresh bread" in e.summary and "Lyon" in e.summary for e in feed.entries)


def test_the_importer_strips_noncharacters_and_controls(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(f"name,city,description\nCoop{NONCHARACTERS} One,Ly{NONCHARACTERS}on,"
                    f"\"Line one{NONCHARACTERS}\nLine two\tend &#xFFFE;\"\n", encoding="utf-8")
    chain = Chain.from_config("provided", db, user_agent="")
    report = importer.import_file(db, path, importer.Options(geocode=False), chain)
    assert report.counts["created"] == 1, report.issues
    [row] = db.execute("SELECT name, city, description FROM organisations").fetchall()
    assert row == ("Coop One", "Lyon", "Line one\nLine two end")


def test_the_contribution_form_strips_noncharacters(db, smtp):
    from mapapp.mail import Mailer

    settings = flow.Settings(secret="s", site="Test map", per_hour=5, confirm_hours=48,
                             mailer=Mailer("Test map <noreply@example.org>", smtp.url),
                             link=lambda endpoint, values: "http://127.0.0.1/x")
    cid = flow.submit(db, flow.Submission(kind="new", raw={"name": f"Velo{NONCHARACTERS} Coop", "city": "Lyon",
                                                            "country": "FR", "description": f"We{NONCHARACTERS} fix"},
                                          contact="ana@example.org", lang="en", client="c1",
                                          proof=proof_of_work("s")), settings)
    values = catalogue.contributions.contribution(db, cid)["proposal"]["values"]
    assert values["name"] == "Velo Coop" and values["description"] == "We fix"


def test_the_staff_form_strips_noncharacters(app, db, staff):
    org = make_org(db, "Staff Coop")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    url = f"/admin/organisations/{org.id}/edit"
    data = form_fields(client.get(url).get_data(as_text=True))
    saved = client.post(url, data={**data, "name": f"Staff{NONCHARACTERS} Coop",
                                   "description": f"Line{NONCHARACTERS}\nTwo", "action": "save"})
    assert saved.status_code == 302
    assert db.execute("SELECT name, description FROM organisations WHERE id = ?", [org.id]).fetchone() == (
        "Staff Coop", "Line\nTwo")


# -- limits per recipient and per connection ---------------------------------------------------


def _settings(smtp, **changes) -> flow.Settings:
    from mapapp.mail import Mailer

    return flow.Settings(**{"secret": "s", "site": "Test map", "per_hour": 2, "confirm_hours": 48,
                            "mailer": Mailer("Test map <noreply@example.org>", smtp.url),
                            "link": lambda endpoint, values: "http://127.0.0.1/x", **changes})


def _contribution(contact: str, client: str, **raw) -> flow.Submission:
    return flow.Submission(kind="new", raw={"name": "Velo Coop", "city": "Lyon", "country": "FR", **raw},
                           contact=contact, lang="en", client=client, proof=proof_of_work("s"))


def test_one_mailbox_gets_no_more_confirmations_than_the_limit_however_its_address_is_written(db, smtp):
    s = _settings(smtp)
    flow.submit(db, _contribution("victim@example.org", "c1"), s)
    flow.submit(db, _contribution("Victim+a@Example.org", "c2"), s)
    with pytest.raises(flow.Refused, match="this e-mail address"):
        flow.submit(db, _contribution("VICTIM+b@example.ORG", "c3"), s)
    assert len(smtp.box.wait(2)) == 2


def test_one_ipv6_network_is_one_connection_for_the_limits(db, smtp):
    from mapapp.contributing import antispam

    s = _settings(smtp)
    for n, address in enumerate(("2001:db8:5:7::1", "2001:db8:5:7:aaaa::2")):
        flow.submit(db, _contribution(f"person{n}@example.org", antispam.client_key(address, "s")), s)
    with pytest.raises(flow.Refused, match="your connection"):
        flow.submit(db, _contribution("third@example.org", antispam.client_key("2001:db8:5:7:ffff::3", "s")), s)
    # Another /64 is another subscriber.
    flow.submit(db, _contribution("fourth@example.org", antispam.client_key("2001:db8:5:8::1", "s")), s)


def test_web_addresses_in_the_name_count_towards_the_limit(db, smtp):
    with pytest.raises(flow.Refused) as refused:
        flow.submit(db, _contribution("ana@example.org", "c1", name="Cheap pills www.pills.example https://pills.example",
                                      description="See https://more.example"), _settings(smtp))
    assert "web addresses" in str(refused.value.problems["description"])


def test_one_mailbox_holds_only_a_few_subscriptions(db, smtp):
    from mapapp.contributing import antispam, subscriptions

    s = _settings(smtp, per_hour=100)
    for n in range(antispam.SUBSCRIPTIONS_PER_ADDRESS):
        subscriptions.subscribe(db, email=f"Victim+{n}@example.org", lang="en", query="", frequency="daily",
                                client=f"c{n}", proof=proof_of_work("s"), settings=s)
    with pytest.raises(flow.Refused) as refused:
        subscriptions.subscribe(db, email="victim@EXAMPLE.org", lang="en", query="", frequency="weekly",
                                client="another", proof=proof_of_work("s"), settings=s)
    assert "subscriptions" in str(refused.value.problems["email"])
    assert len(smtp.box.wait(antispam.SUBSCRIPTIONS_PER_ADDRESS)) == antispam.SUBSCRIPTIONS_PER_ADDRESS


# -- what was never confirmed is not kept ---------------------------------------------------


def test_unconfirmed_contributions_and_subscriptions_are_purged_after_the_window(app, db, smtp):
    from mapapp.contributing import subscriptions

    s = _settings(smtp, per_hour=100)
    stale = flow.submit(db, _contribution("stale@example.org", "c1"), s)
    confirmed = flow.submit(db, _contribution("kept@example.org", "c2"), s)
    db.execute("UPDATE contributions SET state = 'pending', token_hash = NULL, token_expires_at = NULL WHERE id = ?",
               [confirmed])
    subscriptions.subscribe(db, email="stale@example.org", lang="en", query="", frequency="daily", client="c3",
                            proof=proof_of_work("s"), settings=s)
    subscriptions.subscribe(db, email="kept@example.org", lang="en", query="", frequency="daily", client="c4",
                            proof=proof_of_work("s"), settings=s)
    db.execute("UPDATE subscriptions SET state = 'active', token_hash = NULL, token_expires_at = NULL"
               " WHERE email = 'kept@example.org'")
    fresh = flow.submit(db, _contribution("fresh@example.org", "c5"), s)
    # The window passes for everything still waiting.
    db.execute("UPDATE contributions SET token_expires_at = '2020-01-01T00:00:00+00:00' WHERE state = 'unconfirmed'")
    db.execute("UPDATE subscriptions SET token_expires_at = '2020-01-01T00:00:00+00:00' WHERE state = 'unconfirmed'")
    db.execute("UPDATE contributions SET token_expires_at = '2999-01-01T00:00:00+00:00' WHERE id = ?", [fresh])

    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "1 unconfirmed contribution(s) and 1 unconfirmed subscription(s)" in result.output
    assert [r[0] for r in db.execute("SELECT email FROM contributions ORDER BY id")] == [
        "kept@example.org", "fresh@example.org"]
    assert [r[0] for r in db.execute("SELECT email FROM subscriptions")] == ["kept@example.org"]
    assert stale not in [r[0] for r in db.execute("SELECT id FROM contributions")]


def test_a_new_contribution_purges_the_expired_unconfirmed_ones(db, smtp):
    s = _settings(smtp, per_hour=100)
    flow.submit(db, _contribution("stale@example.org", "c1"), s)
    db.execute("UPDATE contributions SET token_expires_at = '2020-01-01T00:00:00+00:00'")
    flow.submit(db, _contribution("next@example.org", "c2"), s)
    assert [r[0] for r in db.execute("SELECT email FROM contributions")] == ["next@example.org"]
