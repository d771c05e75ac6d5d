"""A contribution walked in Chromium as people do it: a visitor on a phone fills the form
in French and the proof-of-work widget runs, the e-mail arrives on a real SMTP server on
127.0.0.1, the visitor follows its link and confirms, a moderator accepts, the
organisation is on its public page."""

from __future__ import annotations

from smtp_box import links_in
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
            page.goto(server.url + "/contribute?lang=fr")
            page.get_by_label("Nom", exact=True).fill("Vélo <b>Solidaire</b>")
            page.get_by_label("Ville ou commune").fill("Lyon")
            page.locator("select[name=country]").select_option("FR")
            page.locator("input[name=theme][value=AM40]").check()
            page.get_by_label("Votre e-mail, pour confirmer (jamais affiché)").fill("ana@example.org")
            page.locator("altcha-widget input[type=checkbox]").click(force=True)
            page.locator("altcha-widget").get_by_text("Vérifié").wait_for(timeout=20_000)
            page.get_by_role("button", name="Envoyer").click()
            page.get_by_role("heading", name="Regardez vos e-mails").wait_for()
            [link] = [u for u in links_in(smtp.box.wait(1)[0]) if "/contribute/confirm/" in u]
            page.goto(link)
            page.get_by_role("button", name="Confirmer ma contribution").click()
            page.get_by_role("heading", name="Merci").wait_for()
            sign_in_browser(page, server.url + "/admin/moderation?lang=en", "editor@example.org")
            item = page.locator("article.moderation-item")
            assert "Vélo <b>Solidaire</b>" in item.locator("h3").inner_text()  # shown as text
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
