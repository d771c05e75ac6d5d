"""The privacy policy walked in Chromium: an admin makes the French one from the template,
fills in what it marks, previews and saves it; a visitor finds it in the footer on a laptop and
on a phone, and a Polish visitor reads it with the note that says it is in French."""

from __future__ import annotations

from support import sign_in_browser

from mapapp import create_app


def test_the_french_privacy_policy_from_the_template_to_the_footer(db_path, db, staff, browser, live_server_for,
                                                                    tmp_path):
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    laptop = browser.new_context(viewport={"width": 1280, "height": 800})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors = []
    try:
        with live_server_for(app) as server:
            page = laptop.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            sign_in_browser(page, server.url + "/admin/pages?lang=fr", "admin@example.org")
            page.get_by_role("button", name="Créer la politique de confidentialité à partir du modèle (Français)").click()
            assert page.get_by_role("alert").filter(has_text="Reste à compléter avant de publier").is_visible()
            body = page.locator("textarea[name=body]")
            text = body.input_value()
            text = text.replace("⟦À COMPLÉTER : la raison sociale de l'organisation responsable de cette carte⟧",
                                "Réseau <b>Exemple</b> {{7*7}}")
            body.fill(text)
            page.get_by_role("button", name="Aperçu").click()
            preview = page.locator(".page-preview")
            assert "Réseau <b>Exemple</b> {{7*7}}" in preview.inner_text()  # as typed, not as markup
            page.screenshot(path=tmp_path / "privacy-editor.png", full_page=True)
            page.get_by_role("button", name="Enregistrer").first.click()
            page.get_by_text("Enregistré.").wait_for()
            page.get_by_role("button", name="Se déconnecter").click()
            page.goto(server.url + "/?lang=fr")  # the map page keeps its height, the footer below it
            page.locator("footer").get_by_role("link", name="Politique de confidentialité").wait_for()
            page.screenshot(path=tmp_path / "map-laptop.png")

            page.goto(server.url + "/directory?lang=fr")
            page.locator("footer").get_by_role("link", name="Politique de confidentialité").click()
            page.get_by_role("heading", level=1, name="Politique de confidentialité").wait_for()
            assert page.url.endswith("/pages/privacy")
            article = page.locator("article").inner_text()
            assert "Réseau <b>Exemple</b> {{7*7}}" in article
            assert "dans les 48 heures" in article and "tile.openstreetmap.org" in article
            page.screenshot(path=tmp_path / "privacy-laptop.png", full_page=True)

            mobile = phone.new_page()
            mobile.on("pageerror", lambda e: errors.append(str(e)))
            mobile.goto(server.url + "/pages/privacy?lang=fr")
            mobile.get_by_role("heading", level=1, name="Politique de confidentialité").wait_for()
            width = mobile.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page is {width}px wide on a 390px phone"
            mobile.screenshot(path=tmp_path / "privacy-phone.png", full_page=True)

            mobile.goto(server.url + "/pages/privacy?lang=pl")
            note = mobile.get_by_role("note").filter(has_text="Ta strona nie jest dostępna")
            assert note.inner_text() == "Ta strona nie jest dostępna w języku Polski; wyświetlono ją w języku Français."
            assert mobile.locator("footer").get_by_role("link", name="Politique de confidentialité").is_visible()
            mobile.screenshot(path=tmp_path / "privacy-phone-pl.png", full_page=True)
    finally:
        laptop.close()
        phone.close()
    assert not errors, errors
