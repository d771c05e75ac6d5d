"""CSV writing that spreadsheet programs cannot turn into formulas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# "+33 1 23 45 67 89", "+48 (61) 123-45-67": digits and separators only, no function name,
# reference or operator a spreadsheet could run. Kept as written.
_PHONE = re.compile(r"^\+[0-9][0-9 ().-]{5,}$")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe;
    numbers and international phone numbers stay as they are."""
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    if text.startswith(_TRIGGERS) and not _PHONE.match(text):
        try:
            float(text)
            return text  # "-3.5" is a number, not a formula
        except ValueError:
            return "'" + text
    return text


def safe(value: object) -> object:
    """``neutralise``, without its call for text that starts harmlessly (most cells)."""
    return value if value.__class__ is str and not value.startswith(_TRIGGERS) else neutralise(value)


def write_csv(target, header: list[str], rows: Iterable[Iterable[object]], *, neutralised: bool = False) -> None:
    """Write formula-safe CSV to a path (UTF-8 with BOM, so that Excel reads accents) or to
    an open text stream. ``neutralised``: the caller made every cell safe (``safe``) already."""
    if hasattr(target, "write"):
        _write(target, header, rows, neutralised)
        return
    with open(target, "w", encoding="utf-8-sig", newline="") as f:
        _write(f, header, rows, neutralised)


def _write(stream, header: list[str], rows: Iterable[Iterable[object]], neutralised: bool) -> None:
    writer = csv.writer(stream)
    writer.writerow(header)
    if neutralised:
        writer.writerows(rows)
        return
    # Most cells are text that starts harmlessly, or empty: kept without a call each (an
    # import's report of 100,000 rows spent most of its second in neutralise).
    writer.writerows([v if v.__class__ is str and not v.startswith(_TRIGGERS) else neutralise(v) for v in row]
                     for row in rows)
