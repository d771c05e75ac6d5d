"""One row of a file, or one form, checked as an organisation: the one validation of
organisations (``Validator`` for a file's rows chunk by chunk, ``check_record`` for a
form). Nothing here reads the catalogue, so that a second process can check a large
file's rows while the importer writes (see ``reading``)."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from .. import catalogue, geo, vocab
from ..mapdata import gazetteer
from ..mapdata.geocode import Address, Chain, Outcome
from ..text import fold
from ..translate import N_, Message
from . import columns, fieldcolumns
from .categories import CategoryIndex, default_index
from .normalise import (
    clean_multiline,
    clean_text,
    is_placeholder,
    looks_mangled,
    parse_country,
    parse_email,
    parse_latlon,
    parse_number,
    parse_phone,
    parse_postcode,
    parse_term,
    parse_terms,
    parse_website,
)
from .report import RETIRED_CATEGORY, UNKNOWN_CATEGORY, Report, RowOutcome, unknown_resource

MAX_NAME_LENGTH = 300
# The first word of a closing sum row, in the project's languages ("Total", "Totaux", "Somme"…).
_TOTAL_WORDS = re.compile(r"^(grand )?(total|totals|totaux|totale|totali|totaal|somme|sum|sums|suma|razem|"
                          r"ogolem|συνολο|συνολα)( |$)")
_TOTAL_INITIALS = frozenset("tsroσg")  # the first letters of those words, folded
_PLACE_FIELDS = ("street", "city", "postcode", "email", "website", "phone", "lat", "lon", "latlon")


@dataclass(slots=True)  # no __dict__ each: a million are made from the pipe and freed (issue 31)
class Candidate:
    """One valid row, ready to be located and written."""

    row: int
    key: str
    values: dict
    related: dict  # only the kinds whose column is in the file
    address: Address
    rejected: set[str] = field(default_factory=set)
    outcome: Outcome | None = None
    # catalogue.new_row_text(values), worked out with the row's checks: by the reading
    # process for a large file, leaving the importer only the writing.
    text: tuple[tuple[str, str], str, str, str, str] = ()
    # The row's project, relation, visit and visit date as written (only when the file has
    # such columns): matched against the catalogue when written (see ``links``).
    links: dict = field(default_factory=dict)
    # The addresses of its logo and photos, as (role, URL), fetched after the rows are written.
    pictures: tuple[tuple[str, str], ...] = ()
    fields: dict = field(default_factory=dict)  # the network's own fields: slug → values

    def __reduce__(self):
        # Chunks of candidates cross from the reading process to the importer: as flat
        # tuples they pickle in a third of the time a dataclass's state takes.
        a = self.address
        return (_candidate, (self.row, self.key, self.values, self.related, a.street, a.postcode, a.city,
                             a.region, a.country, a.lat, a.lon, a.inside, tuple(self.rejected), self.outcome,
                             self.text, self.links, self.pictures, self.fields))


def _candidate(row, key, values, related, street, postcode, city, region, country, lat, lon, inside,
               rejected, outcome, text, links, pictures=(), fields=None) -> Candidate:
    return Candidate(row, key, values, related, Address(street, postcode, city, region, country, lat, lon, inside),
                     set(rejected), outcome, text, links, pictures, fields or {})


@dataclass
class Checked:
    """One chunk of rows, read and checked: what the write phase takes in."""

    rows: int  # rows read (including those skipped)
    candidates: list[Candidate]
    skipped: list[RowOutcome]
    consumed: float  # how much of the file has been read, 0 to 1
    # (row, column, value, retired category's code or "", field) of the category values matching
    # none, and of the needs and offers that are none of the vocabulary's (field "needs", "offers")
    unknown_categories: list[tuple[int, str, str, str, str]] = field(default_factory=list)


class Validator:
    """Checks rows chunk by chunk, remembering the rows already seen (same organisation twice)."""

    def __init__(self, table, plan: columns.ColumnPlan, report: Report, categories: CategoryIndex | None = None, *,
                 country: str | None = None, fields: tuple = (), locate: tuple[str, bool] | None = None):
        self.table, self.plan, self.report, self.country = table, plan, report, country
        # (chain, whether to geocode, whether the given point comes first) when rows are located here
        self.locating = (Chain.from_config(locate[0], None, user_agent=""), locate[1],
                         locate[0].split(",")[:1] == ["provided"]) if locate else None
        self.categories = categories or default_index()
        self.unknown: list[tuple[int, str, str, str, str]] = []
        self.present = set(plan.fields.values()) | ({"country"} if country else set())
        self.fields = fields  # the network's own fields (see fieldcolumns)
        self.translated = sorted(f for f in self.present if f.startswith(f"{columns.TRANSLATABLE}_"))
        self.header_of = _headers_of(table.headers, plan)
        self.seen: dict[str, int] = {}
        self.joined = [(f, [i for i in [self.plan.column_of(f), *more]]) for f, more in plan.joined.items()]

    def chunks(self, rows, size):
        """``Checked`` chunks of ``size()`` rows each (asked again before each chunk); a
        ``ReadError`` found late in the file comes through as it is."""
        rows = iter(rows)
        after = next(rows, None)
        while after is not None:
            part = [after, *itertools.islice(rows, max(size(), 1) - 1)]
            after = next(rows, None)  # a heading is told by the row after it, even across chunks
            candidates, skipped = self.chunk(part, after)
            check_points_in_bulk(candidates)
            if self.locating:
                self.locate(candidates)
            unknown, self.unknown = self.unknown, []
            yield Checked(len(part), candidates, skipped, self.table.consumed(), unknown)

    def locate(self, candidates: list[Candidate]) -> None:
        """Locate the rows the importer would ask its chain for, in the same order with the
        same chain (see importer._reader_locates): the rows whose given point lies in its
        country are placed by the importer."""
        chain, geocode, provided_first = self.locating
        for c in candidates:
            if not (c.address.inside and provided_first):
                c.outcome = chain.locate_row(c.address, geocode=geocode, infer_country="country" not in c.rejected)

    def chunk(self, rows, after: tuple[int, list[str]] | None = None) -> tuple[list[Candidate], list[RowOutcome]]:
        report, header_of, seen, points = self.report, self.header_of, self.seen, self.table.points
        fields = list(self.plan.fields.items())
        extra = self.plan.extra  # further columns of a field (a second column of categories)
        candidates: list[Candidate] = []
        skipped: list[RowOutcome] = []
        rows = list(rows) + ([after] if after else [])
        for position, (number, cells) in enumerate(rows[:len(rows) - bool(after)]):
            raw = {f: cells[i] for i, f in fields}
            for i, f in extra:
                if cells[i]:
                    raw[f] = f"{raw[f]}\n{cells[i]}" if raw.get(f) else cells[i]
            for fld, joined in self.joined:
                raw[fld] = ", ".join(part for i in joined if (part := cells[i].strip()))
            following = rows[position + 1][1] if position + 1 < len(rows) else None
            kind = not_an_organisation(raw, following and (lambda cells=following: {f: cells[i] for i, f in fields}))
            if kind:
                report.add(number, header_of["name"], "warning", Message(NOT_ORGANISATIONS[kind]))
                skipped.append(RowOutcome(number, clean_text(raw.get("name", "")), "skipped"))
                continue
            if self.country and not (raw.get("country") or "").strip():
                raw["country"] = self.country
            if is_total_row(raw):
                report.add(number, header_of["name"], "warning", Message(
                    N_("'%(name)s' looks like a spreadsheet's total row, not an organisation; row skipped"),
                    name=clean_text(raw["name"])))
                skipped.append(RowOutcome(number, clean_text(raw["name"]), "skipped"))
                continue
            if len(raw.get("name", "")) > MAX_NAME_LENGTH:
                report.add(number, header_of["name"], "error", Message(
                    N_("the name has %(n)s characters (at most %(max)s): a quote left open in the file may have "
                       "joined the rows after it; row skipped"), n=f"{len(raw['name']):,}", max=MAX_NAME_LENGTH))
                skipped.append(RowOutcome(number, raw["name"][:60] + "…", "skipped"))
                continue
            warnings: list[tuple[str, str]] = []
            unknown: list[tuple[str, str, str]] = []
            candidate = validate_row(number, raw, self.present, points.get(number) if points else None,
                                      warnings, self.translated, self.categories, unknown)
            for fld, message in warnings:
                report.add(number, header_of.get(fld, fld), "warning", message)
            if candidate is None:
                name = clean_text(raw.get("name", ""))
                report.add(number, header_of["name"], "error",
                           Message(N_("no organisation name (empty or a placeholder such as 'n/a'); row skipped")))
                skipped.append(RowOutcome(number, name, "skipped"))
                continue
            if candidate.key in seen:
                report.add(number, "", "error", Message(
                    N_("same organisation as row %(row)s (same reference, or same name, city and country); "
                       "row skipped"), row=seen[candidate.key]))
                skipped.append(RowOutcome(number, candidate.values["name"], "skipped"))
                continue
            seen[candidate.key] = number
            if self.fields:
                candidate.fields = fieldcolumns.read(raw, self.fields, lambda column, message: report.add(
                    number, header_of.get(column, column), "warning", message))
            if unknown:
                self.unknown.extend((number, header_of.get(fld, fld), value, retired, fld) for value, retired, fld in unknown)
            candidate.text = catalogue.new_row_text(candidate.values)
            candidates.append(candidate)
        return candidates, skipped


def _headers_of(headers: list[str], plan: columns.ColumnPlan) -> dict[str, str]:
    """Each field's column as the file names it: a problem is reported under a header the
    file has ('Longitide', never a 'lat' it does not have)."""
    named = {f: headers[i] for i, f in plan.fields.items()}
    for fld, more in plan.joined.items():
        named[fld] = " + ".join([named[fld], *(headers[i] for i in more)])
    for fld, partners in (("lat", ("lon", "latlon")), ("lon", ("lat", "latlon")), ("latlon", ("lat", "lon")),
                          ("street", ("house_number",))):
        if fld not in named:
            found = [named[p] for p in partners if p in named]
            if found:
                named[fld] = found[0]
    return named


NOT_ORGANISATIONS = {
    "heading": N_("a section heading (a short cell alone on its row, above rows that have the other columns), "
                  "not an organisation; row skipped"),
    "error": N_("the name is a spreadsheet error value (such as #NAME? or #REF!), not an organisation's name; "
                "fix the formula in the file; row skipped"),
    "title": N_("the name is only a title such as 'Mr.' or 'Dr', not an organisation's name; row skipped"),
    "number": N_("the name is only a number or a year, not an organisation's name; row skipped"),
}
_ERROR_VALUE = re.compile(r"^#(NAME\?|REF!|N/A|VALUE!|DIV/0!|NUM!|NULL!|SPILL!|CALC!|FIELD!|BLOCKED!|"
                          r"GETTING_DATA|UNKNOWN!|CONNECT!|BUSY!|ERROR!?|NOM\?|REF|NV|WERT!|ZAHL!|NAME|"
                          r"VALEUR!|NOMBRE!|NUL!|VALORE!|NOME\?|RIF!|ND|NOMBRE\?|N\.D\.)$", re.IGNORECASE)
_NUMBER = re.compile(r"^[\d\s.,'/-]+$")


def not_an_organisation(raw: dict, following: Callable[[], dict] | None) -> str | None:
    """Why a row is no organisation ("heading", "error", "title", "number"), or None:
    its name is a spreadsheet error value, a bare title or a number, or it is a heading: a
    short name alone on its row (its other columns empty), the next row having the others
    (``following()``, asked only then: making it for every row cost more than the check)."""
    name = clean_text(raw.get("name", ""))
    if not name:
        return None
    if name.startswith("#") and _ERROR_VALUE.match(name.replace(" ", "")):
        return "error"
    if len(name) <= 6 and fold(name) in columns.TITLES:
        return "title"
    if _NUMBER.match(name):
        return "number"
    if following is None or len(name) > 60 or len(name.split()) > 6:
        return None
    for f, v in raw.items():
        if v and f != "name" and clean_text(v):
            return None  # stops at its first other cell: counting them all was 11% of a large import's time
    following = following()
    following_others = sum(1 for f, v in following.items() if f != "name" and clean_text(v))
    return "heading" if following_others >= 2 and clean_text(following.get("name", "")) else None


def is_total_row(raw: dict) -> bool:
    """A row named like a sum ("Total", "Totaux : 42") that says nothing of a place or contact."""
    name = raw.get("name", "")
    initial = fold(name[:1])
    if initial and initial not in _TOTAL_INITIALS:
        return False  # most names: no need to fold all of it
    return bool(_TOTAL_WORDS.match(fold(name)[:40])) and not any(clean_text(raw.get(f, "")) for f in _PLACE_FIELDS)


def validate_row(number: int, raw: dict, present: set[str], point, warnings,
                  translated: list[str], categories: CategoryIndex | None = None,
                  unknown: list | None = None) -> Candidate | None:
    """One row: its fields, related items and location, each checked (``warnings``
    collects what was corrected or refused; ``unknown``, when given, the category values
    and the needs and offers that are none of the vocabulary's, that match none, as (value,
    retired category's code or "", field), instead of warnings);
    None without a usable name."""
    row = _Row(raw, present, warnings)
    row.categories, row.unknown = categories or default_index(), unknown
    name = row.text("name")
    if not name:
        return None
    values, country = _fields(row, name)
    related = _related(row, values, translated)
    lat, lon = _location(row, point)
    ref = row.text("ref") if "ref" in present else ""
    key = ref or "key:" + "|".join((fold(name), fold(values.get("city", "")), country or ""))
    values["source_ref"] = key
    address = Address(values.get("street") or "", values.get("postcode") or "", values.get("city") or "",
                      values.get("region") or "", country or None, lat, lon)  # Address.from_record's, without a copy of values
    return Candidate(number, key, values, related, address, row.rejected, links=_links(row, values),
                     pictures=_pictures(row))


@dataclass
class RecordCheck:
    """One organisation typed into a form, checked by the rules that check a file's rows."""

    values: dict  # the organisation's own columns, cleaned
    related: dict  # themes, needs, offers, translated descriptions
    problems: dict[str, str]  # field → what to fix (the field was refused)
    notes: list[str]  # what was corrected or left out, for the person to check


# The longest text a form may send per field (a file's cells have their own checks).
_FORM_LIMITS = {"name": MAX_NAME_LENGTH, "description": 5000, "themes": 2000, "needs": 5000, "offers": 5000}


def check_record(raw: dict[str, str], categories: CategoryIndex | None = None) -> RecordCheck:
    """Check ``raw`` (import field names → text, as cells of a row) as the importer checks
    a row: the one validation of organisations, for files and forms alike (categories
    matched against ``categories``, the catalogue's tree; the ESSGLOBAL themes without it)."""
    limits = {f: _FORM_LIMITS.get(f.split("_")[0], 500) for f in raw}
    too_long = {f: Message(N_("%(n)s characters; at most %(max)s"), n=f"{len(v):,}", max=limits[f])
                for f, v in raw.items() if len(v or "") > limits[f]}
    if too_long:
        return RecordCheck({}, {}, too_long, [])
    present = set(raw)
    translated = sorted(f for f in present if f.startswith(f"{columns.TRANSLATABLE}_"))
    warnings: list[tuple[str, str]] = []
    candidate = validate_row(1, raw, present, None, warnings, translated, categories)
    if candidate is None:
        return RecordCheck({}, {}, {"name": Message(N_("the name is missing (or a placeholder such as 'n/a')"))},
                           [m for _, m in warnings])
    problems: dict[str, str] = {}
    notes: list[str] = []
    for fld, message in warnings:
        if fld in candidate.rejected:
            problems.setdefault(fld, message)
        else:
            notes.append(message)
    values = {k: v for k, v in candidate.values.items() if k != "source_ref"}
    if values.get("lat") is None and candidate.address.lat is not None:
        values.update(lat=candidate.address.lat, lon=candidate.address.lon)
    return RecordCheck(values, candidate.related, problems, notes)


class _Row:
    """A row's raw cells, with the warnings and refused fields found while reading them."""

    def __init__(self, raw: dict, present: set[str], warnings: list):
        self.raw, self.present, self.warnings = raw, present, warnings
        self.rejected: set[str] = set()
        self.categories: CategoryIndex = default_index()
        self.unknown: list | None = None  # category, need and offer values matching none (else warnings)

    def text(self, name: str) -> str:
        value = self.raw.get(name)
        if not value:
            return ""
        value = clean_text(value)
        return "" if is_placeholder(value) else value

    def warn(self, fld: str, message: str | None, *, reject: bool = True) -> None:
        if message:
            self.warnings.append((fld, message))
            if reject:
                self.rejected.add(fld)


def _country_in_region(region: str, city: str) -> str | None:
    """The country a region cell names ("BE", "Suisse") when the row's town, if any, lies in
    it: a file of French co-ops writes the département there, and the country for the few
    abroad. The town guards against province codes that are also country codes (Chieti's
    CH, Lucca's LU)."""
    if region.isdigit() or fold(region) in UK_NATIONS:
        return None
    code, problem = parse_country(region)
    if not code or problem:
        return None
    if city and code in gazetteer.countries() and not (gazetteer.candidates(city, code) or gazetteer.near_miss(city, code)):
        return None
    return code


def _fields(row: _Row, name: str) -> tuple[dict, str | None]:
    """The organisation's own columns, cleaned; and its country."""
    raw, present, warn = row.raw, row.present, row.warn
    values: dict = {"name": name}
    for fld in ("name", "street", "city", "region"):
        if looks_mangled(raw.get(fld, "") or ""):
            warn(fld, Message(N_("'%(text)s' seems to have lost letters such as accents or apostrophes "
                                 "(shown as '?'); fix the file's encoding or map a cleaner column"),
                              text=clean_text(raw[fld])), reject=False)
    country, problem = parse_country(raw.get("country", ""))
    warn("country", problem)
    if "country" in present:
        values["country"] = country
        nation = row.text("country")
        if country == "GB" and fold(nation) in UK_NATIONS and not row.text("region"):
            values["region"] = nation  # "UK Nation: Scotland" says the region as well
    street = row.text("street")
    number_text = row.text("house_number")
    if number_text and number_text.lower() not in street.lower():
        street = f"{street} {number_text}".strip() if not re.match(r"^\d", street) else street
    region = row.text("region") or values.get("region", "")
    if "country" not in present and region:
        named = _country_in_region(region, row.text("city"))
        if named:  # a file without a country column that writes the country where the region goes
            country, values["country"], region = named, named, ""
            warn("country", Message(N_("country set to %(country)s: the region column names that country"),
                                    country=named), reject=False)
    for fld, value in (("street", street), ("city", row.text("city")), ("region", region),
                       ("legal_form", row.text("legal_form"))):
        if fld in present or (fld == "street" and "house_number" in present):
            values[fld] = value
    if "postcode" in present:
        values["postcode"], problem = parse_postcode(raw.get("postcode", ""), country)
        warn("postcode", problem, reject=problem is not None and not values["postcode"])
    if "website" in present:
        values["website"], problem = parse_website(raw.get("website", ""))
        warn("website", problem)
    if "email" in present:
        values["email"], problem = parse_email(raw.get("email", ""))
        warn("email", problem, reject=not values["email"])
    if "phone" in present:
        values["phone"], problem = parse_phone(raw.get("phone", ""))
        warn("phone", problem)
    if "structure" in present:
        values["structure"] = _structure(row)
    for fld, vocabulary in (("relation", "relations"),):
        if fld in present:
            code, problem = parse_term(raw.get(fld, ""), vocabulary)
            warn(fld, problem and Message(N_("%(field)s %(problem)s"),
                                          field=Message(columns.FIELD_LABELS[fld]), problem=problem))
            values[fld] = code or ("other" if fld == "relation" else None)
    if "description" in present:
        values["description"] = clean_multiline(raw.get("description", ""))
        if is_placeholder(values["description"]):
            values["description"] = ""
    return values, country


UK_NATIONS = frozenset({"england", "scotland", "wales", "northern ireland"})


def _structure(row: _Row) -> str | None:
    """The first structure a cell names (spelling variants and several per cell understood:
    "Multi-stakeholder co-operative; Charity"); the others are reported, not stored."""
    cell = row.raw.get("structure", "")
    code, problem = parse_term(cell, "structures")
    codes, unknown = parse_terms(cell, "structures")
    if len(codes) > 1 or (codes and not code):
        code = codes[0]
        problem = None
        labels = vocab.structures()
        if len(codes) > 1:
            row.warn("structure", Message(
                N_("several structures in one cell: %(first)s is stored, not %(others)s (one structure per "
                   "organisation)"), first=labels.label(codes[0], "en"),
                others=", ".join(labels.label(c, "en") for c in codes[1:])), reject=False)
        for piece in unknown:
            missing = parse_term(piece, "structures")[1]
            if missing:
                row.warn("structure", Message(N_("%(field)s %(problem)s"), field=Message(
                    columns.FIELD_LABELS["structure"]), problem=missing), reject=False)
    elif problem:
        row.warn("structure", Message(N_("%(field)s %(problem)s"), field=Message(columns.FIELD_LABELS["structure"]),
                                      problem=problem))
    return code


def _links(row: _Row, values: dict) -> dict:
    """The row's project, visit and visit date as written, and the relation it gives (None
    when its cell is empty), when the file has a column for any of them."""
    present = row.present
    if not present & {"project", "visit", "visit_date"}:
        return {}
    links = {"project": row.text("project"), "visit": row.text("visit"), "visit_date": None,
             "relation": values.get("relation") if row.text("relation") and "relation" not in row.rejected else None}
    written = row.text("visit_date")
    if written:
        links["visit_date"] = parse_date(written)
        if links["visit_date"] is None:
            row.warn("visit_date", Message(N_("'%(text)s' is not a date; write it as YYYY-MM-DD (e.g. 2026-05-14) "
                                              "or DD/MM/YYYY"), text=written))
    return links


def _pictures(row: _Row) -> tuple[tuple[str, str], ...]:
    """The row's logo and photo addresses as written (several photos apart by spaces, commas,
    semicolons or |); checked and fetched later (``importing.pictures``)."""
    if not row.present & {"logo", "photos"}:
        return ()
    found = [("logo", url) for url in _URLS.split(row.text("logo"))[:1] if url]
    return tuple(found + [("photo", url) for url in _URLS.split(row.text("photos")) if url])


_URLS = re.compile(r"[\s,;|]+")


def parse_date(text: str) -> str | None:
    """A day written as 2026-05-14 (a spreadsheet's '2026-05-14 00:00:00' too), 14/05/2026,
    14.05.2026 or 14-05-2026, as YYYY-MM-DD; None if it is none of these."""
    found = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$", text.strip())
    if found:
        year, month, day = found.groups()
    else:
        found = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", text.strip())
        if not found:
            return None
        day, month, year = found.groups()
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _related(row: _Row, values: dict, translated: list[str]) -> dict:
    """Themes, needs, offers and translated descriptions (only the kinds the file has)."""
    raw, present, warn = row.raw, row.present, row.warn
    related: dict = {}
    if "themes" in present:
        codes, unknown, retired = row.categories.parse(raw.get("themes", ""))
        related["themes"] = codes
        if row.unknown is not None:
            row.unknown.extend([(piece, "", "themes") for piece in unknown] + [(p, r, "themes") for p, r in retired])
        else:
            for piece in unknown:
                warn("themes", Message(UNKNOWN_CATEGORY, text=piece), reject=False)
            for piece, _ in retired:
                warn("themes", Message(RETIRED_CATEGORY, text=piece), reject=False)
    for kind in ("needs", "offers"):
        if kind in present:
            related[kind], unknown = parse_resources(raw.get(kind, ""))
            if row.unknown is not None:  # an import counts them per value (543,655 warnings held in a million rows)
                row.unknown.extend([(piece, "", kind) for piece in unknown])
                continue
            for piece in unknown:
                warn(kind, unknown_resource(piece), reject=False)
    translations = {}
    for fld in translated:
        text_in_lang = clean_multiline(raw.get(fld, ""))
        if text_in_lang and not is_placeholder(text_in_lang):
            translations[fld.rsplit("_", 1)[1]] = text_in_lang
    if translations:
        related["descriptions"] = translations
        if not values.get("description"):
            values["description"] = translations.get("en") or next(iter(translations.values()))
    return related


_PLAIN_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d+)?\Z")


def _location(row: _Row, point) -> tuple[float | None, float | None]:
    """The coordinates the row gives (a GeoJSON point, lat/lon columns or one "lat, lon" cell)."""
    raw, present, warn = row.raw, row.present, row.warn
    lat = lon = None
    if point is not None:
        lat, lon = point
    if "lat" in present or "lon" in present:
        raw_lat, raw_lon = raw.get("lat", ""), raw.get("lon", "")
        if type(raw_lat) is str and type(raw_lon) is str and _PLAIN_NUMBER.match(raw_lat) and _PLAIN_NUMBER.match(raw_lon):
            return float(raw_lat), float(raw_lon)  # most cells: what parse_number makes of them, without its checks
        raw_lat, raw_lon = clean_text(raw_lat), clean_text(raw_lon)
        given = [v for v in (raw_lat, raw_lon) if v and (v == "0" or not is_placeholder(v))]
        if given:
            lat, lon = parse_number(raw_lat), parse_number(raw_lon)
            if lat is None or lon is None:
                warn("lat", Message(N_("coordinates '%(lat)s', '%(lon)s' are not two decimal numbers; not used"),
                                    lat=raw_lat, lon=raw_lon), reject=False)
                lat = lon = None
    if lat is None and "latlon" in present and row.text("latlon"):
        lat, lon = parse_latlon(row.text("latlon"))
        if lat is None:
            warn("latlon", Message(N_("'%(text)s' is not 'latitude, longitude'; not used"),
                                   text=row.text("latlon")), reject=False)
    return lat, lon


def parse_resources(cell: str) -> tuple[dict[str, str], list[str]]:
    """Needs or offers: ``funding: a small loan; premises`` → {code: detail}."""
    found, unknown = _parse_resources_cached(str(cell or ""))
    return dict(found), list(unknown)


@lru_cache(maxsize=65536)
def _parse_resources_cached(cell: str) -> tuple[tuple, tuple]:
    found: dict[str, str] = {}
    unknown: list[str] = []
    text = cell
    if not text.strip() or is_placeholder(text):
        return (), ()
    for part in re.split(r"[;|\n]+", text):
        label, sep, detail = part.partition(":")
        if sep and not detail.startswith("//"):
            codes, missing = parse_terms(label, "resources")
            if len(codes) == 1 and not missing:
                found[codes[0]] = clean_text(detail)[:200]
                continue
        codes, missing = parse_terms(part, "resources")
        for code in codes:
            found.setdefault(code, "")
        unknown.extend(missing)
    return tuple(found.items()), tuple(unknown)


def check_points_in_bulk(candidates: list[Candidate]) -> None:
    """Mark the provided points that lie in (or by) their stated country, as the provided
    step of the geocoder chain would (``geo.in_country``), one call per country."""
    by_country: dict[str, list[Address]] = {}
    for c in candidates:
        a = c.address
        if a.lat is not None and a.lon is not None and a.country and geo.has_outline(a.country):
            by_country.setdefault(a.country, []).append(a)
    for country, addresses in by_country.items():
        verdicts = geo.points_near_country(country, [a.lat for a in addresses], [a.lon for a in addresses])
        for address, inside in zip(addresses, verdicts):
            address.inside = inside

