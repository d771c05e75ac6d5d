"""The contribution pages as a visitor and a moderator use them: the form (proof-of-work
solved as the widget would), the e-mail on a real SMTP server, the confirmation page,
the moderation queue, the organisation on the map."""

from __future__ import annotations

from urllib.parse import urlsplit

import altcha
import pytest
from smtp_box import links_in, text_of
from support import csrf_from, make_org, proof_of_work, sign_in

from mapapp import catalogue, create_app

HOSTILE = '<script>alert(1)</script>{{ 7*7 }}'


@pytest.fixture
def site(db_path, tmp_path, smtp):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                      "PUBLIC_URL": "http://map.example.org"})
    return app


def solved(client) -> str:
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def post_form(client, path, **fields):
    token = csrf_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "altcha": solved(client), "contact": "ana@example.org", **fields}
    return client.post(path, data=data)


def test_a_visitor_adds_an_organisation_and_a_moderator_publishes_it(site, db, smtp, staff):
    visitor = site.test_client()
    response = post_form(visitor, "/contribute?lang=fr", name="Vélo Solidaire", city="Lyon", country="FR",
                         website="velo.example.org", theme=["AM40"], need=["funding"], need_detail_funding="un prêt",
                         description="Ateliers de réparation")
    assert response.status_code == 302 and response.headers["Location"].endswith("/contribute/sent")
    assert catalogue.organisation_count(db) == 0
    [mail] = smtp.box.wait(1)
    assert "Confirmez" in mail["Subject"]  # in the language the visitor wrote in
    [link] = [u for u in links_in(mail) if "/contribute/confirm/" in u]
    assert link.startswith("http://map.example.org/contribute/confirm/")
    path = urlsplit(link).path
    page = visitor.get(path).get_data(as_text=True)  # opening the link changes nothing…
    assert "pending" not in [r[0] for r in db.execute("SELECT state FROM contributions")]
    assert visitor.post(path, data={"csrf_token": csrf_from(page)}).status_code == 200  # …its button does
    assert visitor.post(path, data={"csrf_token": csrf_from(page)}).status_code == 410  # once
    moderator = site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    assert "Vélo Solidaire" in queue and "ana@example.org" in queue and "https://velo.example.org" in queue
    cid = db.execute("SELECT id FROM contributions").fetchone()[0]
    moderator.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": csrf_from(queue)})
    slug = db.execute("SELECT slug FROM organisations").fetchone()[0]
    public = visitor.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Vélo Solidaire" in public and "un prêt" in public
    told = smtp.box.wait(2)[1]
    assert f"http://map.example.org/organisations/{slug}" in text_of(told)


def test_a_correction_shows_side_by_side_and_a_rejection_is_explained(site, db, smtp, staff):
    org = make_org(db, "Bread Coop", city="Lyon")
    visitor = site.test_client()
    slug = catalogue.organisation_by_id(db, org.id)["slug"]
    assert "/suggest" in visitor.get(f"/organisations/{slug}").get_data(as_text=True)
    form = visitor.get(f"/organisations/{slug}/suggest").get_data(as_text=True)
    assert 'value="Bread Coop"' in form and 'value="Lyon"' in form  # the form starts from what is stored
    post_form(visitor, f"/organisations/{slug}/suggest", name="Bread Coop", city="Villeurbanne", country="FR")
    path = urlsplit([u for u in links_in(smtp.box.wait(1)[0]) if "/confirm/" in u][0]).path
    visitor.post(path, data={"csrf_token": csrf_from(visitor.get(path).get_data(as_text=True))})
    moderator = site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    assert "Lyon" in queue and "Villeurbanne" in queue and 'class="changed"' in queue
    cid = db.execute("SELECT id FROM contributions").fetchone()[0]
    moderator.post(f"/admin/moderation/{cid}/reject", data={"csrf_token": csrf_from(queue), "reason": "Not moved"})
    assert "Not moved" in text_of(smtp.box.wait(2)[1])
    assert catalogue.organisation_state(db, org.id)["values"]["city"] == "Lyon"


def test_the_form_refuses_bad_input_and_keeps_what_was_typed(site, db, smtp):
    visitor = site.test_client()
    response = post_form(visitor, "/contribute", name=HOSTILE, website="javascript:alert(1)", contact="nope")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "only http and https" in html and 'aria-invalid="true"' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html
    token = csrf_from(visitor.get("/contribute").get_data(as_text=True))
    no_proof = visitor.post("/contribute", data={"csrf_token": token, "name": "Coop", "contact": "a@example.org"})
    assert no_proof.status_code == 400 and "anti-spam" in no_proof.get_data(as_text=True)
    assert visitor.post("/contribute", data={"name": "Coop", "contact": "a@example.org"}).status_code == 400  # CSRF
    assert db.execute("SELECT count(*) FROM contributions").fetchone()[0] == 0 and not smtp.box.messages


def test_moderation_is_for_staff_only(site):
    visitor = site.test_client()
    assert visitor.get("/admin/moderation").status_code in (302, 401)
    assert visitor.post("/admin/moderation/1/accept").status_code in (302, 400, 401)


def test_a_partner_editor_moderates_only_their_country_or_project(site, db, smtp, staff):
    from mapapp.contributing import flow
    from mapapp.web.mailing import settings

    ids = {}
    with site.test_request_context():
        s = settings()
        for name, country in (("Cooperativa Roma", "IT"), ("Coop Lyon", "FR")):
            ids[country] = flow.submit(db, flow.Submission(kind="new", raw={"name": name, "country": country},
                                                           contact=f"{country}@example.org", lang="en",
                                                           client=country, proof=proof_of_work(s.secret)), s)
            db.execute("UPDATE contributions SET state = 'pending' WHERE id = ?", [ids[country]])
    admin = site.test_client()
    sign_in(admin, "admin@example.org")
    page = admin.get("/admin/users").get_data(as_text=True)
    bad = admin.post("/admin/users", data={"csrf_token": csrf_from(page), "action": "scope", "user_id": staff["editor"].id,
                                           "countries": "Italy"})
    assert bad.status_code == 400 and "not a country code" in bad.get_data(as_text=True)
    admin.post("/admin/users", data={"csrf_token": csrf_from(page), "action": "scope", "user_id": staff["editor"].id,
                                     "countries": "it"})
    partner = site.test_client()
    sign_in(partner, "editor@example.org")
    queue = partner.get("/admin/moderation").get_data(as_text=True)
    assert "Cooperativa Roma" in queue and "Coop Lyon" not in queue and "You moderate: IT" in queue
    assert partner.post(f"/admin/moderation/{ids['FR']}/accept", data={"csrf_token": csrf_from(queue)}).status_code == 403
    partner.post(f"/admin/moderation/{ids['IT']}/accept", data={"csrf_token": csrf_from(queue)})
    assert [r[0] for r in db.execute("SELECT name FROM organisations")] == ["Cooperativa Roma"]
    assert "Coop Lyon" in admin.get("/admin/moderation").get_data(as_text=True)  # the admin sees all


def test_a_moderator_edits_a_proposal_before_accepting_it_checked_like_the_form(site, db, smtp, staff):
    visitor = site.test_client()
    post_form(visitor, "/contribute", name="Coop Velo", city="Lyon", country="FR")
    path = urlsplit([u for u in links_in(smtp.box.wait(1)[0]) if "/confirm/" in u][0]).path
    visitor.post(path, data={"csrf_token": csrf_from(visitor.get(path).get_data(as_text=True))})
    moderator = site.test_client()
    sign_in(moderator, "editor@example.org")
    queue = moderator.get("/admin/moderation").get_data(as_text=True)
    assert "Edit, then accept" in queue and 'name="city" value="Lyon"' in queue
    cid = db.execute("SELECT id FROM contributions").fetchone()[0]
    token = csrf_from(queue)
    refused = moderator.post(f"/admin/moderation/{cid}/accept", follow_redirects=True,
                             data={"csrf_token": token, "name": "Coop Vélo", "website": "javascript:alert(1)"})
    assert "Not accepted" in refused.get_data(as_text=True) and catalogue.organisation_count(db) == 0
    moderator.post(f"/admin/moderation/{cid}/accept", data={"csrf_token": token, "name": "Coop Vélo",
                                                            "city": "Villeurbanne", "country": "FR"})
    state = catalogue.organisation_state(db, db.execute("SELECT id FROM organisations").fetchone()[0])
    assert (state["values"]["name"], state["values"]["city"]) == ("Coop Vélo", "Villeurbanne")
