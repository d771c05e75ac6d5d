"""An XLSX workbook of one sheet, written as it is read: its bytes leave a batch of rows at
a time, so a download of a million organisations starts at once and holds no more than a
batch in memory.

The sheet's XML goes row by row into a ZIP written to a stream that is never sought: the
standard ``zipfile`` then puts each member's sizes in a data descriptor after its data, as
Java's streaming writers do (without ZIP64, which Excel takes for a damaged file when a
member does not need it). Strings are inline (no shared-strings table to hold
in memory); text is XML-escaped, and the characters XML cannot carry are written as Excel's
``_xHHHH_`` escapes, so that a stored field never changes the sheet's structure.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape  # nosec B406 # escapes text we write; nothing is parsed

# A cell holds at most this many characters in Excel (XlsxWriter cut longer text the same way).
MAX_CELL_CHARACTERS = 32_767
# Rows of a sheet in Excel, the header's included: the rows past it are left out (as
# XlsxWriter left them out), and are not read.
MAX_ROWS = 1_048_576
_FLUSH_BYTES = 1 << 16  # compressed bytes gathered before they are passed on

_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/></Relationships>')
# Two cell formats: 0 the default, 1 bold (the header).
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def column_letter(index: int) -> str:
    """``A`` for column 0, ``AA`` for column 26."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: str) -> str:
    """``value`` as the text of an XML element of the sheet: at most 32,767 characters, a
    literal ``_x0041_`` kept literal, control characters and U+FFFE/U+FFFF as ``_xHHHH_``
    (XML cannot hold them; a carriage return would be read back as a line feed), then
    XML-escaped."""
    value = value[:MAX_CELL_CHARACTERS]
    value = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), value)
    value = _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
    return escape(value)


def _cell(ref: str, value, style: str = "") -> str:
    if value is None or value == "":
        return ""  # a blank cell is no cell, as XlsxWriter writes it
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{style}><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if isinstance(value, float):  # 16 significant digits, as Excel (and XlsxWriter) keep them
        return f'<c r="{ref}"{style}><v>{value:.16G}</v></c>'
    text = cell_text(str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{text}</t></is></c>'


def _row(number: int, letters: Sequence[str], values: Sequence, style: str = "") -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style) for letter, value in zip(letters, values))
    return f'<row r="{number}">{cells}</row>'


def _width(characters: float) -> float:
    """A column width as Excel stores it for ``characters`` of the default font (as XlsxWriter
    computes it: 7-pixel digits, 5 pixels of padding)."""
    return int((int(characters * 7 + 0.5) + 5) / 7 * 256) / 256


class _Outbox:
    """A write-only file the ZIP writer fills and the stream empties."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        return data


def chunks(header: Sequence[str], rows: Iterable[Iterable[Sequence]], *, sheet: str = "Sheet1",
           widths: dict[str, float] | None = None) -> Iterator[bytes]:
    """The workbook's bytes: ``header`` (bold, frozen, with an autofilter over the data)
    then ``rows``, given in batches (each an iterable of rows); the bytes gathered are passed
    on after each batch; past ``MAX_ROWS`` the rest is not read. ``widths``: characters per
    column, by header name. Values are
    written as given: text is never read as a formula (cells are strings), but what a
    spreadsheet would run when copied elsewhere is for the caller to neutralise."""
    out = _Outbox()
    letters = [column_letter(i) for i in range(len(header))]
    widths = widths or {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        written = 1
        with book.open("xl/worksheets/sheet1.xml", "w") as xml:
            cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{_width(widths[name])}" customWidth="1"/>'
                           for i, name in enumerate(header) if name in widths)
            xml.write((
                _HEAD + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "")
                + "<sheetData>" + _row(1, letters, header, ' s="1"')).encode("utf-8"))
            yield out.take()  # the first bytes leave before any row is read
            for batch in rows:
                lines = []
                for values in batch:
                    if written == MAX_ROWS:
                        break
                    written += 1
                    lines.append(_row(written, letters, values))
                xml.write("".join(lines).encode("utf-8"))
                if out.size >= _FLUSH_BYTES:
                    yield out.take()
                if written == MAX_ROWS:
                    break
            last = f"{letters[-1]}{max(written, 2)}" if letters else "A1"
            xml.write(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode())
        # The workbook comes last: its filter's range is known only now.
        name = escape(sheet, {'"': "&quot;"})
        quoted = "'" + sheet.replace("'", "''") + "'"
        book.writestr("xl/workbook.xml", (
            _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"{escape(quoted)}!$A$1:${letters[-1] if letters else 'A'}${max(written, 2)}</definedName>"
            "</definedNames></workbook>"))
    yield out.take()
