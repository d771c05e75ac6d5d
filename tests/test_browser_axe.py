"""axe-core finds no serious or critical WCAG 2 A/AA violation on any page a visitor or a staff
member can reach: every GET route of the app is either listed here with the addresses that show
it, or named as not a page (APIs, files, feeds). Public pages are checked on a laptop in English
and Greek and on a 390 px phone in Polish (where no page may be wider than the screen), with the
map's popup, the phone's card and its filter sheet open; staff pages on a laptop in English and
French."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import (
    PASSWORD,
    ServerThread,
    csrf_from,
    make_org,
    route_tiles,
    sign_in,
    sign_in_browser,
    upload,
    wait_done,
)
from test_accessibility import serious_violations
from werkzeug.serving import make_server

from mapapp import accounts, catalogue, create_app
from mapapp.filters import Filters

FIXTURES = Path(__file__).parent / "fixtures"
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# GET routes that answer with something other than an HTML page: data, files, feeds, scripts.
NOT_PAGES = {
    "/api/<path:anything>", "/api/categories", "/api/changes", "/api/clusters", "/api/duplicates", "/api/facets",
    "/api/openapi.json", "/api/organisations", "/api/organisations.geojson", "/api/organisations/<slug>",
    "/api/organisations.<any(csv, xlsx, gpkg, html, essglobal.csv, jsonld, ttl):fmt>", "/api/visits",
    "/api/vocabularies", "/admin/categories/icons.json", "/admin/imports/<int:import_id>/report.csv",
    "/admin/imports/<int:import_id>/status.json", "/admin/organisations/search.json", "/admin/pin/country.json",
    "/admin/pin/places.json", "/admin/projects/<project>/visits/organisations.json", "/basemap/countries.geojson",
    "/basemap/labels.<language>.json",
    "/contribute/challenge", "/embed.js", "/feed.atom", "/healthz", "/images/<name>", "/map-shell.js",
    "/murmurations/organisations/<slug>.json", "/murmurations/organisations/<slug>/<any(want, offer):kind>/<code>.json",
    "/oembed", "/projects/<slug>/<name>.<fmt>", "/projects/<slug>/events.ics", "/projects/<slug>/logo",
    "/site/<filename>", "/static/<path:filename>", "/stats/<name>.<fmt>",
}

# Each page route, with the addresses (filled from the fixture's catalogue) that show its states.
PUBLIC = {
    "/": ["/", "/?country=IT&theme=AM60", "/?country=ZZ"],  # the last: the 400 page
    "/organisations": ["/organisations", "/organisations?country=PL", "/organisations?page=999"],
    "/organisations/<slug>": ["/organisations/{org}", "/organisations/nobody-here"],  # and the 404 page
    "/organisations/<slug>/suggest": ["/organisations/{org}/suggest"],
    "/organisations/<slug>/owner-link": ["/organisations/{org}/owner-link"],
    "/owner/<token>": ["/owner/{owner_token}", "/owner/not-a-token"],
    "/embed": ["/embed?country=BE", "/embed?controls=0", "/embed?country=ZZ"],  # and its error page
    "/embed/builder": ["/embed/builder"],
    "/projects": ["/projects"],
    "/projects/<slug>": ["/projects/demo-study-visits", "/projects/demo-provence-crafts"],
    "/stats": ["/stats", "/stats?country=FR"],
    "/contribute": ["/contribute"],
    "/contribute/sent": ["/contribute/sent"],
    "/contribute/confirm/<token>": ["/contribute/confirm/some-token"],
    "/subscribe": ["/subscribe?country=IT"],
    "/subscribe/confirm/<token>": ["/subscribe/confirm/some-token"],
    "/unsubscribe/<key>": ["/unsubscribe/some-key"],
    "/pages/<slug>": ["/pages/privacy"],
    "/login": ["/login"],
    "/login/forgot": ["/login/forgot"],
    "/login/reset/<token>": ["/login/reset/{reset_token}", "/login/reset/not-a-token"],
}
STAFF = {
    "/admin": ["/admin"],
    "/admin/account": ["/admin/account"],
    "/admin/organisations": ["/admin/organisations", "/admin/organisations?q=coop"],
    "/admin/organisations/new": ["/admin/organisations/new"],
    "/admin/organisations/<int:org_id>/edit": ["/admin/organisations/{org_id}/edit"],
    "/admin/moderation": ["/admin/moderation"],
    "/admin/imports": ["/admin/imports"],
    "/admin/imports/<int:import_id>/preview": ["/admin/imports/{preview_id}/preview"],
    "/admin/imports/<int:import_id>": ["/admin/imports/{import_id}"],
    "/admin/imports/<int:import_id>/undo": ["/admin/imports/{import_id}/undo"],
    "/admin/categories": ["/admin/categories"],
    "/admin/categories/<int:category_id>": ["/admin/categories/1"],
    "/admin/categories/<int:category_id>/retire": ["/admin/categories/1/retire"],
    "/admin/fields": ["/admin/fields"],
    "/admin/fields/<slug>": ["/admin/fields/{field}"],
    "/admin/projects": ["/admin/projects"],
    "/admin/projects/<slug>": ["/admin/projects/demo-study-visits"],
    "/admin/projects/<slug>/delete": ["/admin/projects/demo-study-visits/delete"],
    "/admin/projects/<project>/visits": ["/admin/projects/demo-study-visits/visits"],
    "/admin/projects/<project>/visits/new": ["/admin/projects/demo-study-visits/visits/new"],
    "/admin/projects/<project>/visits/<visit_slug>/edit": ["/admin/projects/demo-study-visits/visits/{visit}/edit"],
    "/admin/projects/<project>/visits/<visit_slug>/delete": [
        "/admin/projects/demo-study-visits/visits/{visit}/delete"],
    "/admin/settings": ["/admin/settings"],
    "/admin/settings/brand": ["/admin/settings/brand"],
    "/admin/pages": ["/admin/pages"],
    "/admin/pages/<int:page_id>/<language>": ["/admin/pages/{page_id}/fr"],
    "/admin/users": ["/admin/users"],
    "/admin/sources": ["/admin/sources"],
    "/admin/personal-data": ["/admin/personal-data"],
    "/admin/demo/remove": ["/admin/demo/remove"],
}


# The addresses above meant to show an error page, with its status.
ERROR_PAGES = {"/?country=ZZ": 400, "/organisations?page=999": 400, "/organisations/nobody-here": 404,
               "/owner/not-a-token": 410, "/embed?country=ZZ": 400, "/login/reset/not-a-token": 410}


def test_every_get_route_is_checked_or_named_as_not_a_page(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "c.db"), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache")})
    routes = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    listed = PUBLIC.keys() | STAFF.keys()
    assert not listed & NOT_PAGES
    assert routes - listed - NOT_PAGES == set(), "a new page: list it in PUBLIC or STAFF, or in NOT_PAGES"
    assert (listed | NOT_PAGES) - routes == set(), "listed, but no longer a route"


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_db_path):
    """The demo catalogue with staff, a custom field, a stored page, a correction waiting, a
    source whose last run failed, an import previewed and one done, an owner's link and a password
    reset link; served live."""
    from mapapp import pages
    from mapapp.catalogue import pages as stored_pages
    from mapapp.catalogue import syncsources
    from mapapp.contributing import owners
    from mapapp.jobs.worker import Worker

    folder = tmp_path_factory.mktemp("axe")
    path = folder / "catalogue.db"
    shutil.copy(demo_db_path, path)
    db = catalogue.connect(path)
    for email, role in (("admin@example.org", "admin"), ("editor@example.org", "editor")):
        accounts.create_user(db, email, PASSWORD, role)
    org = make_org(db, "Accessible coop", email="hello@accessible.example.org")
    db.execute("INSERT INTO contributions (kind, organisation_id, proposal, email, lang, state, created_at,"
               " confirmed_at) VALUES ('correction', ?, ?, 'a@example.org', 'en', 'pending', '2026-12-01',"
               " '2026-12-01')", [org.id, '{"values": {"name": "Accessible coop", "city": "Villeurbanne"},'
                                          ' "related": {}, "notes": []}'])
    syncsources.save_source(db, name="partners", url="https://partners.example.org/orgs.csv", fmt="csv", mapping=None,
                            project=None, status="draft")  # a source listed with its last run's failure
    syncsources.record_outcome(db, "partners", {"ok": False, "message": "the source answered HTTP 404", "gone": []})
    page_id = stored_pages.create_page(db, slug="privacy", kind="privacy", user_email="admin@example.org")
    for lang in ("en", "fr"):
        title, body = pages.template("privacy", lang)
        stored_pages.save_text(db, page_id, lang, title=title, body_markdown=body, user_email="admin@example.org")
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "CACHE_DIR": str(folder / "cache"),
                      "UPLOAD_DIR": str(folder / "uploads"), "OUTBOX_DIR": str(folder / "outbox")})
    client = app.test_client()
    sign_in(client, "admin@example.org")
    token = csrf_from(client.get("/admin/fields").get_data(as_text=True))
    assert client.post("/admin/fields", data={
        "csrf_token": token, "choice_rows": "3", "type": "choices", "label_en": "Trade", "choice_0_value": "plumbing",
        "choice_0_en": "Plumbing", "filter": "1"}).status_code == 302
    preview = upload(client, FIXTURES / "french_excel.csv", status="draft").headers["Location"]
    done = upload(client, FIXTURES / "french_excel.csv", status="draft").headers["Location"]
    form = client.get(done).get_data(as_text=True)
    worker = Worker(app.extensions["mapapp.jobs"], workers=1).start()
    try:
        answer = client.post(done, data={"csrf_token": csrf_from(form), "action": "confirm"})
        import_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        wait_done(db, import_id, timeout=90)  # a loaded machine
    finally:
        worker.stop()
    reset_id = accounts.request_reset(db, "editor@example.org", client="axe", secret="test")
    italian = catalogue.find_organisations(db, Filters(country=("IT",)))[0]
    ids = {"org": italian["slug"], "org_name": italian["name"],
           "org_id": org.id, "owner_token": owners.link_token(db, "test", org.id),
           "reset_token": accounts.issue_reset(db, reset_id).token, "field": "trade", "page_id": page_id,
           "preview_id": preview.rstrip("/").split("/")[-2], "import_id": import_id,
           "visit": "lyon-seminar-2025"}
    db.close()
    with ServerThread(make_server("127.0.0.1", 0, app, threaded=True)) as server:
        yield server.url, ids


def check(page, base: str, paths: list[str], ids: dict, langs: tuple[str, ...], found: dict) -> None:
    for lang in langs:
        for path in paths:
            address = path.format(**ids)
            address += ("&" if "?" in address else "?") + f"lang={lang}"
            response = page.goto(base + address)
            problems = []
            if response.status != ERROR_PAGES.get(path, 200) or urlsplit(page.url).path != urlsplit(address).path:
                problems.append(f"answered {response.status} at {page.url}, not the page meant")  # axe the right page
            if page.locator("#mapapp-settings").count():
                page.wait_for_selector("body[data-map-ready=true]")
            problems += serious_violations(page)
            width = page.viewport_size["width"]
            if page.evaluate("document.documentElement.scrollWidth") > width:  # what the reader scrolls sideways
                problems.append(f"wider than the {width} px screen")
            if problems:
                found[address] = problems


def report(found: dict) -> str:
    """What axe found, page by page (the assertion's message)."""
    return "\n".join(f"{address}:\n  " + "\n  ".join(problems) for address, problems in found.items())


def _screen(browser, size: dict):
    context = browser.new_context(**size, bypass_csp=True)  # bypass_csp: for axe-core's script only
    page = context.new_page()
    route_tiles(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def laptop(browser):
    yield from _screen(browser, LAPTOP)


def test_public_pages_on_a_laptop_in_english_and_greek(site, laptop):
    base, ids = site
    found: dict = {}
    check(laptop, base, [p for paths in PUBLIC.values() for p in paths], ids, ("en", "el"), found)
    assert not found, report(found)


def test_the_map_with_a_popup_and_a_filter_open_on_a_laptop(site, laptop):
    base, ids = site
    found: dict = {}
    for lang in ("en", "el"):
        laptop.goto(f"{base}/?q={ids['org']}&lang={lang}")
        laptop.wait_for_selector("body[data-map-ready=true]")
        laptop.locator("details[data-kind=country] summary").click()
        laptop.locator(f'.leaflet-marker-icon[title="{ids["org_name"]}"]').click()
        laptop.wait_for_selector(".org-popup[data-loaded=true]")
        if problems := serious_violations(laptop):
            found[f"popup, {lang}"] = problems
    assert not found, report(found)


@pytest.fixture(scope="module")
def phone(browser):
    yield from _screen(browser, PHONE)


def test_public_pages_on_a_phone_in_polish_with_the_card_the_list_and_the_sheet(site, phone):
    base, ids = site
    found: dict = {}
    check(phone, base, [p for paths in PUBLIC.values() for p in paths], ids, ("pl",), found)
    phone.goto(f"{base}/?q={ids['org']}&lang=pl")
    phone.wait_for_selector("body[data-map-ready=true]")
    phone.locator(f'.leaflet-marker-icon[title="{ids["org_name"]}"]').tap()
    phone.locator(".org-card[data-loaded=true]").wait_for()
    found["the card"] = serious_violations(phone)
    phone.locator(".view-switch button").last.tap()  # the list
    found["the list"] = serious_violations(phone)
    phone.locator(".sheet-opener").tap()
    phone.locator("#filter-sheet details[data-kind=country] summary").tap()
    found["the filter sheet"] = serious_violations(phone)
    phone.goto(f"{base}/organisations?lang=pl")
    phone.locator(".sheet-opener").tap()
    found["the directory's sheet"] = serious_violations(phone)
    phone.goto(f"{base}/subscribe?lang=pl")
    for label in phone.locator("label.check:has(input[type=radio])").all():  # the radio beside its word
        if label.bounding_box()["height"] > 32:
            found.setdefault("/subscribe", []).append(f"{label.inner_text()!r} takes two lines")
    found = {k: v for k, v in found.items() if v}
    assert not found, report(found)


def test_staff_pages_on_a_laptop_in_english_and_french(site, browser):
    base, ids = site
    context = browser.new_context(**LAPTOP, bypass_csp=True)
    page = context.new_page()
    sign_in_browser(page, base + "/login", "admin@example.org")
    page.wait_for_url("**/admin")
    found: dict = {}
    check(page, base, [p for paths in STAFF.values() for p in paths], ids, ("en", "fr"), found)
    context.close()
    assert not found, report(found)
