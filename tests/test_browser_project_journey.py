"""Issue #27's whole journey in Chromium, in French, with the job worker running: a project with
two partners, a study visit in Poznań and a seminar in Lyon (host and participants picked by
search), a spreadsheet of participants with a "Relation" column; then the public project page,
an organisation's visit lines, the .ics feed (read back with icalendar) and the PDF report all
show the same visits and the same counts."""

from __future__ import annotations

import io
import re

import icalendar
from pypdf import PdfReader
from support import make_org, route_tiles, sign_in_browser

HOSTILE = "<script>alert(1)</script>{{7*7}}"
POZNAN_TITLE = "Visite d’étude à Poznań"
LYON_TITLE = "Séminaire à Lyon " + HOSTILE


def _pick(page, role: str, typed: str, name: str) -> None:
    page.fill(f"input[name=q_{role}]", typed)
    option = page.locator(f"#results-{role}").get_by_role("option", name=name)
    option.wait_for()
    option.click()
    page.locator("#visit-organisations td", has_text=name.partition(" (")[0]).first.wait_for()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_french_staff_member_runs_a_project_from_creation_to_the_funders_report(
        app, db, staff, browser, live_server_for, worker, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    make_org(db, "Coop Lyon", city="Lyon", country="FR", lat=45.764, lon=4.835)
    make_org(db, "Atelier Lyon Sud", city="Lyon", country="FR", lat=45.75, lon=4.84)
    spoldz = make_org(db, "Spółdzielnia Poznań", city="Poznań", country="PL", lat=52.41, lon=16.93)
    make_org(db, "Fundacja Wielkopolska", city="Poznań", country="PL", lat=52.40, lon=16.92)
    db.conn.commit()
    sheet = tmp_path / "participants.csv"
    sheet.write_text("Nom;Ville;Pays;Projet;Relation;Visite;Date de visite\n"
                     "Ferme Commune;Lyon;FR;journee;Organisation participante;journee-2026-09-20-lyon-fr;\n"
                     "Stowarzyszenie Most;Poznań;PL;journee;Entreprise visitée;Visite d’étude à Poznań;12/05/2026\n",
                     encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    route_tiles(page)
    try:
        with live_server_for(app) as server:
            # 1. the project and its two partners, picked by search
            sign_in_browser(page, server.url + "/admin/projects?lang=fr", "admin@example.org")
            page.locator("input[name=name]").fill("Journée des coopératives")
            page.locator("input[name=slug]").fill("journee")
            page.locator("input[name=start_date]").fill("2026-01-01")
            page.get_by_role("button", name="Créer").click()
            page.get_by_text("Projet créé").wait_for()
            for typed, name, role in (("coop ly", "Coop Lyon", "coordinator"),
                                      ("spół", "Spółdzielnia Poznań", "partner")):
                page.wait_for_load_state()  # the search box's script runs once the page has loaded
                page.locator("#member-search").fill(typed)
                page.locator("#member-results button", has_text=name).click()
                page.locator("#add-member select[name=relation]").select_option("partner")
                page.locator("#add-member select[name=role]").select_option(role)
                page.get_by_role("button", name="Ajouter", exact=True).click()
                page.locator("#project-members", has_text=name).wait_for()

            # 2. a study visit in Poznań and a seminar in Lyon
            page.goto(server.url + "/admin/projects/journee/visits/new?lang=fr")
            page.wait_for_selector("body[data-visits-ready=true]")
            page.select_option("select[name=kind]", label="Visite d’étude")
            page.fill("input[name=title_fr]", POZNAN_TITLE)
            page.fill("input[name=date]", "2026-05-12")
            page.fill("input[name=end_date]", "2026-05-14")
            page.fill("input[name=place]", "Poznań, PL")
            page.fill("textarea[name=description_fr]", "Programme : " + HOSTILE)
            _pick(page, "host", "Pozn", "Spółdzielnia Poznań (Poznań, PL) → Hôte")
            _pick(page, "participant", "Lyon", "Coop Lyon (Lyon, FR) → Participante")
            page.locator("button.primary").click()
            page.get_by_text("Visite ajoutée.").wait_for()

            page.goto(server.url + "/admin/projects/journee/visits/new?lang=fr")
            page.wait_for_selector("body[data-visits-ready=true]")
            page.select_option("select[name=kind]", label="Séminaire")
            page.fill("input[name=title_fr]", LYON_TITLE)
            page.fill("input[name=date]", "2026-09-20")
            page.fill("input[name=place]", "Lyon, FR")
            _pick(page, "host", "Lyon", "Atelier Lyon Sud (Lyon, FR) → Hôte")
            _pick(page, "participant", "Wielko", "Fundacja Wielkopolska (Poznań, PL) → Participante")
            page.locator("button.primary").click()
            page.get_by_text("Visite ajoutée.").wait_for()

            # 3. the spreadsheet, with its Relation column
            page.goto(server.url + "/admin/imports?lang=fr")
            page.set_input_files("input[name=file]", str(sheet))
            page.get_by_role("button", name="Envoyer et prévisualiser").click()
            assert page.locator("#link-counts").inner_text().split("\n") == [
                "Lié à\tLignes", "projet journee\t2", "Organisation participante\t1", "Entreprise visitée\t1",
                "visite journee-2026-05-12-poznan-pl\t1", "visite journee-2026-09-20-lyon-fr\t1"]
            page.get_by_role("button", name="Importer maintenant").click()
            page.wait_for_selector("text=terminé", timeout=20_000)
            page.screenshot(path=tmp_path / "import.png", full_page=True)
            assert "Terminé : 2 créées" in page.locator("main").inner_text()
            page.get_by_role("button", name="Publier les 2 brouillons de cet import").click()
            page.get_by_role("button", name="Oui, les modifier").click()  # the change is said, then confirmed
            page.get_by_text("Les 2 organisations de cet import qui sont des brouillons").wait_for(state="detached")

            # 4. what the public sees: the project page …
            page.goto(server.url + "/projects/journee?lang=fr")
            page.screenshot(path=tmp_path / "project.png", full_page=True)
            assert "2 visites" in page.locator("main").inner_text()
            counts = {row.get_attribute("data-country"): row.inner_text().split("\t")
                      for row in page.locator("table.funder-counts tr[data-country]").all()}
            assert {code: cells[1:] for code, cells in counts.items()} == {
                # visited (hosts, visited members), participants, study visits, seminars, online, events
                "FR": ["1", "2", "0", "1", "0", "0"],  # Atelier Lyon Sud; Coop Lyon, Ferme Commune; Lyon
                "PL": ["2", "1", "1", "0", "0", "0"],  # Spółdzielnia Poznań, Stowarzyszenie Most; Fundacja
                "total": ["3", "3", "1", "1", "0", "0"]}
            items = page.locator(".timeline-item")
            assert items.count() == 2
            poznan, lyon = _flat(items.nth(0).inner_text()), _flat(items.nth(1).inner_text())
            assert poznan.startswith("12–14 mai 2026") and POZNAN_TITLE in poznan
            assert "Programme : " + HOSTILE in poznan  # a stored description, shown as typed
            assert "Hôtes: Spółdzielnia Poznań" in poznan and "Participants: Coop Lyon" in poznan
            assert "Stowarzyszenie Most" in poznan  # linked by the spreadsheet as visited
            assert lyon.startswith("20 septembre 2026") and LYON_TITLE in lyon
            assert "Participants: Ferme Commune, Fundacja Wielkopolska" in lyon  # one from the spreadsheet
            assert page.locator(".timeline script").count() == 0 and "49" not in poznan + lyon
            members = page.locator("section[aria-labelledby=members-title] table").inner_text()
            assert "Coop Lyon\tLyon, France\tPartenaire du projet" in members  # its relation to the project
            assert "Stowarzyszenie Most\tPoznań, Pologne\tEntreprise visitée" in members
            # The chart of relations counts the same relations to the project, not the members' own.
            page.locator("#chart-relations summary").click()  # its text twin, folded under the picture
            relations = page.locator("#chart-relations table").inner_text()
            assert "Partenaire du projet\t2" in relations and "Autre" not in relations

            # … an organisation's visit lines, whose links lead back to the project …
            page.goto(server.url + "/organisations/stowarzyszenie-most?lang=fr")
            assert page.locator(".visit-lines li").all_inner_texts() == [
                f"Visitée lors de {POZNAN_TITLE} (Journée des coopératives, 12–14 mai 2026)"]
            page.goto(f"{server.url}/organisations/{spoldz.slug}?lang=fr")
            assert page.locator(".visit-lines li").all_inner_texts() == [
                f"A accueilli {POZNAN_TITLE} (Journée des coopératives, 12–14 mai 2026)"]
            page.locator(".visit-lines").get_by_role("link", name="Journée des coopératives").click()
            page.locator("h1", has_text="Journée des coopératives").wait_for()

            # … the calendar feed, read back by the library …
            feed = icalendar.Calendar.from_ical(page.request.get(server.url + "/projects/journee/events.ics").body())
            events = sorted(feed.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
            assert [(str(e["summary"]), e.decoded("dtstart").isoformat(), e.decoded("dtend").isoformat())
                    for e in events] == [(POZNAN_TITLE, "2026-05-12", "2026-05-15"),  # DTEND: the day after
                                         (LYON_TITLE, "2026-09-20", "2026-09-21")]
            assert [str(e["categories"].cats[0]) for e in events] == ["study-visit", "seminar"]
            assert str(events[0]["description"]).startswith("Programme : " + HOSTILE)

            # … and the PDF report, made by the worker
            pdf = page.request.get(server.url + "/projects/journee/report.pdf?lang=fr", timeout=60_000)
            assert pdf.headers["content-type"] == "application/pdf"
            text = _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages))
    finally:
        context.close()
    assert errors == []
    assert "2 visites" in text
    for cells in counts.values():  # the same figures as the page, row by row
        assert " ".join(cells).replace("\xa0", " ") in text, cells
    table = text[text.index("# Date Type Titre Lieu"):].replace(" ", "")  # table cells wrap anywhere
    for row in (f"1 12 mai 2026 – 14 mai 2026 Visite d’étude {POZNAN_TITLE} Poznań, PL Spółdzielnia Poznań"
                " Stowarzyszenie Most Coop Lyon",
                f"2 20 septembre 2026 Séminaire {LYON_TITLE} Lyon, FR Atelier Lyon Sud —"  # stored text, as written
                " Ferme Commune, Fundacja Wielkopolska"):
        assert row.replace(" ", "") in table, row
    assert "Membres Organisation Lieu Lien avec le projet Coop Lyon Lyon, France Partenaire du projet" in text
