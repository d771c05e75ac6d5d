"""A map popup's answer (/api/organisations/<slug>) carries the needs and offers with their
icons and the nearest few possible partners, published ones only, with what matches."""

from __future__ import annotations

from support import make_org


def popup(client, slug, lang="en"):
    response = client.get(f"/api/organisations/{slug}?lang={lang}")
    assert response.status_code == 200
    return response


def test_needs_and_offers_come_with_their_icon(app, db):
    make_org(db, "Atelier", needs={"funding": "", "volunteers": ""}, offers={"equipment": ""})
    body = popup(app.test_client(), "atelier", "fr").get_json()
    assert [(n["code"], n["label"], n["icon"]) for n in body["needs"]] == [
        ("funding", "Financement", "coins"), ("volunteers", "Bénévoles", "heart-handshake")]
    assert [(o["label"], o["icon"]) for o in body["offers"]] == [("Équipement", "tools")]


def test_partners_are_the_nearest_three_with_what_matches(app, db):
    make_org(db, "Atelier", lat=45.76, lon=4.84, needs={"funding": ""}, offers={"equipment": ""})
    make_org(db, "Near Fund", lat=45.77, lon=4.85, offers={"funding": "", "training": ""})
    make_org(db, "Tool Seeker", lat=45.80, lon=4.90, needs={"equipment": ""})
    make_org(db, "Both Ways", lat=45.90, lon=4.95, offers={"funding": ""}, needs={"equipment": ""})
    make_org(db, "Far Fund", lat=48.85, lon=2.35, offers={"funding": ""})
    make_org(db, "Unrelated", lat=45.761, lon=4.841, offers={"premises": ""}, needs={"research": ""})
    response = popup(app.test_client(), "atelier", "fr")
    partners = response.get_json()["partners"]
    assert [p["name"] for p in partners] == ["Near Fund", "Tool Seeker", "Both Ways"]
    near, seeker, both = partners
    assert near["url"] == "/organisations/near-fund"
    assert [(o["code"], o["label"], o["icon"]) for o in near["offers"]] == [("funding", "Financement", "coins")]
    assert near["needs"] == []  # training is offered, but not needed by Atelier
    assert seeker["offers"] == [] and [n["code"] for n in seeker["needs"]] == ["equipment"]
    assert [o["code"] for o in both["offers"]] == ["funding"] and [n["code"] for n in both["needs"]] == ["equipment"]
    assert 0 < near["km"] < seeker["km"] < both["km"]
    # Cached like the map's other answers: one copy for everyone, asked again by its validator.
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    again = app.test_client().get("/api/organisations/atelier?lang=fr", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_no_partner_when_nothing_matches(app, db):
    make_org(db, "Alone", needs={"research": ""}, offers={"logistics": ""})
    make_org(db, "Other", offers={"premises": ""}, needs={"funding": ""})
    make_org(db, "Silent")
    client = app.test_client()
    assert popup(client, "alone").get_json()["partners"] == []
    assert popup(client, "silent").get_json()["partners"] == []


def test_unpublished_organisations_are_never_partners(app, db):
    make_org(db, "Atelier", needs={"funding": ""})
    make_org(db, "Draft Fund", status="draft", offers={"funding": ""})
    make_org(db, "Archived Fund", status="archived", offers={"funding": ""})
    make_org(db, "Shown Fund", lat=47.0, lon=3.0, offers={"funding": ""})
    partners = popup(app.test_client(), "atelier").get_json()["partners"]
    assert [p["name"] for p in partners] == ["Shown Fund"]


def test_a_change_of_partners_is_seen_at_the_next_ask(app, db):
    make_org(db, "Atelier", needs={"funding": ""})
    client = app.test_client()
    first = popup(client, "atelier")
    assert first.get_json()["partners"] == []
    make_org(db, "New Fund", offers={"funding": ""})
    changed = client.get("/api/organisations/atelier?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and [p["name"] for p in changed.get_json()["partners"]] == ["New Fund"]


def test_hostile_partner_names_are_returned_as_data(app, db):
    hostile = "<script>alert(1)</script>{{7*7}}${x}=1+1"
    make_org(db, "Atelier", needs={"funding": ""})
    make_org(db, hostile, offers={"funding": ""})
    response = popup(app.test_client(), "atelier")
    assert response.mimetype == "application/json"
    assert response.get_json()["partners"][0]["name"] == hostile


def test_every_need_and_offer_has_an_icon_of_the_set():
    from mapapp import icons, vocab

    for term in vocab.resources():
        assert icons.exists(term.icon), f"{term.code}: no Tabler icon '{term.icon}' (data/vocab/resources.csv)"
