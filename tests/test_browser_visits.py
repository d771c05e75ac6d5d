"""A project's visits walked in Chromium, in French: a study visit in Poznań and a seminar in
Lyon, each with a host and participants picked by typing in the search boxes and located
through the offline gazetteer, and an online meeting that needs no place."""

from __future__ import annotations

from support import make_org, route_tiles, sign_in_browser

from mapapp import catalogue, create_app
from mapapp.catalogue import visits

HOSTILE = "<script>alert(1)</script>{{7*7}}"


def _pick(page, role: str, typed: str, name: str, shot=None) -> None:
    page.fill(f"input[name=q_{role}]", typed)
    option = page.locator(f"#results-{role}").get_by_role("option", name=name)
    option.wait_for()
    if shot:
        page.locator(f"#results-{role}").screenshot(path=shot)
    option.click()
    page.locator("#visit-organisations td", has_text=name.partition(" (")[0]).first.wait_for()


def test_study_visit_seminar_and_online_meeting_in_french(db_path, db, staff, browser, live_server_for, tmp_path):
    catalogue.save_project(db, {"slug": "erasmus", "name": "Erasmus"})
    make_org(db, "Spółdzielnia Poznań", city="Poznań", country="PL", lat=52.41, lon=16.93)
    make_org(db, "Coop Lyon", city="Lyon", country="FR")
    make_org(db, "Atelier Lyon Sud", city="Lyon", country="FR")
    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "cache")})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    route_tiles(page)
    try:
        with live_server_for(app) as server:
            sign_in_browser(page, server.url + "/admin/projects/erasmus/visits?lang=fr", "editor@example.org")
            page.get_by_role("link", name="Ajouter une visite ou un événement").click()
            page.wait_for_selector("body[data-visits-ready=true]")
            page.select_option("select[name=kind]", label="Visite d’étude")
            page.fill("input[name=title_fr]", "Visite d’étude à Poznań")
            page.fill("input[name=date]", "2025-05-12")
            page.fill("input[name=end_date]", "2025-05-14")
            page.fill("input[name=place]", "Poznań, PL")
            _pick(page, "host", "Pozn", "Spółdzielnia Poznań (Poznań, PL) → Hôte")
            _pick(page, "participant", "Lyon", "Coop Lyon (Lyon, FR) → Participante")
            page.get_by_role("button", name="Localiser ce lieu").click()
            page.locator("#visit-note", has_text="gazetteer").wait_for()
            page.wait_for_selector("#visit-map .leaflet-marker-icon")
            page.screenshot(path=tmp_path / "visit-poznan.png", full_page=True)
            page.locator("button.primary").click()
            page.get_by_text("Visite ajoutée.").wait_for()

            page.goto(server.url + "/admin/projects/erasmus/visits/new?lang=fr")
            page.wait_for_selector("body[data-visits-ready=true]")
            page.select_option("select[name=kind]", label="Séminaire")
            page.fill("input[name=title]", "Séminaire à Lyon " + HOSTILE)
            page.fill("input[name=date]", "2025-09-20")
            page.fill("input[name=place]", "Lyon, FR")
            _pick(page, "host", "Lyon", "Coop Lyon (Lyon, FR) → Hôte")
            _pick(page, "participant", "Lyon", "Atelier Lyon Sud (Lyon, FR) → Participante", tmp_path / "search-lyon.png")
            _pick(page, "participant", "Pozn", "Spółdzielnia Poznań (Poznań, PL) → Participante")
            page.locator("button.primary").click()  # saving locates a place not located yet
            page.get_by_text("Visite ajoutée.").wait_for()

            page.goto(server.url + "/admin/projects/erasmus/visits/new?lang=fr")
            page.wait_for_selector("body[data-visits-ready=true]")
            page.select_option("select[name=kind]", label="Réunion en ligne")
            assert not page.locator("input[name=place]").is_visible()
            page.fill("input[name=title]", "Réunion de lancement")
            page.fill("input[name=date]", "2025-01-10")
            page.locator("button.primary").click()
            page.get_by_text("Visite ajoutée.").wait_for()

            page.goto(server.url + "/admin/projects/erasmus/visits?lang=fr")
            table = page.locator("#visits").inner_text()
            assert "Séminaire à Lyon " + HOSTILE in table  # shown as typed, not run
            page.screenshot(path=tmp_path / "visits-list.png", full_page=True)
    finally:
        context.close()
    assert errors == []
    poznan = visits.get_visit(db, "erasmus-2025-05-12-poznan-pl")
    assert round(poznan["lat"], 1) == 52.4 and poznan["geo_precision"] == "locality"
    assert {(o["name"], o["role"]) for o in poznan["organisations"]} == {
        ("Spółdzielnia Poznań", "host"), ("Coop Lyon", "participant")}
    lyon = visits.get_visit(db, "erasmus-2025-09-20-lyon-fr")
    assert round(lyon["lat"], 1) == 45.7 and lyon["kind"] == "seminar"
    assert {(o["name"], o["role"]) for o in lyon["organisations"]} == {
        ("Coop Lyon", "host"), ("Atelier Lyon Sud", "participant"), ("Spółdzielnia Poznań", "participant")}
    online = visits.get_visit(db, "erasmus-2025-01-10-online")
    assert online["kind"] == "online" and online["place"] == "" and online["lat"] is None
