"""A funder's report: the project page counts, per country and kind, the organisations visited,
the participating organisations and the visits and events (as a brute-force count does); the
PDF made by the worker has the visits chapter in the chosen language, the participants by
country, titles that fall back to English with a note, and stored text stays inert."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import pytest
from pypdf import PdfReader
from support import make_org

from mapapp import catalogue, create_app

PLACES = {"FR": (45.764, 4.835, "Lyon"), "PL": (52.406, 16.925, "Poznań"), "BE": (50.850, 4.352, "Bruxelles"),
          "CY": (35.166, 33.367, "Nicosia")}
HOSTILE = "{{ 7*7 }}{% raw %}<script>alert(1)</script>${x}javascript:alert(1)=1+1\r\nX\ufffe"
# (slug, kind, country, date, end date, titles, organisations and roles)
VISITS = [
    ("lyon", "study-visit", "FR", "2026-12-06", None, {"fr": "Visite de Lyon", "en": "Visit to Lyon"},
     {"fr-a": "host", "fr-b": "visited", "pl-a": "participant", "cy-a": "participant"}),
    ("poznan", "seminar", "PL", "2026-03-10", "2026-03-12", {"en": "Seminar in Poznań"},
     {"pl-a": "host", "be-a": "participant", "fr-a": "participant"}),
    ("brussels", "event", "BE", "2026-05-02", None, {"en": "Fair in Brussels", "fr": "Foire à Bruxelles"},
     {"be-a": "visited", "be-b": "host"}),
    ("online", "online", None, "2026-06-01", None, {"en": "Online meeting"}, {"cy-a": "participant"}),
    ("nicosia", "study-visit", "CY", "2026-09-15", "2026-09-17", {"en": HOSTILE},
     {"cy-b": "visited", "fr-b": "participant", "draft": "participant"}),
]
# (key, country, relation to the project, status)
MEMBERS = [("fr-a", "FR", "partner", "published"), ("fr-b", "FR", "participant", "published"),
           ("pl-a", "PL", "visited", "published"), ("pl-b", "PL", "participant", "published"),
           ("be-a", "BE", "other", "published"), ("be-b", "BE", "visited", "published"),
           ("cy-a", "CY", "participant", "published"), ("cy-b", "CY", "other", "published"),
           ("draft", "FR", "participant", "draft")]


@pytest.fixture
def project(db):
    saved = {}
    for key, country, relation, status in MEMBERS:
        lat, lon, city = PLACES[country]
        name = HOSTILE if key == "cy-b" else f"Organisation {key.upper()}"
        saved[key] = make_org(db, name, lat=lat, lon=lon, city=city, country=country, status=status,
                              source_ref=key)
    catalogue.save_project(db, {"slug": "funded", "name": "Funded project", "names": {"fr": "Projet financé"},
                                "description": "Study visits across Europe."})
    with db.conn:
        db.execute("UPDATE projects SET descriptions = ? WHERE slug = 'funded'",
                   [json.dumps({"pl": "Wizyty studyjne w Europie."})])
    for key, _, relation, _ in MEMBERS:
        catalogue.link_organisation(db, saved[key].id, projects=["funded"])
        with db.conn:
            db.execute("UPDATE project_organisations SET relation = ? WHERE organisation_id = ?",
                       [relation, saved[key].id])
    for slug, kind, country, start, end, titles, roles in VISITS:
        lat, lon, city = PLACES[country] if country else (None, None, "")
        catalogue.save_visit(db, {"slug": slug, "project": "funded", "title": titles["en"], "titles": titles,
                                  "city": city, "country": country, "date": start})
        with db.conn:
            db.execute("UPDATE visits SET kind = ?, end_date = ?, lat = ?, lon = ?, place = ? WHERE slug = ?",
                       [kind, end, lat, lon, HOSTILE if slug == "brussels" else "", slug])
        for key, role in roles.items():
            catalogue.link_organisation(db, saved[key].id, visits=[slug])
            with db.conn:
                db.execute("UPDATE visit_organisations SET role = ? WHERE organisation_id = ?"
                           " AND visit_id = (SELECT id FROM visits WHERE slug = ?)", [role, saved[key].id, slug])
    return saved


@pytest.fixture
def site(db_path, tmp_path, project):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


def brute_force() -> dict[str, Counter]:
    """The expected counts from the fixture's lists, by hand: distinct published organisations."""
    country = {key: c for key, c, _, status in MEMBERS if status == "published"}
    visited = {k for k, _, relation, _ in MEMBERS if relation == "visited"}
    participants = {k for k, _, relation, _ in MEMBERS if relation == "participant"}
    for *_, roles in VISITS:
        visited |= {k for k, role in roles.items() if role in ("host", "visited")}
        participants |= {k for k, role in roles.items() if role == "participant"}
    counts = {"visited": Counter(country[k] for k in visited if k in country),
              "participants": Counter(country[k] for k in participants if k in country)}
    for kind in ("study-visit", "seminar", "online", "event"):
        counts[kind] = Counter(c or "" for _, k, c, *_ in VISITS if k == kind)
    return counts


def test_the_page_counts_per_country_and_kind_what_a_brute_force_count_finds(site):
    page = site.test_client().get("/projects/funded?lang=en").get_data(as_text=True)
    table = page[page.index('class="admin-table funder-counts"'):]
    table = table[:table.index("</table>")]
    expected = brute_force()
    shown = {}
    for code, cells in re.findall(r'<tr data-country="([^"]*)">(.*?)</tr>', table, re.S):
        numbers = [int(n) for n in re.findall(r'<td class="n"[^>]*>(\d+)</td>', cells)]
        shown[code] = numbers
    columns = ("visited", "participants", "study-visit", "seminar", "online", "event")
    for code in ("FR", "PL", "BE", "CY", ""):
        assert shown[code] == [expected[c][code] for c in columns], code
    assert shown["total"] == [sum(expected[c].values()) for c in columns]
    assert shown["FR"][:2] == [2, 2] and shown["CY"][:2] == [1, 1]  # the draft (FR) is not counted
    assert "Possible partnerships among the members" in page


def text_of(pdf: bytes) -> str:
    """The PDF's text, each run of spaces and line breaks (table cells wrap) as one space."""
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_the_pdf_has_the_visits_chapter_in_french_made_by_the_worker(site, worker_for):
    client = site.test_client()
    with worker_for(site):
        pdf = client.get("/projects/funded/report.pdf?lang=fr")
    assert pdf.mimetype == "application/pdf"
    text = text_of(pdf.data)
    assert "Projet financé" in text and "Visites et événements" in text
    assert "6 décembre 2026" in text and "10 mars 2026 – 12 mars 2026" in text  # dates in French
    assert "Visite de Lyon" in text and "Foire à Bruxelles" in text
    assert "Seminar in Poznań (en anglais)" in text  # no French title: English, said so
    assert "Visit to Lyon" not in text
    assert "Study visits across Europe. (en anglais)" in text  # the description, likewise
    chapter = text[text.index("Organisations participantes par pays"):]
    assert "Chypre Organisation CY-A" in chapter and "Pologne Organisation PL-A, Organisation PL-B" in chapter
    assert "Organisation DRAFT" not in text
    reader = PdfReader(io.BytesIO(pdf.data))
    assert "/StructTreeRoot" in reader.trailer["/Root"] and reader.trailer["/Root"]["/MarkInfo"]["/Marked"]


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_hostile_text_stays_inert_in_the_page_and_the_pdf(site, worker_for):
    client = site.test_client()
    page = client.get("/projects/funded?lang=en").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with worker_for(site):
        pdf = client.get("/projects/funded/report.pdf?lang=en")
    text = text_of(pdf.data)
    flat = text.replace(" ", "")
    assert "{{7*7}}{%raw%}<script>alert(1)</script>${x}javascript:alert(1)=1+1" in flat  # as written, not run
    assert "Organisation PL-A" in text  # the rest of the text stays readable (no noncharacter in the fonts)




@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_report_asked_twice_at_once_is_made_once_and_a_visitor_waiting_sees_it_being_prepared(site, worker_for,
                                                                                                  monkeypatch):
    """The job worker makes a report once per key: two visitors asking at once get the same
    PDF from one build; a visitor asking while no worker has made it yet gets a page that
    asks again by itself, then the PDF."""
    import threading

    from mapapp.insights import report
    from mapapp.web import insights as insights_views

    builds, release = [], threading.Event()
    real = report.pdf

    def counted(html):
        builds.append(1)
        release.wait(30)
        return real(html)

    monkeypatch.setattr(report, "pdf", counted)
    monkeypatch.setattr(insights_views, "REPORT_WAIT", 0.2)
    monkeypatch.setattr(insights_views, "REPORT_REFRESH", 1)
    address = "/projects/funded/report.pdf?lang=en"
    with worker_for(site):
        waiting = site.test_client().get(address)  # the worker is making it, held by ``release``
        assert waiting.status_code == 202 and waiting.headers["Refresh"] == "1"
        page = waiting.get_data(as_text=True)
        assert "The report is being prepared" in page and 'href="/projects/funded/report.pdf?lang=en"' in page
        monkeypatch.setattr(insights_views, "REPORT_WAIT", 30)
        answers = []
        visitors = [threading.Thread(target=lambda: answers.append(site.test_client().get(address))) for _ in range(2)]
        for visitor in visitors:
            visitor.start()
        release.set()
        for visitor in visitors:
            visitor.join(60)
    assert [a.mimetype for a in answers] == ["application/pdf"] * 2 and answers[0].data == answers[1].data
    assert len(builds) == 1


def tagged_pdf_problems(pdf: bytes, lang: str, title: str) -> list[str]:
    """What a PDF/UA checker would refuse first: no PDF/UA identifier in the XMP metadata, no
    structure tree or not marked, no document language, no title shown as the window's, a
    figure without its text alternative, text outside the structure of every heading."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    problems = []
    xmp = root["/Metadata"].get_object().get_data().decode() if "/Metadata" in root else ""
    if 'pdfuaid:part="1"' not in xmp:
        problems.append("no PDF/UA-1 identifier in the XMP metadata")
    if "/StructTreeRoot" not in root or not root.get("/MarkInfo", {}).get("/Marked"):
        problems.append("not tagged (no StructTreeRoot, or MarkInfo Marked false)")
    if root.get("/Lang") != lang:
        problems.append(f"document language {root.get('/Lang')!r}, not {lang!r}")
    if title not in (reader.metadata or {}).get("/Title", "") or title not in xmp:
        problems.append(f"title {(reader.metadata or {}).get('/Title')!r} does not name {title!r}")
    if not root.get("/ViewerPreferences", {}).get("/DisplayDocTitle"):
        problems.append("the viewer shows the file name, not the title")
    kinds = Counter()

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            kinds[node.get("/S")] += 1
            if node.get("/S") == "/Figure" and not node.get("/Alt"):
                problems.append("a figure without /Alt")
            if "/K" in node:
                walk(node["/K"])

    if "/StructTreeRoot" in root:
        walk(root["/StructTreeRoot"])
    if not (kinds["/H1"] == 1 and kinds["/H2"] and kinds["/Table"] and kinds["/Figure"]):
        problems.append(f"a structure without its heading, chapters, tables or figures: {dict(kinds)}")
    return problems


@pytest.mark.slow  # two PDFs
def test_the_french_and_greek_reports_are_tagged_pdf_ua(site, tmp_path):
    runner = site.test_cli_runner()
    for lang, title in (("fr", "Projet financé"), ("el", "Funded project")):
        out = tmp_path / f"{lang}.pdf"
        result = runner.invoke(args=["report", "funded", "-o", str(out), "--lang", lang])
        assert result.exit_code == 0, result.output
        assert tagged_pdf_problems(out.read_bytes(), lang, title) == [], lang
