"""A contribution walked in Chromium as people do it: a visitor on a phone fills the form
in French and the proof-of-work widget runs, the e-mail arrives on a real SMTP server on
127.0.0.1, the visitor follows its link and confirms, a moderator accepts, the
organisation is on its public page."""

from __future__ import annotations

from smtp_box import links_in, text_of
from support import sign_in_browser

from mapapp import create_app


def test_a_contribution_from_the_form_to_the_public_page(db_path, db, staff, browser, live_server_for, tmp_path, smtp):
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache"),
                      "SMTP_URL": smtp.url, "ALTCHA_COST": 50})
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with live_server_for(app) as server:
            app.config["PUBLIC_URL"] = server.url  # messages link to the site's configured address
            page.goto(server.url + "/contribute?lang=fr")
            page.get_by_label("Nom", exact=True).fill("Vélo <b>Solidaire</b>")
            page.get_by_label("Ville ou commune").fill("Lyon")
            page.locator("select[name=country]").select_option("FR")
            page.locator("input[name=theme][value=AM40]").check()
            page.get_by_label("Votre e-mail, pour confirmer (jamais affiché)").fill("ana@example.org")
            page.locator("altcha-widget input[type=checkbox]").click(force=True)
            page.locator("altcha-widget").get_by_text("Vérifié").wait_for(timeout=20_000)
            page.screenshot(path=tmp_path / "contribute-phone.png", full_page=True)
            page.get_by_role("button", name="Envoyer").click()
            page.get_by_role("heading", name="Regardez vos e-mails").wait_for()
            [link] = [u for u in links_in(smtp.box.wait(1)[0]) if "/contribute/confirm/" in u]
            page.goto(link)
            page.get_by_role("button", name="Confirmer ma contribution").click()
            page.get_by_role("heading", name="Merci").wait_for()
            sign_in_browser(page, server.url + "/admin/moderation?lang=en", "editor@example.org")
            item = page.locator("article.moderation-item")
            assert "Vélo <b>Solidaire</b>" in item.locator("h3").inner_text()  # shown as text
            page.screenshot(path=tmp_path / "moderation.png", full_page=True)
            item.get_by_role("button", name="Accept and publish").click()
            page.get_by_text("is on the map").wait_for()
            slug = db.execute("SELECT slug FROM organisations").fetchone()[0]
            page.goto(f"{server.url}/organisations/{slug}")
            assert page.locator("h1").inner_text() == "Vélo <b>Solidaire</b>"
            assert smtp.box.wait(2)[1]["To"] == "ana@example.org"  # told it was accepted
    finally:
        context.close()
    assert not errors, errors


def test_while_typing_a_name_the_form_shows_organisations_already_on_the_map(db_path, db, page, live_server_for,
                                                                             tmp_path):
    from support import make_org

    make_org(db, "Bread <i>Coop</i>", city="Lyon", website="https://bread.example.org")
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    with live_server_for(app) as server:
        page.goto(server.url + "/contribute")
        page.get_by_label("Name", exact=True).press_sequentially("bread <i>coop</i>")
        box = page.locator("#duplicates")
        box.get_by_role("link", name="Bread <i>Coop</i>").wait_for()  # the name as text, not markup
        assert "Lyon" in box.inner_text() and box.locator("i").count() == 0
        page.get_by_label("Name", exact=True).fill("Something else entirely")
        page.get_by_role("textbox", name="Website").fill("bread.example.org")  # same website, another name
        box.get_by_role("link", name="Bread <i>Coop</i>").wait_for()


def test_the_embed_offers_to_contribute_with_its_locked_country(demo_app, page, live_server_for):
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/embed?country=IT&lock=country&lang=it")
        link = page.locator("a#contribute")
        assert link.get_attribute("target") == "_blank"
        page.goto(server.url + link.get_attribute("href"))
        assert page.locator("select[name=country]").input_value() == "IT"
        assert page.locator("h1").inner_text() == "Aggiungere un'organizzazione"


def solve_proof_of_work(page, verified: str = "Verified") -> None:
    page.locator("altcha-widget input[type=checkbox]").click(force=True)
    page.locator("altcha-widget").get_by_text(verified).wait_for(timeout=20_000)


def test_an_owner_asks_for_a_link_edits_the_entry_and_it_is_fresh_again(db_path, db, browser, live_server_for,
                                                                         tmp_path, smtp):
    from support import make_org

    org = make_org(db, "Forno Sociale", city="Torino", country="IT", email="forno@example.org")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00'")
    slug = db.execute("SELECT slug FROM organisations WHERE id = ?", [org.id]).fetchone()[0]
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache"),
                      "SMTP_URL": smtp.url, "ALTCHA_COST": 50, "OWNER_EDITS": "publish"})
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with live_server_for(app) as server:
            app.config["PUBLIC_URL"] = server.url  # messages link to the site's configured address
            page.goto(f"{server.url}/organisations/{slug}")
            assert "has not been confirmed since January 1, 2020" in page.locator(".stale-note").inner_text()
            page.get_by_role("link", name="Is this your organisation? Get a link to edit it").click()
            solve_proof_of_work(page)
            page.get_by_role("button", name="Send the link to the organisation's e-mail").click()
            page.get_by_role("heading", name="Check the organisation's e-mail").wait_for()
            [mail] = smtp.box.wait(1)
            assert mail["To"] == "forno@example.org"
            [link] = [u for u in links_in(mail) if "/owner/" in u]
            page.goto(link)
            page.get_by_label("Town or city").fill("Moncalieri")
            page.get_by_role("button", name="Send").click()
            page.get_by_text("Your changes are on the map.").wait_for()
            page.goto(f"{server.url}/organisations/{slug}")
            assert "Moncalieri" in page.locator("main").inner_text()
            assert page.locator(".stale-note").count() == 0  # checked today: no longer faded
    finally:
        page.close()
    assert not errors, errors


def test_a_visitor_subscribes_to_the_view_confirms_gets_a_digest_and_stops_it(db_path, db, browser, live_server_for,
                                                                               tmp_path, smtp):
    from datetime import datetime, timedelta, timezone

    from support import make_org, route_tiles

    make_org(db, "Old Coop", country="FR", lat=45.76, lon=4.84)
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache"),
                      "SMTP_URL": smtp.url, "ALTCHA_COST": 50})
    page = browser.new_page()
    route_tiles(page)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with live_server_for(app) as server:
            app.config["PUBLIC_URL"] = server.url  # messages link to the site's configured address
            page.goto(f"{server.url}/?country=FR&lang=fr")
            page.wait_for_selector("body[data-map-ready=true]")
            page.get_by_role("link", name="Me prévenir des nouvelles organisations ici").click()
            page.get_by_label("Courriel").fill("lea@example.org")
            page.get_by_label("Chaque jour").check()
            solve_proof_of_work(page, "Vérifié")
            page.get_by_role("button", name="S'abonner").click()
            [mail] = smtp.box.wait(1)
            [link] = [u for u in links_in(mail) if "/subscribe/confirm/" in u]
            page.goto(link)
            page.locator("main button[type=submit]").click()
            page.locator("main h1").wait_for()
            make_org(db, "Nouvelle Coop", country="FR", lat=45.75, lon=4.85)
            make_org(db, "Nuova Coop", country="IT", city="Torino", lat=45.07, lon=7.69)  # not in this selection
            db.execute("UPDATE subscriptions SET last_sent_at = ?",
                       [(datetime.now(timezone.utc) - timedelta(days=1, minutes=1)).isoformat(timespec="seconds")])
            db.execute("UPDATE organisations SET created_at = '2020-01-01T00:00:00+00:00' WHERE name = 'Old Coop'")
            app.config["PUBLIC_URL"] = server.url  # where cron's digests link to
            result = app.test_cli_runner().invoke(args=["send-digests", "--frequency", "daily"])
            assert "1 digest(s) sent" in result.output, result.output
            digest = smtp.box.wait(2)[1]
            assert digest["To"] == "lea@example.org"
            body = text_of(digest)
            assert "Nouvelle Coop" in body and "Nuova Coop" not in body and "Old Coop" not in body
            [stop] = [u for u in links_in(digest) if "/unsubscribe/" in u]
            page.goto(stop)
            page.locator("main button[type=submit]").click()
            page.get_by_role("heading", name="Désabonné").wait_for()
            assert db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0
    finally:
        page.close()
    assert not errors, errors
