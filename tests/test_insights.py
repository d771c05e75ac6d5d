"""Insights: the numbers agree with the catalogue (counts, unmet needs, partnerships, also
against a brute-force count), every chart has its table and downloads that open, the
project page and its PDF report name the project and its counts, drafts only for staff."""

from __future__ import annotations

import csv
import io
import math
import random
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader
from support import make_org, sign_in

from mapapp import catalogue, create_app
from mapapp.filters import Filters
from mapapp.insights import charts, numbers, report
from mapapp.mapdata import mapindex
from mapapp.web import insights as insights_views

LYON, VILLEURBANNE, WARSAW, KRAKOW = (45.764, 4.835), (45.766, 4.880), (52.230, 21.011), (50.065, 19.945)


def org(db, name, at, country="FR", status="published", **fields):
    return make_org(db, name, lat=at[0], lon=at[1], country=country, status=status, **fields)


@pytest.fixture
def network(db):
    """Six organisations whose needs and offers are known by heart."""
    saved = {
        "a": org(db, "Atelier A", LYON, needs={"premises": ""}, offers={"training": ""}, themes=["AM40"]),
        "b": org(db, "Bureau B", VILLEURBANNE, offers={"premises": "a room"}, themes=["AM40"]),
        "c": org(db, "Coop C", WARSAW, country="PL", city="Warsaw", needs={"funding": ""}, themes=["AM90"]),
        "d": org(db, "Dom D", KRAKOW, country="PL", city="Kraków", offers={"funding": ""}),
        "e": org(db, "Epicerie E", LYON, needs={"legal-skills": ""}),
        "f": org(db, "Fonds F (draft)", LYON, status="draft", offers={"legal-skills": ""}),
        # Needs what it offers itself: no partnership with itself, and its need is unmet.
        "g": org(db, "Garage G", WARSAW, country="PL", city="Warsaw", needs={"equipment": ""}, offers={"equipment": ""}),
    }
    catalogue.save_project(db, {"slug": "visits-2026", "name": "Study visits 2026", "names": {"fr": "Visites 2026"},
                                "start_date": "2026-01-01", "end_date": "2026-12-31"})
    catalogue.save_visit(db, {"slug": "lyon-visit", "project": "visits-2026", "title": "Visit to Lyon", "city": "Lyon",
                              "country": "FR", "date": "2026-03-01"})
    for key in ("a", "b", "c", "f"):
        catalogue.link_organisation(db, saved[key].id, projects=["visits-2026"])
    catalogue.link_organisation(db, saved["a"].id, visits=["lyon-visit"])
    return saved


def test_counts_unmet_needs_and_partnerships_agree_with_the_catalogue(db, network):
    found = numbers.compute(db, Filters(), km=50)
    assert found.total == 6  # the draft is not public
    assert found.by_country == {"FR": 3, "PL": 3}
    assert found.by_theme == {"AM40": 2, "AM90": 1}
    balance = {r.code: r for r in found.resources}
    assert (balance["premises"].needed, balance["premises"].offered, balance["premises"].unmet) == (1, 1, 0)
    assert (balance["funding"].needed, balance["funding"].offered, balance["funding"].unmet) == (1, 1, 1)
    assert balance["legal-skills"].unmet == 1 and balance["equipment"].unmet == 1
    assert found.unmet_count == 3
    unmet = {(n.organisation["name"], n.resource): n.nearest_km for n in found.unmet}
    assert unmet[("Epicerie E", "legal-skills")] is None  # nobody public offers it
    assert unmet[("Garage G", "equipment")] is None  # only itself
    assert 240 < unmet[("Coop C", "funding")] < 260  # Kraków, too far at 50 km
    assert found.partnership_count == 1
    [pair] = found.partnerships
    assert (pair.needs["name"], pair.offers["name"], pair.resource) == ("Atelier A", "Bureau B", "premises")
    assert 3 < pair.km < 4

    wider = numbers.compute(db, Filters(), km=300)
    assert wider.partnership_count == 2 and wider.unmet_count == 2
    poland = numbers.compute(db, Filters(country=("PL",)), km=300)
    assert poland.total == 3 and poland.partnership_count == 1 and poland.by_country == {"PL": 3}
    with_drafts = numbers.compute(db, Filters(), km=50, statuses=("draft", "published"))
    assert with_drafts.total == 7 and with_drafts.unmet_count == 2  # the draft offers E's need next door


def test_the_k_d_tree_finds_what_a_brute_force_search_finds(db):
    rng = random.Random(7)
    codes = ["premises", "funding", "training"]
    points = []
    for i in range(120):
        lat, lon = 45 + rng.random() * 4, 3 + rng.random() * 6
        needs = {c: "" for c in rng.sample(codes, rng.randint(0, 2))}
        offers = {c: "" for c in rng.sample(codes, rng.randint(0, 2))}
        saved = org(db, f"Org {i}", (lat, lon), needs=needs, offers=offers)
        points.append((saved.id, lat, lon, set(needs), set(offers)))

    def km(a, b):
        p1, p2 = math.radians(a[1]), math.radians(b[1])
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[2] - a[2]) / 2) ** 2
        return 2 * numbers.EARTH_KM * math.asin(math.sqrt(h))

    for radius in (25, 80, 250):
        met = sum(1 for a in points for code in a[3]
                  if any(code in b[4] and b[0] != a[0] and km(a, b) <= radius for b in points))
        needs = sum(len(a[3]) for a in points)
        found = numbers.compute(db, Filters(), km=radius)
        assert (found.partnership_count, found.unmet_count) == (met, needs - met), radius
        nearest = {}  # the nearest partner of each need met, as listed
        for a in points:
            for code in a[3]:
                options = [(km(a, b), b[0]) for b in points if code in b[4] and b[0] != a[0] and km(a, b) <= radius]
                if options:
                    nearest[(a[0], code)] = min(options)[0]
        listed = found.partnerships
        assert len(listed) == min(numbers.LISTED, len(nearest))
        for pair in listed:
            assert abs(pair.km - nearest[(pair.needs["id"], pair.resource)]) < 0.1
        assert [p.km for p in listed] == sorted(p.km for p in listed)
        assert max(p.km for p in listed) <= sorted(nearest.values())[len(listed) - 1] + 0.1  # the closest ones


@pytest.fixture
def site(db_path, tmp_path, network):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


def test_every_chart_has_its_table_and_follows_the_filters_and_language(site):
    client = site.test_client()
    page = client.get("/stats?lang=fr").get_data(as_text=True)
    figures = page.count('<figure class="chart"')
    # Each chart with figures has its table; the one with none (no structure given) says so.
    assert figures == 7 and page.count("<table>") == 6 and page.count("Rien à montrer pour cette sélection.") == 1
    assert "Organisations par pays" in page and "Besoins et offres" in page
    assert "Atelier A" in page and "Bureau B" in page  # the partnership, listed
    poland = client.get("/stats?country=PL&lang=en").get_data(as_text=True)
    assert "3 organisations" in poland and "Atelier A" not in poland

    def unmet_needs(page: str) -> str:
        return page.split('id="unmet-title"')[1].split('id="partnerships-title"')[0]

    assert "Coop C" in unmet_needs(poland)
    assert "Coop C" not in unmet_needs(client.get("/stats?country=PL&km=300").get_data(as_text=True))  # met at 300 km
    assert client.get("/stats?km=0").status_code == 400
    assert client.get("/stats?country=XX").status_code == 400


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_downloads_open_as_png_svg_and_csv(site):
    client = site.test_client()
    png = client.get("/stats/countries.png?download=1")
    assert png.mimetype == "image/png" and "attachment" in png.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG" and image.size[0] > 500
    svg = client.get("/stats/themes.svg?lang=it")
    root = ET.fromstring(svg.data)
    assert root.tag.endswith("svg")
    assert "Organizzazioni per tema" in svg.get_data(as_text=True)  # text stays text, in the language
    rows = list(csv.reader(io.StringIO(client.get("/stats/countries.csv?lang=en").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["Country", "Organisations"], ["France", "3"], ["Poland", "3"]]
    assert client.get("/stats/country_map.svg").status_code == 200
    assert client.get("/stats/unmet.png").status_code == 400  # lists are CSV only
    assert client.get("/stats/nothing.png").status_code == 404


def test_csv_of_lists_cannot_run_as_formulas(db, site):
    org(db, "=HYPERLINK(\"http://evil.example\")", VILLEURBANNE, offers={"legal-skills": ""})
    rows = list(csv.reader(io.StringIO(site.test_client().get("/stats/partnerships.csv").get_data(as_text=True))))
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_pictures_are_drawn_once_per_catalogue_version(db, site, monkeypatch):
    drawn = []
    real = charts.draw
    monkeypatch.setattr(charts, "draw", lambda chart, fmt, **kw: drawn.append(chart.name) or real(chart, fmt, **kw))
    client = site.test_client()
    first = client.get("/stats/themes.svg")
    assert client.get("/stats/themes.svg").data == first.data and drawn == ["themes"]
    assert client.get("/stats/themes.svg", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    monkeypatch.setattr(insights_views, "STATS_DEBOUNCE", 0)
    monkeypatch.setattr(mapindex, "BACKGROUND_FROM", 0)  # counted in the background, as for a large catalogue
    org(db, "New one", LYON, themes=["AM40"])  # a new version of the catalogue
    client.get("/stats/themes.svg")  # the previous figures, while the new ones are counted
    site.extensions["mapapp.stats"].wait(30)
    assert client.get("/stats/themes.svg").data != first.data
    assert drawn.count("themes") == 3


def test_stats_after_a_change_serve_the_previous_figures_until_the_new_ones_are_counted(db, site, monkeypatch):
    """No visitor waits for the figures after an edit: the first request after it gets the
    previous figures, with their date, and starts counting the new ones in a thread;
    requests meanwhile start no other count; then the new figures are served."""
    import threading

    monkeypatch.setattr(insights_views, "STATS_DEBOUNCE", 0)
    monkeypatch.setattr(mapindex, "BACKGROUND_FROM", 0)  # as for a large catalogue
    client = site.test_client()
    assert "6 organisations" in client.get("/stats?lang=en").get_data(as_text=True)
    counting, release = [], threading.Event()
    real = numbers.compute

    def slow(*args, **kwargs):
        counting.append(threading.current_thread().name)
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(numbers, "compute", slow)
    org(db, "Newcomer <script>{{ 7*7 }}", KRAKOW, country="PL")
    for _ in range(3):
        page = client.get("/stats?lang=en")
        text = page.get_data(as_text=True)
        assert "6 organisations" in text and "the latest changes are being counted" in text
        assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/stats/countries.csv?lang=en").get_data(as_text=True).count("Poland,3") == 1
    release.set()
    site.extensions["mapapp.stats"].wait(30)
    assert counting == ["mapapp-stats-refresh"]  # one count, in the background, for four requests
    text = client.get("/stats?lang=en").get_data(as_text=True)
    assert "7 organisations" in text and "being counted" not in text
    assert "Newcomer &lt;script&gt;" in text or "Newcomer" not in text
    assert client.get("/stats/countries.csv?lang=en").get_data(as_text=True).count("Poland,4") == 1


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_the_project_page_and_its_pdf_report(site, staff, worker_for):
    client = site.test_client()
    page = client.get("/projects/visits-2026?lang=en").get_data(as_text=True)
    assert "Study visits 2026" in page and "Visit to Lyon" in page and "Atelier A" in page
    assert "3 organisations" in page and "Fonds F" not in page  # published members only
    with worker_for(site):  # the job worker makes it
        pdf = client.get("/projects/visits-2026/report.pdf?lang=fr")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Visites 2026" in text and "Rapport de projet" in text
    assert "\n3\norganisations\n2\npays\n1\nvisites\n" in text and "Visit to Lyon" in text  # the figures
    assert date.today().isoformat() in text  # the report's date
    assert "Fonds F" not in text
    assert "Fonds F" not in client.get("/projects/visits-2026?drafts=1").get_data(as_text=True)  # not for the public
    sign_in(client, "editor@example.org")
    staff_page = client.get("/projects/visits-2026?drafts=1&lang=en").get_data(as_text=True)
    assert "Fonds F" in staff_page and "4 organisations" in staff_page
    assert client.get("/projects/nobody").status_code == 404


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_mapapp_report_writes_the_pdf_from_the_command_line(site, tmp_path):
    runner = site.test_cli_runner()
    target = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "visits-2026", "-o", str(target), "--lang", "pl"])
    assert result.exit_code == 0, result.output
    text = " ".join(p.extract_text() for p in PdfReader(target).pages)
    assert "Study visits 2026" in text and "Raport z projektu" in text
    wrong = runner.invoke(args=["report", "no-such-project", "-o", str(target)])
    assert wrong.exit_code != 0 and "the projects are: visits-2026" in wrong.output


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_organisation_fields_stay_text_in_the_pages_and_the_report(db, site, live_server_for, worker_for):
    """A name made of markup is shown as text, and the PDF maker loads nothing from outside."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from support import ServerThread

    asked = []

    class Spy(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    with ServerThread(HTTPServer(("127.0.0.1", 0), Spy)) as spy:
        name = f'<img src="{spy.url}/leak.png"><script>alert(1)</script>{{{{ 7*7 }}}}'
        hostile = org(db, name, VILLEURBANNE, offers={"funding": ""})
        catalogue.link_organisation(db, hostile.id, projects=["visits-2026"])
        client = site.test_client()
        page = client.get("/projects/visits-2026").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "{{ 7*7 }}" in page
        stats = client.get("/stats").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in stats
        # Markup that reached the report's HTML anyway would fetch nothing either.
        report.pdf(f'<p>x</p><img src="{spy.url}/direct.png"><link rel="stylesheet" href="{spy.url}/s.css">'
                   '<img src="file:///etc/hostname">')
        with worker_for(site):
            body = client.get("/projects/visits-2026/report.pdf").data
    assert body.startswith(b"%PDF") and asked == []


def test_the_map_columns_count_what_the_sql_counts_on_random_selections(db):
    """The fast path (the map's bits) and the SQL path give the same figures, after edits too."""
    from mapapp.mapdata import mapindex

    rng = random.Random(11)
    codes = ["premises", "funding", "training", "equipment"]
    themes = ["AM10", "AM40", "AM90"]
    for i in range(150):
        saved = org(db, f"Org {i}", (44 + rng.random() * 8, rng.random() * 10), country=rng.choice(["FR", "BE", "IT"]),
                    needs={c: "" for c in rng.sample(codes, rng.randint(0, 2))},
                    offers={c: "" for c in rng.sample(codes, rng.randint(0, 2))},
                    themes=rng.sample(themes, rng.randint(0, 2)), structure=rng.choice(["OS10", "OS60", None]),
                    relation=rng.choice(["visited", "participant", "other"]))
        if i % 25 == 0:
            db.execute("UPDATE organisations SET lat = NULL, lon = NULL WHERE id = ?", [saved.id])  # not located
    index = mapindex.MapIndex()

    def same(filters):
        fast = numbers.compute(db, filters, km=120, columns=index.get(db), with_points=True)
        slow = numbers.compute(db, filters, km=120, with_points=True)
        for name in ("total", "by_country", "by_theme", "by_structure", "by_relation", "by_month", "resources",
                     "unmet", "unmet_count", "partnerships", "partnership_count"):
            assert getattr(fast, name) == getattr(slow, name), (filters, name)
        assert sorted(fast.points) == sorted(slow.points)

    for filters in (Filters(), Filters(country=("FR",)), Filters(theme=("AM40",), need=("funding",)),
                    Filters(country=("BE", "IT"), offer=("premises",)), Filters(q="Org 1")):
        same(filters)
    with catalogue.write_transaction(db):  # edits and a deletion, patched into the columns
        db.execute("UPDATE organisations SET country = 'IT' WHERE name = 'Org 3'")
        db.execute("DELETE FROM organisation_resources WHERE organisation_id = (SELECT id FROM organisations"
                   " WHERE name = 'Org 5')")
        db.execute("UPDATE organisations SET status = 'draft' WHERE name = 'Org 7'")
    org(db, "Org new", (46.0, 5.0), needs={"funding": ""}, structure="OS10")
    same(Filters())
    same(Filters(country=("IT",)))


def test_a_parent_counts_the_organisations_in_it_or_any_child_each_once(db, client):
    """The count per category of /stats counts a parent's family, as the filter selects it."""
    from mapapp.catalogue import categories
    from mapapp.mapdata import mapindex

    made = dict(user_email="admin@example.org", aliases=[], colour="#aa3300", icon="hammer", essglobal=None)
    trades = categories.create(db, labels={"fr": "Métiers du bâtiment", "en": "Building trades"}, **made)
    plumbing = categories.create(db, parent_id=trades, labels={"fr": "Plomberie", "en": "Plumbing"}, **made)
    carpentry = categories.create(db, parent_id=trades, labels={"fr": "Charpente", "en": "Carpentry"}, **made)
    code = {i: categories.get(db, i).code for i in (trades, plumbing, carpentry)}
    org(db, "Plombier", LYON, themes=[code[plumbing]])
    org(db, "Charpentier", LYON, themes=[code[carpentry]])
    org(db, "Both trades", LYON, themes=[code[plumbing], code[carpentry]])
    org(db, "The parent itself", LYON, themes=[code[trades], code[carpentry]])
    org(db, "Elsewhere", LYON, themes=["AM40"])
    for found in (numbers.compute(db, Filters()), numbers.compute(db, Filters(), columns=mapindex.MapIndex().get(db))):
        assert found.by_theme[code[trades]] == 4  # not 1 (itself) nor 6 (rows)
        assert found.by_theme[code[plumbing]] == 2 and found.by_theme[code[carpentry]] == 3
        assert found.by_theme["AM40"] == 1
    page = client.get("/stats?lang=fr").get_data(as_text=True)
    assert "Métiers du bâtiment" in page
