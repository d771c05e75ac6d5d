"""Abuse of the catalogue's ids, of odd characters and of the contribution and subscription
forms (issue #24): each test replays what an attacker did and checks what they would see."""

from __future__ import annotations

import feedparser
import pytest
from support import form_fields, make_org, sign_in

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

    settings = flow.Settings(secret="s", site="Test map", per_hour=5, confirm_hours=48, skip_proof=True,
                             mailer=Mailer("Test map <noreply@example.org>", smtp.url),
                             link=lambda endpoint, values: "http://127.0.0.1/x")
    cid = flow.submit(db, flow.Submission(kind="new", raw={"name": f"Velo{NONCHARACTERS} Coop", "city": "Lyon",
                                                            "country": "FR", "description": f"We{NONCHARACTERS} fix"},
                                          contact="ana@example.org", lang="en", client="c1"), settings)
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
