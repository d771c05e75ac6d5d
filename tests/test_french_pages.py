"""Every visible word of every page a French visitor or staff member meets is French:
the test reads each page as a browser shows it (text, labels, titles, placeholders,
popups, the map's controls) and fails on English words. The catalogue's own data is
French here, so what remains English is the application's."""

from __future__ import annotations

import re

import pytest
from support import make_org, open_settled, route_tiles, sign_in_browser

from mapapp import accounts, catalogue

EMAIL, PASSWORD = "claire@exemple.fr", "une phrase de passe assez longue"
# Words that are English and not French (nor Italian, Polish, Greek or Dutch words a
# French page might quote).
ENGLISH = set("""
the and of to with this that is are your you click zoom loading search filters map none for from not by
all back open close there which here its has have will can only found saved nothing row rows column
file draft drafts published archived undo edit delete deleted created updated unchanged skipped warnings
located name city country street website phone themes needs offers visit visits project projects status
region contributors marker popup view sign out staff area dashboard users user password role editor
administrator when who what why preview again mapping copy copied snippet height show shows shown
organisation's organisations' into than more less also new next previous done failed running
history report download yes no keep choose apply clear list directory embed full location address
""".split())
WORD = re.compile(r"[A-Za-zÀ-ÿ']+")
NOISE = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+|\{[^}]*\}|\([A-Z]{2}\)")  # links, e-mail addresses, country codes


def english_words(page) -> list[str]:
    """English words in what the page shows or says to a screen reader, with their context."""
    texts = page.evaluate("""() => {
        const out = [document.title, document.body.innerText];
        for (const el of document.querySelectorAll("[aria-label], [title], [alt], [placeholder]")) {
            for (const a of ["aria-label", "title", "alt", "placeholder"]) {
                if (el.getAttribute(a)) out.push(el.getAttribute(a));
            }
        }
        for (const opt of document.querySelectorAll("option, optgroup")) out.push(opt.label || opt.textContent);
        return out;
    }""")
    found = []
    for text in texts:
        clean = NOISE.sub(" ", text)
        for match in WORD.finditer(clean):
            if match.group().lower() in ENGLISH:
                found.append(clean[max(0, match.start() - 30):match.end() + 30].replace("\n", " ⏎ "))
    return found


@pytest.fixture
def french_app(app, db):
    """A catalogue whose organisations, project and visit are written in French."""
    catalogue.save_project(db, {"slug": "visites", "name": "Study visits",
                                          "names": {"fr": "Visites d'étude"}})
    catalogue.save_visit(db, {"slug": "lyon-2025", "project": "visites", "title": "Seminar in Lyon",
                              "titles": {"fr": "Séminaire à Lyon"}, "city": "Lyon", "country": "FR",
                              "date": "2025-03-18"})
    first = make_org(db, "Coopérative Lumière", description="Une coopérative d'habitants.", themes=["AM90"],
                     needs={"funding": "un prêt"}, offers={"training": "ateliers"})
    make_org(db, "Épicerie Solidaire", city="Marseille", lat=43.30, lon=5.37, needs={"training": ""},
             offers={"funding": ""})
    make_org(db, "Brouillon Discret", status="draft", lat=None, lon=None)
    catalogue.link_organisation(db, first.id, projects=["visites"], visits=["lyon-2025"])
    accounts.create_user(db, EMAIL, PASSWORD, "admin")
    return app


def visit_all(page, server, paths) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        open_settled(page, server.url + path)
        words = english_words(page)
        if words:
            found[path] = words
    return found


def test_public_pages_in_french_show_no_english(french_app, db, browser, live_server_for):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    route_tiles(page)
    slug = catalogue.find_organisations(db, catalogue.Filters(q="lumière"))[0]["slug"]
    try:
        with live_server_for(french_app) as server:
            found = visit_all(page, server, [
                "/?lang=fr", "/?lang=fr&country=FR&project=visites", "/?lang=fr&q=zzzz",
                "/organisations?lang=fr", "/organisations?lang=fr&theme=AM90&visit=lyon-2025",
                f"/organisations/{slug}?lang=fr", "/embed?lang=fr&country=FR", "/embed/builder?lang=fr",
                "/login?lang=fr", "/nulle-part?lang=fr", "/organisations?lang=fr&page=abc",
                "/organisations?lang=fr&country=XX", "/embed?lang=fr&lock=theme",
            ])
            # The map's popup, its controls and the list, after a click on a marker.
            page.goto(server.url + f"/?lang=fr&q={slug}")
            page.wait_for_selector("body[data-map-ready=true]")
            page.locator(".leaflet-marker-icon").first.click()
            page.wait_for_selector(".org-popup[data-loaded=true]")
            words = english_words(page)
            if words:
                found["popup"] = words
    finally:
        context.close()
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_staff_pages_in_french_show_no_english(french_app, db, browser, live_server_for, worker_for, tmp_path):
    french_app.config["UPLOAD_DIR"] = str(tmp_path / "envois")
    sheet = tmp_path / "partenaires.csv"
    sheet.write_text("Nom;Ville;Pays;Courriel;Site web\nAtelier Partagé;Marseille;France;pas-une-adresse;x\n"
                     "Atelier Partagé;Marseille;France;;\n;Toulon;France;;\nRessourcerie;Toulon;Atlantide;;\n",
                     encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    route_tiles(page)
    org = catalogue.find_organisations(db, catalogue.Filters(q="lumière"))[0]
    try:
        with live_server_for(french_app) as server, worker_for(french_app):  # the worker runs the import
            sign_in_browser(page, server.url + "/login?lang=fr", EMAIL, PASSWORD)
            found = visit_all(page, server, ["/admin?lang=fr", "/admin/organisations?lang=fr",
                                             f"/admin/organisations/{org['id']}/edit?lang=fr",
                                             "/admin/users?lang=fr", "/admin/imports?lang=fr"])
            page.set_input_files("input[name=file]", str(sheet))
            page.locator("form[enctype] button[type=submit]").click()
            page.wait_for_url("**/preview")
            found.update({"preview": w for w in [english_words(page)] if w})
            page.locator("button[value=confirm]").click()
            page.wait_for_url("**/admin/imports/*")
            # The page follows the import and reloads itself when it ends.
            page.locator("#import-progress:not([data-state=running])").wait_for(timeout=20_000)
            found.update({"done": w for w in [english_words(page)] if w})
            page.locator("a[href$='/undo']").click()
            page.wait_for_url("**/undo")  # read the undo page, not the one it leaves
            page.wait_for_load_state()
            found.update({"undo": w for w in [english_words(page)] if w})
    finally:
        context.close()
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
