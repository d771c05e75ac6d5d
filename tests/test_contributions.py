"""A contribution from its form to the map: checked like an import row, confirmed by the
link its author receives (on a real SMTP server on 127.0.0.1), moderated, undone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from smtp_box import html_of, links_in, text_of
from support import make_org, proof_of_work, shows_49

from mapapp import catalogue
from mapapp.catalogue import contributions as store
from mapapp.contributing import antispam, flow
from mapapp.mail import Mailer

HOSTILE = '<script>alert(1)</script>{{ 7*7 }}{% raw %}${x}'


def settings(smtp_url: str, **changes) -> flow.Settings:
    def link(endpoint, values):
        if endpoint == "contribute.confirm":
            return f"http://127.0.0.1:5000/contribute/confirm/{values['token']}"
        return f"http://127.0.0.1:5000/organisations/{values['slug']}"
    return flow.Settings(**{"secret": "s3cret", "site": "Test map", "per_hour": 5, "confirm_hours": 48,
                            "mailer": Mailer("Test map <noreply@example.org>", smtp_url), "link": link,
                            **changes})


def new(contact="ana@example.org", lang="en", client="c1", **raw) -> flow.Submission:
    fields = {"name": "Coopérative du Vélo", "city": "Lyon", "country": "FR", "website": "velo.example.org",
              "themes": "AM40", "needs": "funding: a small loan", "lat": "45.76", "lon": "4.84", **raw}
    return flow.Submission(kind="new", raw=fields, contact=contact, lang=lang, client=client,
                           proof=proof_of_work("s3cret"))


def token_of(message) -> str:
    [link] = [u for u in links_in(message) if "/contribute/confirm/" in u]
    return urlsplit(link).path.rsplit("/", 1)[1]


def test_a_new_organisation_goes_through_confirmation_and_moderation_to_the_map(db, smtp):
    s = settings(smtp.url)
    cid = flow.submit(db, new(), s)
    assert store.contribution(db, cid)["state"] == "unconfirmed"
    assert catalogue.organisation_count(db) == 0  # nothing public before a moderator decides
    [mail] = smtp.box.wait(1)
    assert mail["To"] == "ana@example.org" and "Confirm" in mail["Subject"]
    assert "Coopérative du Vélo" in text_of(mail) and "Coopérative du Vélo" in html_of(mail)
    flow.confirm(db, token_of(mail))
    assert store.contribution(db, cid)["state"] == "pending"
    with pytest.raises(flow.LinkError, match="already used"):
        flow.confirm(db, token_of(mail))  # a link works once
    org_id = flow.accept(db, cid, "mod@example.org", s)
    org = catalogue.get_organisation(db, catalogue.organisation_by_id(db, org_id)["slug"])
    assert org["name"] == "Coopérative du Vélo" and org["website"] == "https://velo.example.org"
    assert org["themes"] == ["AM40"]
    told = smtp.box.wait(2)[1]
    assert "accepted" in told["Subject"] and f"/organisations/{org['slug']}" in text_of(told)
    assert catalogue.audit.entries(db, action_prefix=f"contribution:{cid}")[0]["user_email"] == "mod@example.org"
    flow.undo(db, cid, "mod@example.org")  # the organisation it added is gone, the contribution waits again
    assert catalogue.organisation_count(db) == 0 and store.contribution(db, cid)["state"] == "pending"


def test_a_correction_and_a_closure_change_only_what_they_say(db, smtp):
    s = settings(smtp.url)
    saved = make_org(db, "Bread Coop", city="Lyon", website="https://bread.example.org")
    cid = flow.submit(db, flow.Submission(kind="correction", raw={"name": "Bread Coop", "city": "Villeurbanne"},
                                          contact="b@example.org", lang="en", client="c2",
                                          organisation_id=saved.id, proof=proof_of_work("s3cret")), s)
    flow.confirm(db, token_of(smtp.box.wait(1)[0]))
    proposed = flow.merged(db, store.contribution(db, cid))
    assert proposed["values"]["city"] == "Villeurbanne" and proposed["values"]["website"] == "https://bread.example.org"
    flow.accept(db, cid, "mod@example.org", s)
    state = catalogue.organisation_state(db, saved.id)
    assert state["values"]["city"] == "Villeurbanne" and state["values"]["website"] == "https://bread.example.org"
    closed = flow.submit(db, flow.Submission(kind="closed", raw={}, note="Closed in May", contact="b@example.org",
                                             lang="en", client="c2", organisation_id=saved.id,
                                             proof=proof_of_work("s3cret")), s)
    flow.confirm(db, token_of(smtp.box.wait(3)[2]))
    flow.accept(db, closed, "mod@example.org", s)
    assert catalogue.organisation_state(db, saved.id)["values"]["status"] == "archived"
    flow.undo(db, closed, "mod@example.org")
    assert catalogue.organisation_state(db, saved.id)["values"]["status"] == "published"


def test_a_rejection_tells_the_author_why_in_their_language(db, smtp):
    s = settings(smtp.url)
    cid = flow.submit(db, new(contact="marie@example.org", lang="fr"), s)
    flow.confirm(db, token_of(smtp.box.wait(1)[0]))
    with pytest.raises(flow.Refused):
        flow.reject(db, cid, "mod@example.org", "   ", s)  # a reason is needed
    flow.reject(db, cid, "mod@example.org", "Pas une organisation de l'ESS", s)
    told = smtp.box.wait(2)[1]
    assert "pas été acceptée" in told["Subject"] and "Pas une organisation de l'ESS" in text_of(told)
    assert store.contribution(db, cid)["state"] == "rejected"
    with pytest.raises(flow.Refused, match="no longer waiting"):
        flow.accept(db, cid, "mod@example.org", s)


def test_bad_input_is_refused_field_by_field_and_nothing_is_kept(db, smtp):
    s = settings(smtp.url)
    with pytest.raises(flow.Refused) as refused:
        flow.submit(db, new(contact="not an address", website="javascript:alert(1)", name=""), s)
    assert set(refused.value.problems) >= {"contact", "name"}
    with pytest.raises(flow.Refused) as refused:
        flow.submit(db, new(website="javascript:alert(1)"), s)
    assert "only http and https" in refused.value.problems["website"]
    with pytest.raises(flow.Refused) as refused:
        flow.submit(db, new(description="https://a.example https://b.example www.c.example"), s)
    assert "web addresses" in refused.value.problems["description"]
    with pytest.raises(flow.Refused, match="program"):
        flow.submit(db, flow.Submission(**{**new().__dict__, "honeypot": "http://spam.example"}), s)
    assert store.count_contributions(db, "unconfirmed") == 0 and not smtp.box.messages


def test_a_thousand_submissions_from_one_address_stop_at_the_limit(db, smtp):
    s = settings(smtp.url, per_hour=3)
    for i in range(3):
        flow.submit(db, new(contact=f"p{i}@example.org", name=f"Coop {i}"), s)
    with pytest.raises(flow.Refused, match="your connection"):
        flow.submit(db, new(contact="other@example.org", name="Coop 4"), s)
    with pytest.raises(flow.Refused, match="this e-mail address"):
        for i in range(4):
            flow.submit(db, new(contact="same@example.org", client=f"k{i}", name=f"Other {i}"), s)
    assert store.count_contributions(db, "unconfirmed") == 6


def test_an_expired_or_unknown_link_is_refused(db, smtp):
    s = settings(smtp.url)
    cid = flow.submit(db, new(), s)
    token = token_of(smtp.box.wait(1)[0])
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    db.execute("UPDATE contributions SET token_expires_at = ? WHERE id = ?", [past, cid])
    with pytest.raises(flow.LinkError, match="expired"):
        flow.confirm(db, token)
    with pytest.raises(flow.LinkError, match="not valid"):
        flow.confirm(db, "made-up-token")
    assert store.contribution(db, cid)["state"] == "unconfirmed"


def test_hostile_text_stays_text_in_the_message_and_the_catalogue(db, smtp):
    s = settings(smtp.url)
    cid = flow.submit(db, new(name=HOSTILE, description=HOSTILE), s)
    mail = smtp.box.wait(1)[0]
    assert "<script>" not in html_of(mail) and "&lt;script&gt;" in html_of(mail)
    assert "{{ 7*7 }}" in text_of(mail) and not shows_49(text_of(mail))
    flow.confirm(db, token_of(mail))
    org_id = flow.accept(db, cid, "mod@example.org", s)
    assert catalogue.organisation_state(db, org_id)["values"]["name"] == HOSTILE


def test_the_proof_of_work_is_checked_and_good_once(db):
    import altcha

    challenge = altcha.Challenge.from_dict(antispam.challenge("s3cret", 10))
    solution = altcha.solve_challenge(challenge)
    payload = altcha.Payload(challenge, solution).to_base64()
    assert antispam.check_proof(db, "", "s3cret") is not None
    assert antispam.check_proof(db, payload, "another secret") is not None
    assert antispam.check_proof(db, payload, "s3cret") is None
    assert "already used" in antispam.check_proof(db, payload, "s3cret")


def test_a_contribution_from_a_projects_embed_joins_the_project_when_accepted(db, smtp):
    s = settings(smtp.url)
    catalogue.save_project(db, {"slug": "craft-provence", "name": "Craft in Provence"})
    cid = flow.submit(db, flow.Submission(**{**new().__dict__, "project": "craft-provence"}), s)
    flow.confirm(db, token_of(smtp.box.wait(1)[0]))
    assert store.contributions_in(db, "pending", projects=("craft-provence",))[0]["id"] == cid
    assert store.contributions_in(db, "pending", projects=("other",)) == []
    org_id = flow.accept(db, cid, "mod@example.org", s)
    assert catalogue.organisation_state(db, org_id)["projects"] == ["craft-provence"]


def test_oversized_fields_are_refused_by_name(db, smtp):
    with pytest.raises(flow.Refused) as refused:
        flow.submit(db, new(name="x" * 5000, description="y" * 6000), settings(smtp.url))
    assert set(refused.value.problems) == {"name", "description"}
    assert "at most" in refused.value.problems["description"]
    assert store.count_contributions(db, "unconfirmed") == 0


def test_an_accepted_organisation_without_a_pin_is_located_and_a_move_relocates(db, smtp):
    placed = []

    def locate(values):
        placed.append(values["city"])
        return {"Villeurbanne": (45.77, 4.88, "locality", "gazetteer")}.get(values["city"])

    s = settings(smtp.url, locate=locate)
    cid = flow.submit(db, new(lat="", lon="", city="Villeurbanne"), s)
    flow.confirm(db, token_of(smtp.box.wait(1)[0]))
    org_id = flow.accept(db, cid, "mod@example.org", s)
    values = catalogue.organisation_state(db, org_id)["values"]
    assert (values["lat"], values["lon"], values["geo_precision"]) == (45.77, 4.88, "locality")
    moved = flow.submit(db, flow.Submission(kind="correction", raw={"name": values["name"], "city": "Nowhere"},
                                            contact="b@example.org", lang="en", client="c9", organisation_id=org_id,
                                            proof=proof_of_work("s3cret")), s)
    flow.confirm(db, token_of(smtp.box.wait(3)[2]))
    flow.accept(db, moved, "mod@example.org", s)
    assert catalogue.organisation_state(db, org_id)["values"]["lat"] is None  # not left in the old place
    assert placed == ["Villeurbanne", "Nowhere"]


def test_a_contribution_may_choose_a_category_staff_made_and_it_arrives_with_it(db, smtp):
    # The form offers the network's tree; the check behind it must know it too.
    from mapapp.catalogue import categories

    parent = db.execute("SELECT id FROM categories WHERE code = 'AM70'").fetchone()[0]
    categories.create(db, user_email="admin@example.org", parent_id=parent, labels={"fr": "Plomberie"},
                      aliases=[], colour="#aa3300", icon="droplet", essglobal=None)
    s = settings(smtp.url)
    cid = flow.submit(db, new(themes="plomberie; AM40"), s)
    flow.confirm(db, token_of(smtp.box.wait(1)[0]))
    org_id = flow.accept(db, cid, "mod@example.org", s)
    org = catalogue.get_organisation(db, catalogue.organisation_by_id(db, org_id)["slug"])
    assert org["themes"] == ["plomberie", "AM40"]  # the first chosen is the main one
