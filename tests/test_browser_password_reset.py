"""A forgotten password, walked in Chromium: "Forgot your password?" on the sign-in page, the
link arrives on a real SMTP server on 127.0.0.1 (sent by the job worker), the new password is
chosen, and the staff member signs in with it; the link then no longer works."""

from __future__ import annotations

from smtp_box import links_in
from support import sign_in_browser

from mapapp import create_app

NEW_PASSWORD = "a brand new passphrase"


def test_forgot_password_mail_new_password_sign_in(db_path, db, staff, browser, live_server_for, worker_for,
                                                   tmp_path, smtp):
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache"),
                      "SMTP_URL": smtp.url})
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with live_server_for(app) as server, worker_for(app):
            app.config["PUBLIC_URL"] = server.url  # messages link to the site's configured address
            page.goto(server.url + "/login?lang=fr")
            page.get_by_role("link", name="Mot de passe oublié ?").click()
            page.locator("input[name=email]").fill("editor@example.org")
            page.screenshot(path=tmp_path / "forgot.png", full_page=True)
            page.get_by_role("button", name="M'envoyer un lien").click()
            page.get_by_role("heading", name="Regardez vos e-mails").wait_for()
            [mail] = smtp.box.wait(1)
            assert mail["To"] == "editor@example.org" and mail["Subject"].startswith("A new password")
            [link] = [u for u in links_in(mail) if "/login/reset/" in u]
            page.goto(link)
            page.get_by_label("Nouveau mot de passe (au moins 12 caractères)").fill(NEW_PASSWORD)
            page.get_by_label("Le nouveau mot de passe, à nouveau").fill(NEW_PASSWORD)
            page.screenshot(path=tmp_path / "reset.png", full_page=True)
            page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
            page.get_by_text("Votre mot de passe est changé").wait_for()
            sign_in_browser(page, server.url + "/admin/account", "editor@example.org", NEW_PASSWORD)
            page.get_by_role("heading", name="Mon compte").wait_for()
            page.screenshot(path=tmp_path / "account.png", full_page=True)
            page.goto(link)
            assert "ce lien n'est pas valable" in page.locator("main").inner_text()
    finally:
        context.close()
    assert not errors, errors
