"""Personal data, built in (issue #26): retention enforced by the job worker and by `mapapp
purge`, an address's data found, downloaded and erased by admins (audited without the address),
and organisations' e-mail and phone kept out of bulk exports unless staff choose otherwise."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone

from support import csrf_from, make_org, sign_in

from mapapp import catalogue
from mapapp.catalogue import contributions, subscriptions
from mapapp.contributing import purge

PAGE = "/admin/personal-data"


def _ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat(timespec="seconds")


def _contribution(db, email: str, name: str = "Velo Coop", *, client: str = "client-hash") -> int:
    with catalogue.write_transaction(db):
        return contributions.add_contribution(
            db, kind="new", organisation_id=None, proposal={"name": name, "city": "Lyon", "country": "FR"}, note="",
            email=email, lang="en", token_hash=None, token_expires_at=None, client=client, country="FR", project=None)


def _decided(db, email: str, days_ago: int, name: str = "Velo Coop") -> int:
    cid = _contribution(db, email, name)
    with catalogue.write_transaction(db):
        contributions.confirm_contribution(db, cid)
        contributions.decide_contribution(db, cid, "rejected", by="admin@example.org", reason="duplicate")
    db.execute("UPDATE contributions SET decided_at = ?, created_at = ? WHERE id = ?",
               [_ago(days=days_ago), _ago(days=days_ago + 1), cid])
    return cid


def _subscription(db, email: str) -> int:
    with catalogue.write_transaction(db):
        sid = subscriptions.add_subscription(db, email=email, lang="en", query="country=FR", frequency="weekly",
                                             token_hash=None, token_expires_at=None,
                                             unsubscribe_key=f"key-{email}", client="c")
    db.execute("UPDATE subscriptions SET state = 'active' WHERE id = ?", [sid])
    return sid


def _emails(db) -> dict[int, str]:
    return dict(db.execute("SELECT id, email FROM contributions"))


# -- retention ---------------------------------------------------------------------------


def test_mapapp_purge_forgets_the_author_of_contributions_decided_longer_ago_than_the_retention(app, db):
    old = _decided(db, "old@example.org", days_ago=91)
    recent = _decided(db, "recent@example.org", days_ago=10, name="Recent Coop")
    pending = _contribution(db, "waiting@example.org", "Waiting Coop")
    with catalogue.write_transaction(db):
        contributions.confirm_contribution(db, pending)

    result = app.test_cli_runner().invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert "the author's e-mail removed from 1 decided contribution(s)" in result.output
    assert _emails(db) == {old: "", recent: "recent@example.org", pending: "waiting@example.org"}
    kept = contributions.contribution(db, old)
    assert kept["state"] == "rejected" and kept["proposal"]["name"] == "Velo Coop"  # the history stays


def test_the_retention_in_days_is_a_setting(app, db):
    cid = _decided(db, "ten@example.org", days_ago=10)
    app.config["RETENTION_DAYS"] = 7
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    assert _emails(db) == {cid: ""}


def test_rate_limit_rows_older_than_their_window_are_gone(db):
    org = make_org(db, "Limited Coop")
    now = time.time()
    db.execute("INSERT INTO login_failures VALUES ('account:old@example.org', 4, ?), ('address:10.0.0.9', 1, ?)",
               [now - 2 * 86400, now - 60])
    db.execute("INSERT INTO used_challenges VALUES ('spent', ?), ('live', ?)", [int(now) - 10, int(now) + 600])
    db.execute("INSERT INTO owner_link_requests (organisation_id, client, requested_at) VALUES (?, 'a', ?), (?, 'b', ?)",
               [org.id, _ago(days=2), org.id, _ago(minutes=5)])
    old, fresh = _contribution(db, "a@example.org", client="old-client"), _contribution(db, "b@example.org", client="new")
    db.execute("UPDATE contributions SET created_at = ? WHERE id = ?", [_ago(days=2), old])

    done = purge.enforce_retention(db, retention_days=90)

    assert [r[0] for r in db.execute("SELECT key FROM login_failures")] == ["address:10.0.0.9"]
    assert [r[0] for r in db.execute("SELECT signature FROM used_challenges")] == ["live"]
    assert [r[0] for r in db.execute("SELECT client FROM owner_link_requests")] == ["b"]
    assert dict(db.execute("SELECT id, client FROM contributions")) == {old: "", fresh: "new"}
    assert done.rate_limits == {"login_failures": 1, "used_challenges": 1, "owner_link_requests": 1, "client_hashes": 1}


def test_the_job_worker_enforces_the_retention(app, db, worker):
    cid = _decided(db, "worker@example.org", days_ago=120)
    queue = app.extensions["mapapp.jobs"]
    queue.retention()
    deadline = time.monotonic() + 20
    while (queue.state("retention", "catalogue") or {}).get("state") != "done":
        assert time.monotonic() < deadline, queue.state("retention", "catalogue")
        time.sleep(0.05)
    assert _emails(db) == {cid: ""}
    assert "e-mail removed from 1 decided contribution(s)" in queue.state("retention", "catalogue")["message"]


# -- access and erasure -----------------------------------------------------------------


def _ana(db):
    org = make_org(db, "Ana's Bakery", email="Ana@Example.org", phone="+33 1 23 45 67 89")
    cid = _contribution(db, "ana+map@example.org", "Ana's Garden")
    with catalogue.write_transaction(db):
        contributions.confirm_contribution(db, cid)  # waiting for a moderator
    sid = _subscription(db, "ANA@example.org")
    make_org(db, "Other Coop", email="bob@example.org")
    _subscription(db, "bob@example.org")
    return org, cid, sid


def _admin(app, who="admin@example.org"):
    client = app.test_client()
    sign_in(client, who)
    return client, csrf_from(client.get(PAGE + "?lang=en").get_data(as_text=True))


def test_the_access_export_lists_what_is_held_about_an_address_however_it_is_written(app, db, staff):
    org, cid, sid = _ana(db)
    client, token = _admin(app)

    shown = client.post(PAGE + "?lang=en", data={"csrf_token": token, "email": "ana+other@EXAMPLE.ORG"})
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Ana&#39;s Garden" in page and "Ana&#39;s Bakery" in page and "country=FR" in page
    assert "bob@example.org" not in page and "Other Coop" not in page

    download = client.post(PAGE + "/export", data={"csrf_token": token, "email": "ana+other@EXAMPLE.ORG"})
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    held = json.loads(download.data)
    assert [c["id"] for c in held["contributions"]] == [cid]
    assert [s["id"] for s in held["subscriptions"]] == [sid]
    assert [(o["id"], o["email"]) for o in held["organisations"]] == [(org.id, "Ana@Example.org")]
    audit = db.execute("SELECT action, after FROM audit_log WHERE action = 'personal-data-exported'").fetchone()
    assert audit is not None and "ana" not in audit[1].lower()


def test_erasure_removes_it_and_the_audit_log_does_not_name_the_address(app, db, staff):
    org, cid, sid = _ana(db)
    # An earlier edit's snapshot holds the address too: no Undo may bring it back.
    with catalogue.write_transaction(db):
        catalogue.audit.record(db, "editor@example.org", "edit", org.id, {"values": {"email": "Ana@Example.org"}},
                               {"values": {"email": "Ana@Example.org", "phone": "+33 1 23 45 67 89"}})
    client, token = _admin(app)

    erased = client.post(PAGE + "/erase", data={"csrf_token": token, "email": "Ana@example.org",
                                                "organisations": "yes"})
    assert erased.status_code == 302
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "1 contribution(s), 1 subscription(s), 1 organisation e-mail(s)" in page

    assert contributions.contribution(db, cid)["email"] == ""  # the contribution stays, for the history
    assert db.execute("SELECT count(*) FROM subscriptions WHERE id = ?", [sid]).fetchone()[0] == 0
    assert db.execute("SELECT email FROM organisations WHERE id = ?", [org.id]).fetchone()[0] == ""
    assert "Ana@Example.org" not in client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    log = json.dumps(db.execute("SELECT user_email, action, before, after FROM audit_log").fetchall())
    assert "ana@" not in log.lower() and "ana+" not in log.lower()
    summary = db.execute("SELECT after FROM audit_log WHERE action = 'personal-data-erased'").fetchone()[0]
    assert {k: v for k, v in json.loads(summary).items() if k != "ref"} == {
        "contributions": 1, "subscriptions": 1, "organisations": 1, "traces": 0}
    history = client.get(f"/admin/organisations/{org.id}/edit?lang=en").get_data(as_text=True)
    assert "e-mail erased at its owner&#39;s request" in history
    # Bob is untouched.
    assert db.execute("SELECT count(*) FROM subscriptions WHERE email = 'bob@example.org'").fetchone()[0] == 1


def test_erasure_leaves_organisations_alone_unless_confirmed_and_staff_accounts_alone(app, db, staff):
    org, cid, _sid = _ana(db)
    client, token = _admin(app)
    client.post(PAGE + "/erase", data={"csrf_token": token, "email": "editor@example.org"})
    assert "deactivate the account on the users page" in client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert db.execute("SELECT active FROM users WHERE email = 'editor@example.org'").fetchone()[0] == 1

    client.post(PAGE + "/erase", data={"csrf_token": token, "email": "ana@example.org"})
    assert db.execute("SELECT email FROM organisations WHERE id = ?", [org.id]).fetchone()[0] == "Ana@Example.org"
    assert contributions.contribution(db, cid)["email"] == ""


def test_an_editor_gets_403_and_a_form_without_its_token_is_refused(app, db, staff):
    _ana(db)
    editor = app.test_client()
    sign_in(editor, "editor@example.org")
    assert editor.get(PAGE).status_code == 403
    token = csrf_from(editor.get("/admin/organisations").get_data(as_text=True))
    for path in ("", "/export", "/erase", "/exports"):
        assert editor.post(PAGE + path, data={"csrf_token": token, "email": "ana@example.org",
                                              "export_contacts": "yes"}).status_code == 403
    assert db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 2
    admin, _token = _admin(app)
    assert admin.post(PAGE + "/erase", data={"email": "ana@example.org"}).status_code == 400  # no CSRF token
    assert db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 2


def test_the_cli_finds_exports_and_erases_an_address(app, db, tmp_path):
    org, cid, sid = _ana(db)
    out = tmp_path / "ana.json"
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["personal-data", "ANA+x@example.org", "--json", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "contributions: 1" in shown.output and "organisations: 1" in shown.output
    assert [c["id"] for c in json.loads(out.read_text(encoding="utf-8"))["contributions"]] == [cid]
    erased = runner.invoke(args=["personal-data", "ana@example.org", "--erase"])
    assert "erased: 1 contribution(s), 1 subscription(s), 0 organisation e-mail(s)" in erased.output
    assert "add --organisations" in erased.output
    assert runner.invoke(args=["personal-data", "not-an-address"]).exit_code != 0


# -- contact fields in bulk exports ----------------------------------------------------------


def _csv(client) -> list[dict]:
    text = client.get("/api/organisations.csv").get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_exports_leave_out_email_and_phone_unless_staff_choose_and_pages_always_show_them(app, db, staff):
    org = make_org(db, "Contact Coop", email="hello@contact.coop", phone="+39 06 1234567")
    visitor = app.test_client()

    rows = _csv(visitor)
    assert rows[0]["name"] == "Contact Coop" and "email" not in rows[0] and "phone" not in rows[0]
    geojson = visitor.get("/api/organisations.geojson").get_json()
    assert "email" not in geojson["features"][0]["properties"]
    assert b"hello@contact.coop" not in visitor.get("/api/organisations.ttl").data
    assert b"hello@contact.coop" not in visitor.get("/api/organisations.essglobal.csv").data
    page = visitor.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert "hello@contact.coop" in page and "+39 06 1234567" in page
    assert visitor.get(f"/api/organisations/{org.slug}").get_json()["email"] == "hello@contact.coop"

    admin, token = _admin(app)
    assert 'name="export_contacts"' in admin.get(PAGE + "?lang=en").get_data(as_text=True)
    admin.post(PAGE + "/exports", data={"csrf_token": token, "export_contacts": "yes"})

    rows = _csv(visitor)
    assert (rows[0]["email"], rows[0]["phone"]) == ("hello@contact.coop", "+39 06 1234567")
    properties = visitor.get("/api/organisations.geojson").get_json()["features"][0]["properties"]
    assert (properties["email"], properties["phone"]) == ("hello@contact.coop", "+39 06 1234567")

    admin.post(PAGE + "/exports", data={"csrf_token": token})  # unticked: back to the default
    assert "email" not in _csv(visitor)[0]


def test_the_contribution_form_says_what_becomes_public(client):
    page = client.get("/contribute?lang=en").get_data(as_text=True)
    assert "What you enter below becomes public on the map once accepted. Your e-mail address is not published." in page


def test_a_hostile_address_is_refused_or_shown_as_text(app, db, staff):
    client, token = _admin(app)
    refused = client.post(PAGE + "?lang=en", data={"csrf_token": token, "email": "ana@example.org\r\nBcc: x@evil.org"})
    assert refused.status_code == 400 and "Give an e-mail address" in refused.get_data(as_text=True)
    hostile = "<script>alert(1)</script>{{7*7}}\ufffe@example.org"
    page = client.post(PAGE + "?lang=en", data={"csrf_token": token, "email": hostile}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page
    assert "the catalogue holds nothing about this address" in page
    download = client.post(PAGE + "/export", data={"csrf_token": token, "email": hostile})
    assert download.status_code == 200 and "\r" not in download.headers["Content-Disposition"]
    assert '"' not in download.headers["Content-Disposition"].split("filename=")[1].strip('"')
