"""Hostile and broken files: each gets a clear message, none a 500, and the catalogue
stays as it was."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from support import csrf_from, make_org, sign_in

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.importing import importer, readers
from mapapp.mapdata.geocode import Chain


def read_error(path: Path) -> str:
    with pytest.raises(readers.ReadError) as info:
        readers.read_table(path)
    return str(info.value)


def test_a_header_of_a_million_columns_is_refused_at_once(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\nname\n")
    started = time.monotonic()
    message = read_error(path)
    assert time.monotonic() - started < 10
    assert "1,000,000 columns" in message and f"at most {readers.MAX_COLUMNS}" in message


def test_empty_columns_after_the_last_header_do_not_count(tmp_path):
    path = tmp_path / "padded.csv"
    path.write_text("name,city" + "," * 5000 + "\nCoop,Lyon\n")
    table = readers.read_table(path)
    rows = list(table.rows)
    assert table.headers == ["name", "city"] and rows[0][1][:2] == ["Coop", "Lyon"]


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_a_zip_with_forged_sizes_is_refused(tmp_path):
    path = _zip(tmp_path / "forged.xlsx", {"xl/workbook.xml": b"<workbook>" + b" " * 500_000 + b"</workbook>"})
    raw = bytearray(path.read_bytes())
    # Say in the central directory (and the local header) that the part unpacks to 10 bytes.
    central = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 10)
    struct.pack_into("<I", raw, 0 + 22, 10)
    path.write_bytes(bytes(raw))
    message = read_error(path)
    assert "damaged" in message or "refused" in message


def test_a_doctype_hidden_after_a_long_comment_is_refused(tmp_path):
    xml = (b'<?xml version="1.0"?><!--' + b"x" * 8000 + b'--><!DOCTYPE w [<!ENTITY e "boom">]>'
           b"<workbook>&e;</workbook>")
    path = _zip(tmp_path / "entities.xlsx", {"xl/workbook.xml": xml})
    assert "declares XML entities" in read_error(path)


def test_a_long_description_imports_and_a_broken_quote_is_named(db, tmp_path):
    long_text = "Une coopérative. " * 12_000  # 200 KB in one cell
    path = tmp_path / "long.csv"
    path.write_text(f'name,city,country,description\nCoop Longue,Lyon,FR,"{long_text}"\n', encoding="utf-8")
    report = importer.import_file(db, path, importer.Options(), Chain.from_config("provided,gazetteer", db, user_agent=""))
    assert report.counts["created"] == 1
    stored = catalogue.find_organisations(db, Filters(), statuses=("draft",))[0]
    assert len(db.execute("SELECT description FROM organisations WHERE id = ?", [stored["id"]]).fetchone()[0]) > 190_000
    line = tmp_path / "one-line.csv"
    line.write_text("name,description\nCoop," + "y" * 10_000_000 + "\n")
    assert next(readers.read_table(line).rows)[1][1] == "y" * 10_000_000


def test_odd_length_utf16_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes("\ufeffname,city\nCoop,Lyon\n".encode("utf-16-le") + b"\x00")
    assert "UTF-16" in read_error(path)


def test_json_nested_200000_deep_is_refused(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert "nests its JSON deeper" in read_error(path)


HOSTILE_FILES = {  # file name: (content, what the preview says)
    "wide.csv": (lambda: (",".join(f"c{i}" for i in range(200_000)) + "\nx\n").encode(), "200,000 columns"),
    "cut.csv": (lambda: "\ufeffname\nCoop\n".encode("utf-16-le") + b"\x00", "UTF-16"),
    "deep.geojson": (lambda: b"[" * 200_000 + b"]" * 200_000, "nests its JSON deeper"),
    "quote.csv": (lambda: b'name,city\n"Coop' + b"z" * 200_000 + b"\n", "a quote left open"),
    ("n" * 300 + ".csv"): (lambda: b"name,city,country\nCoop,Lyon,FR\n", "1 created"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES, ids=lambda n: n[:20])
@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_hostile_uploads_get_a_message_not_a_500(app, db, staff, tmp_path, name):
    make_org(db, "Already here")
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    content, expected = HOSTILE_FILES[name]
    response = client.post("/admin/imports", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(content()), name)})
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    assert expected in preview.get_data(as_text=True)
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Already here"]
