"""Large exports leave from their first rows: the XLSX workbook is written as it is read,
with the same cells as the workbook XlsxWriter built whole before it was sent."""

from __future__ import annotations

import io
import threading
import time

import geopandas as gpd
import openpyxl
import python_calamine
import xlsxwriter
from support import make_org

from mapapp import catalogue
from mapapp.csvsafe import neutralise
from mapapp.filters import Filters
from mapapp.mapdata import exports, xlsxstream

HOSTILE = ("{{ 7*7 }} {% if x %} ${7*7} <script>alert(1)</script> javascript:alert(2) "
           "<r><t>rich</t></r> a\r\nb \ufffe _x0041_ \x01 & \"q\" 'a")
FORMULAS = ("=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "=HYPERLINK(\"http://evil.example\",\"x\")")


def _hostile_catalogue(db, count: int = 300) -> None:
    for n in range(count):
        make_org(db, f"{FORMULAS[n % len(FORMULAS)]} {HOSTILE} {n}", city=FORMULAS[(n + 1) % len(FORMULAS)],
                 description=HOSTILE if n % 3 else "", street=f"  {n} rue =A1", postcode="-3.5",
                 lat=45 + n / 1000 if n % 7 else None, lon=4.84 if n % 7 else None,
                 website=f"https://coop.example/?q==1+1&n={n}")


def _former_workbook(orgs: list[dict], path) -> bytes:
    """The workbook as XlsxWriter wrote it to a file before it was sent."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("organisations")
    sheet.write_row(0, 0, [neutralise(n) for n in exports.header(False)])
    rows = exports.table(orgs, lang="en", base_url="http://127.0.0.1:5000")
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, [neutralise(v) if isinstance(v, str) else v for v in row])
    book.close()
    return path.read_bytes()


def test_the_streamed_workbook_has_the_former_cells_and_runs_no_formula(app, db, tmp_path):
    _hostile_catalogue(db)
    response = app.test_client().get("/api/organisations.xlsx")
    assert response.status_code == 200
    assert response.mimetype == exports.MEDIA_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["organisations"]
    got = [[c.value for c in row] for row in sheet.iter_rows()]
    orgs = catalogue.export_organisations(db, Filters())
    former = openpyxl.load_workbook(io.BytesIO(_former_workbook(orgs, tmp_path / "former.xlsx"))).active
    expected = [[c.value for c in row] for row in former.iter_rows()]
    for a, b in zip(got, expected):
        assert [x for x in zip(a, b) if x[0] != x[1]] == []
    assert got == expected
    assert len(got) == 301 and got[0][:3] == ["slug", "name", "description"]
    # Text is text: no formula cell, every formula-like value shown with its apostrophe.
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    names = [row[1] for row in got[1:]]
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    assert "'=1+1 " + HOSTILE.replace("\r", "_x000D_").replace("\ufffe", "_xFFFE_").replace(
        "_x0041_", "_x005F_x0041_").replace("\x01", "_x0001_") + " 0" in names
    record = dict(zip(got[0], got[1 + names.index(next(n for n in names if n.endswith(" 1")))]))
    assert record["lat"] == 45.001 and record["website"] == "https://coop.example/?q==1+1&n=1"  # text, not a link
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:V301"
    assert sheet["A1"].font.b and sheet.column_dimensions["B"].width > 30
    # A reader as LibreOffice reads it gets the same text from both, control characters included.
    def calamine(data: bytes) -> list[list]:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(
            "organisations").to_python()

    rows = calamine(response.data)
    assert rows == calamine((tmp_path / "former.xlsx").read_bytes())
    assert any(row[1].startswith("'=1+1 {{ 7*7 }}") and "a\r\nb" in row[1] and "\x01" in row[1] for row in rows)


def test_the_workbook_starts_before_the_catalogue_is_read(app, db, monkeypatch):
    for n in range(30):
        make_org(db, f"Coop {n:02d}")
    read = []
    real = catalogue.iter_export_batches

    def batches(*args, **kwargs):
        for batch in real(*args, **{**kwargs, "batch": 3}):
            read.append(len(batch))
            yield batch

    monkeypatch.setattr(catalogue, "iter_export_batches", batches)
    monkeypatch.setattr(xlsxstream, "_FLUSH_BYTES", 1)  # pass on each batch's bytes at once
    response = app.test_client().get("/api/organisations.xlsx", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")  # the workbook's first bytes…
    assert len(read) < 10  # …before its ten batches were read
    body = first + b"".join(chunks)
    response.close()
    assert sum(read) == 30
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert [c.value for c in sheet["B"]][1:] == [f"Coop {n:02d}" for n in range(30)]


def test_a_sheet_stops_at_excels_last_row(monkeypatch):
    monkeypatch.setattr(xlsxstream, "MAX_ROWS", 4)
    taken = []

    def rows():
        for n in range(10):
            taken.append(n)
            yield [[f"row {n}", n]]

    body = b"".join(xlsxstream.chunks(["name", "n"], rows(), sheet="s"))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert [c.value for c in sheet["A"]] == ["name", "row 0", "row 1", "row 2"]
    assert len(taken) == 3  # the rest is not read


def test_the_geopackage_is_made_by_the_worker_once_and_kept(app, db, worker, monkeypatch):
    from mapapp.mapdata import exportjob
    from mapapp.web import api

    for n in range(5):
        make_org(db, f"{HOSTILE} {n}", lat=45 + n, lon=4)
    make_org(db, "Coop without a place", lat=None, lon=None)
    gate, made = threading.Event(), []
    real = exportjob.make_gpkg

    def held(*args, **kwargs):
        made.append(1)
        gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(exportjob, "make_gpkg", held)
    monkeypatch.setattr(api, "GPKG_WAIT", 0.2)
    client = app.test_client()
    url = "/api/organisations.gpkg?q=%3Cscript%3Ealert(1)%3C/script%3E"
    waiting = client.get(url)
    assert waiting.status_code == 202 and waiting.headers["Refresh"] == str(api.GPKG_REFRESH)
    assert waiting.headers["Cache-Control"] == "no-store"
    page = waiting.get_data(as_text=True)
    assert "The GeoPackage is being prepared" in page and "<script>alert(1)" not in page
    assert client.get(url).status_code == 202  # asked again meanwhile: still the one job
    gate.set()
    deadline = time.monotonic() + 60
    while (answer := client.get(url)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer.status_code == 200 and len(made) == 1
    assert answer.headers["Content-Disposition"].startswith("attachment")
    frame = gpd.read_file(io.BytesIO(answer.data), layer="organisations")
    assert sorted(frame["name"]) == sorted(f"{HOSTILE} {n}" for n in range(5)) and frame.crs.to_epsg() == 4326
    # Kept: the next asks are sent from the file, and a broken-off download resumes.
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == answer.data[100:200]
    assert len(made) == 1


def test_without_a_worker_the_geopackage_is_made_in_the_request(app, db):
    make_org(db, "Coop Alpha")
    answer = app.test_client().get("/api/organisations.gpkg")
    assert answer.status_code == 200
    assert list(gpd.read_file(io.BytesIO(answer.data), layer="organisations")["name"]) == ["Coop Alpha"]


def test_linked_data_leaves_a_batch_at_a_time_and_reads_back_as_one_graph(app, db, monkeypatch):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from mapapp.mapdata import linked

    for n in range(7):
        make_org(db, f"{HOSTILE} {n}", lat=None if n % 3 == 0 else 45 + n, lon=None if n % 3 == 0 else 4,
                 themes=("AM40",))
    read = []
    real = catalogue.iter_export_batches

    def batches(*args, **kwargs):
        for batch in real(*args, **{**kwargs, "batch": 2}):
            read.append(len(batch))
            yield batch

    monkeypatch.setattr(catalogue, "iter_export_batches", batches)
    whole = linked.graph(catalogue.export_organisations(db, Filters()), lang="en", base_url="http://127.0.0.1:5000")
    client = app.test_client()
    for fmt, syntax in (("ttl", "turtle"), ("jsonld", "json-ld")):
        read.clear()
        response = client.get(f"/api/organisations.{fmt}?lang=en", buffered=False)
        chunks = iter(response.response)
        first = next(chunks)
        assert len(read) < 4, fmt  # sent before the four batches were read
        body = first + b"".join(chunks)
        response.close()
        assert isomorphic(Graph().parse(data=body.decode("utf-8"), format=syntax), whole), fmt


def test_geopackages_prepared_at_once_are_bounded(app, db, worker, monkeypatch):
    from mapapp.jobs import queue

    make_org(db, "Coop Alpha")
    monkeypatch.setattr(queue, "MAX_EXPORT_JOBS", 0)  # as if others' filters filled every place
    answer = app.test_client().get("/api/organisations.gpkg?country=FR")
    assert answer.status_code == 429 and "preparing other downloads" in answer.get_json()["error"]
    assert int(answer.headers["Retry-After"]) > 0
