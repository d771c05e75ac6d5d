import openpyxl
import pandas as pd
import pytest

from mapapp.importing.columns import score_header
from mapapp.importing.readers import ReadError, read_table

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_french_excel_csv_is_decoded_and_split():
    table = read_table(FIXTURES / "french_excel.csv", score_header=score_header)
    rows = list(table.rows)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.headers[:3] == ["Nom", "Adresse", "Code postal"]
    number, cells = rows[0]
    assert number == 2 and cells[0] == "Coopérative Élan" and cells[2] == "1000"


def test_bom_is_removed_from_the_first_header():
    table = read_table(FIXTURES / "utf8_bom.csv")
    assert table.headers[0] == "id" and table.encoding == "utf-8-sig"


def test_xlsx_with_a_title_row_and_numbers(tmp_path):
    path = tmp_path / "partners.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Intro"
    sheet.append(["Read me first"])
    data = book.create_sheet("Partners")
    data.append(["Partners of the Lyon seminar 2025"])
    data.append([])
    data.append(["Name", "Postcode", "City", "Country", "Latitude", "Longitude"])
    data.append(["Coop A", 1000, "Bourg-en-Bresse", "FR", 46.2, 5.22])
    data.append([None, None, None, None, None, None])
    data.append(["Coop B", "69001", "Lyon", "FR", None, None])
    book.save(path)

    table = read_table(path, sheet="Partners", score_header=score_header)
    rows = list(table.rows)
    assert table.header_row == 3
    assert table.headers == ["Name", "Postcode", "City", "Country", "Latitude", "Longitude"]
    assert [n for n, _ in rows] == [4, 6]  # the empty row is skipped, numbers kept
    assert rows[0][1][:2] == ["Coop A", "1000"]
    assert rows[0][1][4] == "46.2"
    with pytest.raises(ReadError, match="its sheets are: Intro, Partners"):
        read_table(path, sheet="Nope")
    # Without --sheet the cover page is passed over for the first sheet with a table.
    first = read_table(path, score_header=score_header)
    assert first.sheet == "Partners"
    assert any("read sheet 'Partners' of 2" in note for note in first.notes)


def test_ods(tmp_path):
    path = tmp_path / "partners.ods"
    pd.DataFrame({"Nome": ["Cooperativa Uno"], "Città": ["Bologna"], "Paese": ["Italia"]}).to_excel(
        path, engine="odf", index=False)
    table = read_table(path, score_header=score_header)
    rows = list(table.rows)
    assert table.format == "ods" and rows[0][1] == ["Cooperativa Uno", "Bologna", "Italia"]


def test_geojson_points_and_properties():
    table = read_table(FIXTURES / "export.geojson")
    assert "name" in table.headers
    assert table.points[1] == pytest.approx((52.4064, 16.9252))
    assert 3 not in table.points  # the feature without geometry


def test_geojson_in_another_crs_is_reprojected(tmp_path):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(4.8358, 45.764)
    path = tmp_path / "mercator.geojson"
    path.write_text('{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                    '{"name": "urn:ogc:def:crs:EPSG::3857"}}, "features": [{"type": "Feature", '
                    f'"geometry": {{"type": "Point", "coordinates": [{x}, {y}]}}, '
                    '"properties": {"name": "Coop"}}]}')
    table = read_table(path)
    lat, lon = table.points[1]
    assert lat == pytest.approx(45.764, abs=1e-3) and lon == pytest.approx(4.8358, abs=1e-3)
    assert any("reprojected" in note for note in table.notes)


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "is empty"),
    ("data.pdf", b"%PDF", "unsupported file type"),
    ("broken.xlsx", b"not a zip", "is not a valid XLSX file"),
    ("broken.geojson", b"{nope", "not valid JSON"),
    ("one.csv", b"justonecolumn\nvalue\n", "no header row"),
])
def test_unreadable_files_say_why(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        read_table(path)


def test_zip_bomb_is_refused_quickly_without_unpacking(tmp_path):
    import resource
    import time
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            chunk = b"0" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros, about 300 KB compressed
                part.write(chunk)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ReadError, match="refused"):
        read_table(path)
    assert time.perf_counter() - started < 1.0
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 200


def test_xml_entity_declarations_are_refused(tmp_path):
    import zipfile

    path = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Types/>')
    with pytest.raises(ReadError, match="declares XML entities"):
        read_table(path)
