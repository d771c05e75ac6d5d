"""Read a spreadsheet or GeoJSON file into a ``Table``: headers and rows of text.

CSV (encoding and delimiter detected), XLSX and ODS (python-calamine), GeoJSON
(geopandas, reprojected to WGS84). Row numbers are the ones a person sees in a
spreadsheet program, so that a report can say "row 14".
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..translate import N_, Message

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".xls": "xlsx", ".ods": "ods", ".geojson": "geojson", ".json": "geojson"}
DELIMITERS = ",;\t|"
HEADER_SEARCH_ROWS = 10
# No spreadsheet of organisations has more columns; bounding them bounds the work
# of recognising headers and of the preview.
MAX_COLUMNS = 500
# Long descriptions are real (a page of text is 5 KB); the upload limit bounds the rest.
MAX_CELL_BYTES = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_BYTES))


class ReadError(Exception):
    """The file cannot be read as a table; the message says why and what to do."""


@dataclass
class Table:
    """What a file holds, as text."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as shown in a spreadsheet, cells)
    format: str
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    points: dict[int, tuple[float, float]] = field(default_factory=dict)  # row -> (lat, lon)
    notes: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str:
    """The format from the file name, or a message listing the supported ones."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(f"{path.name}: unsupported file type '{path.suffix}'; use CSV, XLSX, ODS or GeoJSON")
    return fmt


# Limits for workbooks (zip archives of XML): what a real spreadsheet never exceeds.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_MEMBERS = 10_000


_ENTITY_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK = 1024 * 1024


def check_archive(path: Path) -> None:
    """Refuse zip bombs and XML entity tricks in an XLSX/ODS before a reader unpacks it.

    Every part is decompressed once, counting bytes against the limits (so sizes forged
    in the archive's directory are caught), and its XML is searched for DOCTYPE and
    ENTITY declarations wherever they stand."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ReadError(f"{path.name} is not a valid {path.suffix[1:].upper()} file (it is not a zip "
                        "archive); save it again from your spreadsheet program") from None
    try:
        with archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ReadError(f"{path.name} holds {len(members)} parts; a spreadsheet has far fewer: refused")
            declared = sum(m.file_size for m in members)
            if declared > MAX_UNZIPPED_BYTES:
                raise ReadError(f"{path.name} would unpack to {declared / 1e6:.0f} MB (the limit is "
                                f"{MAX_UNZIPPED_BYTES / 1e6:.0f} MB): refused")
            unpacked = 0
            for m in members:
                if m.compress_size and m.file_size / m.compress_size > MAX_COMPRESSION_RATIO \
                        and m.file_size > 1_000_000:
                    raise ReadError(f"{path.name}: part {m.filename} is compressed "
                                    f"{m.file_size // m.compress_size} times, as only a zip bomb is: refused")
                unpacked += _check_part(path, archive, m, MAX_UNZIPPED_BYTES - unpacked)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise ReadError(f"{path.name} is a damaged {path.suffix[1:].upper()} file ({e}); "
                        "save it again from your spreadsheet program") from None


def _check_part(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """Unpack one part, within ``budget`` bytes; return its size."""
    is_xml = member.filename.endswith((".xml", ".rels"))
    size, tail = 0, b""
    with archive.open(member) as part:
        while chunk := part.read(_CHUNK):
            size += len(chunk)
            if size > budget:
                raise ReadError(f"{path.name} unpacks to more than {MAX_UNZIPPED_BYTES / 1e6:.0f} MB: refused")
            if is_xml and _ENTITY_DECLARATION.search(tail + chunk):
                raise ReadError(f"{path.name}: part {member.filename} declares XML entities, which "
                                "spreadsheets never need: refused")
            tail = chunk[-16:]
    return size


def read_table(
    path: str | Path, *, sheet: str | None = None, encoding: str | None = None,
    delimiter: str | None = None, score_header: Callable[[list[str]], int] | None = None,
) -> Table:
    """Read ``path``; ``score_header`` rates a candidate header row (how many cells are
    known column names) so that title rows above the header are skipped."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    fmt = detect_format(path)
    if fmt == "csv":
        return _read_csv(path, encoding, delimiter, score_header)
    if fmt in ("xlsx", "ods"):
        if path.suffix.lower() != ".xls":  # the old binary format is not a zip archive
            check_archive(path)
        return _read_workbook(path, fmt, sheet, score_header)
    return _read_geojson(path)


# -- CSV ---------------------------------------------------------------------------


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise ReadError(f"unknown encoding '{encoding}'; try utf-8 or cp1252") from None
        except UnicodeDecodeError as e:
            raise ReadError(f"the file is not valid {encoding} (byte {e.start}); "
                            "try another --encoding, such as cp1252 or utf-8") from None
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise ReadError(f"the file starts as UTF-16 text but is cut or damaged at byte {e.start}; "
                            "save it again as CSV UTF-8") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Excel on Windows in western Europe saves CSV as Windows-1252.
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=first.count)


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, score_header) -> Table:
    text, used = _decode(path.read_bytes(), encoding)
    if not text.strip():
        raise ReadError(f"{path.name} is empty")
    if delimiter == "\\t":
        delimiter = "\t"
    if delimiter and len(delimiter) != 1:
        raise ReadError(f"--delimiter must be one character, got '{delimiter}'")
    sep = delimiter or _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        records = list(reader)
    except csv.Error as e:
        raise ReadError(f"{path.name}, line {reader.line_num}: {e}; check the quotes of that line") from None
    table = _from_records(records, "csv", score_header)
    table.encoding, table.delimiter = used, sep
    return table


# -- workbooks -------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        return "; ".join(_cell_text(v) for v in value)  # a list property: one item each
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_workbook(path: Path, fmt: str, sheet: str | None, score_header) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for broken files
        raise ReadError(f"{path.name} cannot be opened as {fmt.upper()}: {e}") from None
    names = workbook.sheet_names
    if not names:
        raise ReadError(f"{path.name} has no sheets")
    if sheet is not None and sheet not in names:
        raise ReadError(f"{path.name} has no sheet '{sheet}'; its sheets are: {', '.join(names)}")
    # Without --sheet, the first sheet that holds a table (not a cover page).
    problems = []
    for chosen in [sheet] if sheet else names:
        # Row by row, so that only the text copy of a large sheet is held in memory.
        records = [[_cell_text(v) for v in row] for row in workbook.get_sheet_by_name(chosen).iter_rows()]
        try:
            table = _from_records(records, fmt, score_header)
        except ReadError as e:
            problems.append(f"sheet '{chosen}': {e}")
            continue
        table.sheet, table.sheets = chosen, list(names)
        if sheet is None and len(names) > 1:
            table.notes.append(Message(N_("read sheet '%(sheet)s' of %(n)s (%(names)s)"),
                                       sheet=chosen, n=len(names), names=", ".join(names)))
        return table
    raise ReadError(f"{path.name}: no table found; " + "; ".join(problems))


def _from_records(records: list[list[str]], fmt: str, score_header) -> Table:
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    if not records:
        raise ReadError("the file has no rows")
    for i, r in enumerate(records[:HEADER_SEARCH_ROWS]):
        width = next((n for n in range(len(r), 0, -1) if r[n - 1].strip()), 0)
        if width > MAX_COLUMNS:
            raise ReadError(f"row {i + 1} has {width:,} columns; a file may have at most {MAX_COLUMNS}: "
                            "delete the columns the map does not need")
        del r[width:]  # empty cells after the last filled one
    candidates = [i for i, r in enumerate(records[:HEADER_SEARCH_ROWS])
                  if sum(1 for c in r if c.strip()) >= 2]
    if not candidates:
        raise ReadError("no header row found: the first rows have fewer than two filled cells")
    header_index = candidates[0]
    if score_header:
        best = max(candidates, key=lambda i: (score_header(records[i]), -i))
        if score_header(records[best]) > 0:
            header_index = best
    headers = [h.strip() for h in records[header_index]]
    width = len(headers)
    rows = []
    for offset, record in enumerate(records[header_index + 1:], start=header_index + 2):
        if not any(c.strip() for c in record):
            continue
        cells = list(record[:width]) + [""] * (width - len(record))
        extra = [c for c in record[width:] if c.strip()]
        if extra:
            cells.append(" ".join(extra))  # surfaced as an unnamed column
        rows.append((offset, cells))
    if any(len(cells) > width for _, cells in rows):
        headers.append(Message(N_("(cells beyond the last header)")))
        rows = [(n, cells + [""] * (len(headers) - len(cells))) for n, cells in rows]
    table = Table(headers=headers, rows=rows, format=fmt, header_row=header_index + 1)
    if header_index:
        table.notes.append(Message(N_("skipped %(n)s row(s) above the header (row %(row)s)"),
                                   n=header_index, row=header_index + 1))
    return table


# -- GeoJSON ---------------------------------------------------------------------------


def _read_geojson(path: Path) -> Table:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    try:
        json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReadError(f"{path.name} is not valid JSON: {e}") from None
    except RecursionError:
        raise ReadError(f"{path.name} nests its JSON deeper than any GeoJSON does: refused") from None
    try:
        frame = gpd.read_file(path)
    except Exception as e:  # pyogrio raises DataSourceError and friends
        raise ReadError(f"{path.name} is not a GeoJSON FeatureCollection: {e}") from None
    notes = []
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        notes.append(Message(N_("coordinates reprojected from %(crs)s to WGS84"), crs=frame.crs.to_string()))
        frame = frame.to_crs(4326)
    headers = [c for c in frame.columns if c != "geometry"]
    rows, points = [], {}
    for number, (_, record) in enumerate(frame.iterrows(), start=1):
        cells = ["" if _missing(record[c]) else _cell_text(record[c]) for c in headers]
        rows.append((number, cells))
        geometry = record.geometry
        if isinstance(geometry, BaseGeometry) and not geometry.is_empty:
            point = geometry if geometry.geom_type == "Point" else geometry.representative_point()
            points[number] = (point.y, point.x)  # shapely is (x=lon, y=lat)
            if geometry.geom_type != "Point":
                notes.append(Message(N_("feature %(n)s: a %(kind)s; its inner point was used"),
                                     n=number, kind=geometry.geom_type))
    return Table(headers=headers, rows=rows, format="geojson", header_row=0, points=points, notes=notes)


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN: the property is absent from this feature
    return False
