"""Organisation data is never run as code: not as a server-side template, not as script
in a page, an export or a downloaded file, not as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from markupsafe import escape
from support import make_org

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.mapdata import exports

# Evaluated, it would print the process id between two markers: a page's numbers (coordinates,
# outlines) cannot match that by chance, as the bare id could.
SSTI = "x {{ 'ssti-' ~ cycler.__init__.__globals__.os.getpid() ~ '-ssti' }}"
EVALUATED = f"ssti-{os.getpid()}-ssti"
PAYLOADS = [
    SSTI,
    "lone {{ brace",
    "lone {% block",
    "{# comment",
    "${alert(1)} `${alert(2)}`",
    "</script><script>alert(3)</script>",
    '<img src=x onerror="alert(4)">',
    "=HYPERLINK(\"http://evil.example\",\"click\")",
]


@pytest.fixture
def hostile(db):
    for i, payload in enumerate(PAYLOADS):
        make_org(db, payload, city=payload, description=payload, street=payload, region=payload,
                 legal_form=payload, lat=45.0 + i * 0.01, lon=4.8)
    return db


def test_a_template_in_a_name_is_not_run_by_the_html_export(app, hostile):
    client = app.test_client()
    response = client.get("/api/organisations.html?q=x")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert EVALUATED not in body
    page_data = json.loads(body.split('id="export-organisations">', 1)[1].split("</script>", 1)[0])
    assert SSTI in [row["name"] for row in page_data]


def test_lone_template_delimiters_do_not_break_any_export(app, hostile):
    client = app.test_client()
    for fmt in ("html", "csv", "xlsx", "gpkg", "essglobal.csv", "geojson"):
        response = client.get(f"/api/organisations.{fmt}")
        assert response.status_code == 200, fmt


def test_the_exported_html_holds_the_data_only_as_json(hostile):
    orgs = catalogue.export_organisations(hostile, Filters())
    page = exports.export(orgs, "html", lang="en", base_url="http://127.0.0.1:5000",
                          tile_url="https://tile.example/{z}/{x}/{y}.png", attribution="tiles").decode()
    head, rest = page.split('<script type="application/json" id="export-organisations">', 1)
    data, tail = rest.split("</script>", 1)
    # Outside the JSON block no organisation text appears at all, escaped or not.
    for payload in ("cycler.__init__", "alert(1)", "alert(3)", "alert(4)", "evil.example"):
        assert payload not in head and payload not in tail
    assert "<" not in data and ">" not in data  # tojson escapes them: no way out of the block
    assert {row["name"] for row in json.loads(data)} == set(PAYLOADS)


def test_the_html_export_runs_no_organisation_text_in_a_browser(hostile, browser, tmp_path):
    orgs = catalogue.export_organisations(hostile, Filters())
    path = tmp_path / "map.html"
    path.write_bytes(exports.export(orgs, "html", lang="en", base_url="http://127.0.0.1:5000",
                                    tile_url="", attribution=""))
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".marker-cluster, path.leaflet-interactive", timeout=10_000)
        page.wait_for_timeout(800)  # the map fits the data's bounds, then redraws
        for _ in range(15):  # clicking a cluster zooms to it, until every marker stands alone
            if page.locator(".marker-cluster").count() == 0:
                break
            page.locator(".marker-cluster").first.click()
            page.wait_for_timeout(800)
        shown = set()
        markers = page.locator("path.leaflet-interactive")
        for i in range(markers.count()):
            markers.nth(i).click(force=True)
            link = page.locator(".leaflet-popup-content a")
            link.wait_for(timeout=5000)
            assert link.get_attribute("href").startswith("http://127.0.0.1:5000/organisations/")
            shown.add(link.inner_text())
            page.locator(".leaflet-popup-close-button").click()
            link.wait_for(state="detached", timeout=5000)
        assert shown and shown <= set(PAYLOADS)  # the very text, shown as text
        assert dialogs == [] and page.locator("img[src=x]").count() == 0
        scripts = page.eval_on_selector_all("script:not([type])", "s => s.map(e => e.textContent).join()")
        assert "alert(" not in scripts
    finally:
        context.close()


def test_mapapp_export_html_does_not_run_templates(runner, hostile, tmp_path):
    out = tmp_path / "map.html"
    result = runner.invoke(args=["export", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert EVALUATED not in out.read_text()


def test_hostile_fields_are_inert_on_every_public_page(app, hostile):
    client = app.test_client()
    slugs = [o["slug"] for o in catalogue.find_organisations(hostile, Filters())]
    pages = ["/", "/organisations", "/embed", *(f"/organisations/{s}" for s in slugs)]
    for url in pages:
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert(3)" not in body and 'onerror="alert(4)"' not in body, url
        assert EVALUATED not in body, url
    for org in catalogue.find_organisations(hostile, Filters()):
        page = client.get(f"/organisations/{org['slug']}").get_data(as_text=True)
        assert f"<h1>{escape(org['name'])}</h1>" in page  # shown as the very text, escaped


def test_formulas_are_neutralised_in_spreadsheet_exports(app, hostile):
    client = app.test_client()
    for fmt in ("csv", "essglobal.csv"):
        text = client.get(f"/api/organisations.{fmt}").get_data(as_text=True).lstrip("\ufeff")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not any(c.startswith(("=", "+", "@")) for c in cells), fmt
        assert any("HYPERLINK" in c for c in cells)


def test_phone_numbers_stay_as_written_but_formulas_do_not(app, db):
    make_org(db, "Coop Phone", phone="+33 1 23 45 67 89", description="+48 (61) 123-45-67")
    make_org(db, "Coop Sneaky", phone="+1+cmd|' /C calc'!A0", description="-2+3+cmd|' /C calc'!A0")
    catalogue.site.write_settings(db, {"export_contacts": True}, "admin@example.org")  # phones in bulk exports
    text = app.test_client().get("/api/organisations.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {r[1]: r for r in csv.reader(io.StringIO(text))}
    header = rows["name"]
    phone, description = header.index("phone"), header.index("description")
    assert rows["Coop Phone"][phone] == "+33 1 23 45 67 89" and rows["Coop Phone"][description] == "+48 (61) 123-45-67"
    assert rows["Coop Sneaky"][phone].startswith("'") and rows["Coop Sneaky"][description].startswith("'")
