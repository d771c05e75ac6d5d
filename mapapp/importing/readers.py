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
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
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
    # (row number as shown in a spreadsheet, cells), produced as they are read: iterate once
    rows: Iterator[tuple[int, list[str]]]
    format: str
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    points: dict[int, tuple[float, float]] = field(default_factory=dict)  # row -> (lat, lon)
    notes: list[str] = field(default_factory=list)
    # How much of the file the rows read so far stand for (0 to 1), for progress.
    consumed: Callable[[], float] = lambda: 0.0
    # Rows with cells past the last header that first appear after the rows read ahead.
    overflow: list[int] = field(default_factory=list)


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

_SNIFF_CHARS = 65536


def _check_encoding(path: Path, encoding: str | None) -> tuple[str, str]:
    """``(codec to open the file with, encoding to report)``, after decoding the whole
    file once in chunks (so that a bad byte is named before anything is imported),
    without holding its text."""
    with path.open("rb") as f:
        head = f.read(4)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReadError(f"unknown encoding '{encoding}'; try utf-8 or cp1252") from None
        bad = _first_bad_byte(path, encoding)
        if bad is not None:
            raise ReadError(f"the file is not valid {encoding} (byte {bad}); "
                            "try another --encoding, such as cp1252 or utf-8")
        return encoding, encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8-sig"  # kept lenient: a BOM says what the file meant
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bad = _first_bad_byte(path, "utf-16")
        if bad is not None:
            raise ReadError(f"the file starts as UTF-16 text but is cut or damaged at byte {bad}; "
                            "save it again as CSV UTF-8")
        return "utf-16", "utf-16"
    if _first_bad_byte(path, "utf-8") is None:
        return "utf-8", "utf-8"
    # Excel on Windows in western Europe saves CSV as Windows-1252.
    return "cp1252", "cp1252"


def _first_bad_byte(path: Path, encoding: str) -> int | None:
    """Where the file stops being valid ``encoding`` (None: it is valid throughout)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                return offset + max(e.start, 0)
            if not chunk:
                return None
            offset += len(chunk)


def _sniff_delimiter(text: str) -> str:
    sample = text[:_SNIFF_CHARS]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=first.count)


class _CountingReader(io.RawIOBase):
    """A file's bytes, counting how many were read (how far a streamed import is)."""

    def __init__(self, raw):
        self.raw, self.done = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.done += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, score_header) -> Table:
    codec, used = _check_encoding(path, encoding)
    errors = "replace" if codec in ("cp1252", "utf-8-sig") else "strict"
    with path.open(encoding=codec, errors=errors, newline="") as f:
        sample = f.read(_SNIFF_CHARS)
    if not sample.strip():
        raise ReadError(f"{path.name} is empty")
    if delimiter == "\\t":
        delimiter = "\t"
    if delimiter and len(delimiter) != 1:
        raise ReadError(f"--delimiter must be one character, got '{delimiter}'")
    sep = delimiter or _sniff_delimiter(sample)
    size = max(path.stat().st_size, 1)
    counter = _CountingReader(path.open("rb", buffering=0))

    def records():
        # The rows are read as the import goes: a file of a million rows is never held whole.
        with io.TextIOWrapper(io.BufferedReader(counter, _CHUNK), encoding=codec, errors=errors,
                              newline="") as text:
            reader = csv.reader(text, delimiter=sep)
            try:
                yield from reader
            except csv.Error as e:
                raise ReadError(f"{path.name}, line {reader.line_num}: {e}; check the quotes of that line") from None

    table = _from_records(records(), "csv", score_header)
    table.encoding, table.delimiter = used, sep
    table.consumed = lambda: min(counter.done / size, 1.0)
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
        data = workbook.get_sheet_by_name(chosen)
        height, done = max(data.height, 1), [0]

        def records(data=data, done=done):
            # Row by row as the import goes: only one row's text is made at a time.
            for row in data.iter_rows():
                done[0] += 1
                yield [v if type(v) is str else _cell_text(v) for v in row]

        try:
            table = _from_records(records(), fmt, score_header)
        except ReadError as e:
            problems.append(f"sheet '{chosen}': {e}")
            continue
        table.sheet, table.sheets = chosen, list(names)
        table.consumed = lambda done=done, height=height: min(done[0] / height, 1.0)
        if sheet is None and len(names) > 1:
            table.notes.append(Message(N_("read sheet '%(sheet)s' of %(n)s (%(names)s)"),
                                       sheet=chosen, n=len(names), names=", ".join(names)))
        return table
    raise ReadError(f"{path.name}: no table found; " + "; ".join(problems))


# Rows read ahead to place the header and to see whether rows run past it.
LOOKAHEAD_ROWS = 1000
EXTRA_HEADER = N_("(cells beyond the last header)")


def _from_records(records, fmt: str, score_header) -> Table:
    """The table from an iterator of records: its header found among the first rows, and
    its rows produced lazily as ``(row number, cells)`` with exactly one cell per header."""
    records = iter(records)
    head = list(itertools.islice(records, LOOKAHEAD_ROWS))
    while head and not any(c.strip() for c in head[-1]):
        head.pop()
    if not head:
        if next(records, None) is None:
            raise ReadError("the file has no rows")
        raise ReadError(f"the first {LOOKAHEAD_ROWS} rows are empty: delete them")
    for i, r in enumerate(head[:HEADER_SEARCH_ROWS]):
        width = next((n for n in range(len(r), 0, -1) if r[n - 1].strip()), 0)
        if width > MAX_COLUMNS:
            raise ReadError(f"row {i + 1} has {width:,} columns; a file may have at most {MAX_COLUMNS}: "
                            "delete the columns the map does not need")
        del r[width:]  # empty cells after the last filled one
    candidates = [i for i, r in enumerate(head[:HEADER_SEARCH_ROWS])
                  if sum(1 for c in r if c.strip()) >= 2]
    if not candidates:
        raise ReadError("no header row found: the first rows have fewer than two filled cells")
    header_index = candidates[0]
    if score_header:
        best = max(candidates, key=lambda i: (score_header(head[i]), -i))
        if score_header(head[best]) > 0:
            header_index = best
    headers = [h.strip() for h in head[header_index]]
    width = len(headers)
    if any(any(c.strip() for c in r[width:]) for r in head[header_index + 1:]):
        headers.append(Message(EXTRA_HEADER))
    table = Table(headers=headers, rows=iter(()), format=fmt, header_row=header_index + 1)
    table.rows = _rows(itertools.chain(head[header_index + 1:], records), header_index + 2, width,
                       len(headers), table)
    if header_index:
        table.notes.append(Message(N_("skipped %(n)s row(s) above the header (row %(row)s)"),
                                   n=header_index, row=header_index + 1))
    return table


def _rows(records, first_number: int, width: int, cells_per_row: int, table: Table):
    """``(row number, cells)`` for each non-empty record. Cells past the last header are
    joined into one extra cell when the header has room for it; otherwise (they first
    appear after the rows read ahead) the row's number is kept in ``table.overflow``."""
    pad = [""] * cells_per_row
    for number, record in enumerate(records, start=first_number):
        if len(record) == width:
            cells = record
            if cells_per_row > width:
                cells.append("")
        else:
            cells = (record[:width] + pad)[:width]
            extra = [c for c in record[width:] if c.strip()]
            if cells_per_row > width:
                cells.append(" ".join(extra))
            elif extra:
                table.overflow.append(number)
        if not "".join(cells).strip():
            continue  # an empty row: skipped, the numbers of the others kept
        yield number, cells


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
    done = [0]

    def counted():
        for row in rows:
            done[0] += 1
            yield row

    table = Table(headers=headers, rows=counted(), format="geojson", header_row=0, points=points, notes=notes)
    table.consumed = lambda: done[0] / max(len(rows), 1)
    return table


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN: the property is absent from this feature
    return False
