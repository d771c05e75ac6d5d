"""Columns recognised by what they hold when their header says nothing the importer knows:
coordinates that pair into points on land, countries, web and e-mail addresses, postcodes
of one country, long texts. A guess only fills a field no header claimed, and carries its
evidence ("looks like latitudes: 130 of 130 values") for the report and the preview."""

from __future__ import annotations

import re
from collections import Counter

from .. import geo
from ..text import fold
from ..translate import N_, Message
from .columns import TITLES, ColumnPlan
from .normalise import clean_text, is_placeholder, parse_country, parse_email, parse_number, postcode_patterns

SAMPLE_ROWS = 500  # rows read ahead to sample (the same ones in the browser and on the command line)
SAMPLE_VALUES = 200  # non-empty values per column looked at
SHARE = 0.8  # of the values that must fit
POINTS_CHECKED = 60  # pairs of coordinates checked against the countries' outlines
IMPORTANT = 0.5  # an unrecognised column filled in at least this share of rows is named in the report
MAX_NUMERIC = 8  # numeric columns of each kind paired as coordinates
_URL = re.compile(r"^(https?://|www\.)\S+$|^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,12}(/\S*)?$", re.IGNORECASE)
_DECIMAL = re.compile(r"^[-+]?\d{1,3}[.,]\d+$")

WHAT = {
    "lat": N_("latitudes"), "lon": N_("longitudes"), "country": N_("countries"),
    "website": N_("web addresses"), "email": N_("e-mail addresses"), "postcode": N_("postcodes of %(country)s"),
    "description": N_("long texts (descriptions)"),
}


def evidence(fld: str, n: int, total: int, **params) -> Message:
    """'looks like latitudes: 130 of 130 values'."""
    return Message(N_("looks like %(what)s: %(n)s of %(total)s values"),
                   what=Message(WHAT[fld], **params), n=n, total=total)


def sample(rows: list[tuple[int, list[str]]], width: int) -> list[list[str]]:
    """Up to SAMPLE_VALUES non-empty values of each of ``width`` columns (placeholders left out)."""
    values: list[list[str]] = [[] for _ in range(width)]
    for _, cells in rows:
        for i, cell in enumerate(cells[:width]):
            if len(values[i]) < SAMPLE_VALUES and cell and cell.strip():
                text = clean_text(cell)
                if text and not is_placeholder(text):
                    values[i].append(text)
    return values


def guess(headers: list[str], rows: list[tuple[int, list[str]]], plan: ColumnPlan, *, has_points: bool) -> None:
    """Give the unrecognised columns of ``plan`` the fields their content shows (only
    fields no column has), with their evidence in ``plan.how``; note how full the others are."""
    width = len(headers)
    values = sample(rows, width)
    for i in plan.weak:
        # "Title" or "Label" names the organisations only when it holds names, not "Mr." or codes.
        if sum(1 for v in values[i] if _is_name(v)) < 0.5 * max(len(values[i]), 1):
            del plan.fields[i], plan.how[i]
            plan.unknown.append(headers[i])
    _prefer_filled(headers, values, plan)
    claimed = set(plan.fields.values())
    free = [i for i, h in enumerate(headers) if h in plan.unknown]

    def take(i: int, fld: str, why: Message) -> None:
        plan.fields[i] = fld
        plan.how[i] = why
        claimed.add(fld)
        free.remove(i)
        plan.unknown.remove(headers[i])

    if not has_points and not claimed & {"lat", "lon", "latlon"}:
        pair = _coordinates(values, free, rows)
        if pair:
            (lat, lat_n), (lon, lon_n) = pair
            take(lat, "lat", evidence("lat", lat_n, len(values[lat])))
            take(lon, "lon", evidence("lon", lon_n, len(values[lon])))
    for fld, test in (("email", _is_email), ("website", _is_url), ("country", _is_country)):
        if fld in claimed:
            continue
        best = _best(values, free, test)
        if best:
            take(best[0], fld, evidence(fld, best[1], len(values[best[0]])))
    if "postcode" not in claimed:
        country = _dominant_country(values, plan)
        found = _postcodes(values, free, country)
        if found:
            i, n, code = found
            take(i, "postcode", evidence("postcode", n, len(values[i]), country=code))
    if "description" not in claimed:
        best = _best(values, free, _is_long_text, share=0.6)
        if best:
            take(best[0], "description", evidence("description", best[1], len(values[best[0]])))
    if rows:
        for i in free:
            plan.filled[headers[i]] = sum(1 for _, cells in rows if i < len(cells) and cells[i].strip()) / len(rows)


def _prefer_filled(headers: list[str], values: list[list[str]], plan: ColumnPlan) -> None:
    """A field whose column is empty takes another column that names it and has values
    ("Latitude" empty, "Geo Container Latitude" filled); the empty one is reported instead."""
    position = {h: i for i, h in reversed(list(enumerate(headers)))}
    for n, (header, fld, kept) in enumerate(plan.duplicates):
        i, k = position[header], position[kept]
        if plan.fields.get(k) != fld or fld in plan.joined or values[k] or len(values[i]) < 2:
            continue
        del plan.fields[k]
        plan.fields[i] = fld
        plan.how[i] = Message(N_("'%(other)s' is empty: %(n)s values here"), other=kept, n=len(values[i]))
        plan.how.pop(k, None)
        plan.duplicates[n] = (kept, fld, header)


def _best(values, free, test, share: float = SHARE) -> tuple[int, int] | None:
    """The free column whose values pass ``test`` most (at least ``share`` of them), and how many do."""
    best = None
    for i in free:
        column = values[i]
        if len(column) < 2:
            continue
        n = sum(1 for v in column if test(v))
        if n >= share * len(column) and (best is None or n > best[1]):
            best = (i, n)
    return best



def _is_name(value: str) -> bool:
    letters = sum(1 for c in value if c.isalpha())
    return letters >= 3 and fold(value) not in TITLES


def _is_email(value: str) -> bool:
    return "@" in value and bool(parse_email(value)[0])


def _is_url(value: str) -> bool:
    return "@" not in value and " " not in value.strip() and bool(_URL.match(value.strip()))


# Answers that are also country codes ("no" is Norway): a column of them is no country column.
_ANSWERS = frozenset({"yes", "no", "oui", "non", "si", "ja", "nein", "tak", "nie", "ναι", "οχι", "nee", "y", "n"})


def _is_country(value: str) -> bool:
    return (len(value) <= 60 and not any(c.isdigit() for c in value) and fold(value) not in _ANSWERS
            and parse_country(value)[0] is not None)


def _is_long_text(value: str) -> bool:
    return len(value) >= 60 and len(value.split()) >= 8


def _numbers(column: list[str], low: float, high: float) -> int:
    """How many values are decimal numbers between ``low`` and ``high`` (0 unless some have decimals)."""
    if not any(_DECIMAL.match(v) for v in column):
        return 0
    return sum(1 for v in column if (n := parse_number(v)) is not None and low <= n <= high)


def _coordinates(values, free, rows) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The two free columns that read as latitude and longitude of points on land (checked
    on the outlines of the countries), with how many values of each are in range."""
    lats = {i: n for i in free if len(values[i]) >= 2 and (n := _numbers(values[i], -90, 90)) >= SHARE * len(values[i])}
    lons = {i: n for i in free if len(values[i]) >= 2 and (n := _numbers(values[i], -180, 180)) >= SHARE * len(values[i])}
    best, best_score = None, 0
    # A file of many numeric columns: the first few of each kind are enough (each pair costs outline lookups).
    for a in list(lats)[:MAX_NUMERIC]:
        for b in list(lons)[:MAX_NUMERIC]:
            if a == b:
                continue
            points = []
            for _, cells in rows:
                if max(a, b) < len(cells):
                    lat, lon = parse_number(cells[a]), parse_number(cells[b])
                    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
                        points.append((lat, lon))
                if len(points) == POINTS_CHECKED:
                    break
            if not points:
                continue
            on_land = sum(1 for lat, lon in points if geo.country_at(lat, lon))
            if on_land >= 0.5 * len(points) and on_land > best_score:
                best, best_score = ((a, lats[a]), (b, lons[b])), on_land
    return best



def _dominant_country(values, plan: ColumnPlan) -> str | None:
    """The country most rows of the file are in, when a column says so."""
    column = plan.column_of("country")
    if column is None:
        return None
    codes = Counter(code for v in values[column] if (code := parse_country(v)[0]))
    return codes.most_common(1)[0][0] if codes else None


def _postcodes(values, free, country: str | None) -> tuple[int, int, str] | None:
    """A free column of postcodes of one country: the file's own country, or any country
    whose postcodes have letters (digits alone fit too many other columns to be a proof)."""
    patterns = postcode_patterns()
    best = None
    for i in free:
        column = values[i]
        if len(column) < 2:
            continue
        if all(v.isdigit() for v in column):
            candidates = [country] if country else []
        else:
            candidates = [country] if country else [c for c, p in patterns.items() if re.search(r"[A-Z]", p.pattern)]
        for code in candidates:
            pattern = patterns.get(code)
            if pattern is None:
                continue
            n = sum(1 for v in column if (country or not v.isdigit()) and _fits(v, code, pattern))
            if n >= SHARE * len(column) and (best is None or n > best[1]):
                best = (i, n, code)
    return best


def _fits(value: str, country: str, pattern: re.Pattern) -> bool:
    """Whether ``value`` is written as a postcode of ``country`` (as it is: a number that
    needs leading zeros is more likely a count than a postcode)."""
    return bool(pattern.match(value.strip().upper()))
