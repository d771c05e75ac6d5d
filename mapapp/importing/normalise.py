"""Turn spreadsheet cells into clean values, or say exactly what is wrong with them.

Every ``parse_*`` function returns ``(value, problem)``: ``value`` is what may be
stored (``None`` or empty when nothing usable is left) and ``problem`` a message a
staff member can act on, or ``None``. No Flask, no database.
"""

from __future__ import annotations

import csv
import gettext
import html
import re
from functools import cache, lru_cache
from urllib.parse import urlsplit

import pycountry

from .. import vocab
from ..config import DATA_DIR
from ..text import fold, strip_unsafe
from ..translate import N_, Message

PLACEHOLDERS = {
    "", "-", "--", "---", "?", "??", "n/a", "na", "n.a.", "n.a", "n/d", "nd", "none", "null", "nil",
    "nan", "unknown", "tbd", "tbc", "x", "xx", "xxx", "0", "not available", "not applicable",
    "non renseigne", "nc", "n.c.", "neant", "inconnu", "brak", "nessuno", "sconosciuto", "geen",
    "onbekend", "keine", "unbekannt", "k.a.", "-/-", ".", "...",
    "not disclosed", "undisclosed", "redacted", "redacted for privacy", "withheld", "private",
    "data protected", "non communique", "non communiqué",
}
_LONGEST_PLACEHOLDER = max(len(p) for p in PLACEHOLDERS)
# Country names are also accepted in the other languages of Europe, as pycountry ships
# them, so that endonyms (Latvija, Česko, Suomi, Magyarország, Hrvatska…) are understood.
ANOTHER_LANGUAGES = ("de", "es", "pt", "ca", "eu", "gl", "ga", "cy", "da", "sv", "nb_NO", "nn", "is", "fi", "et",
                     "lv", "lt", "cs", "sk", "sl", "hr", "bs", "sr@latin", "sr", "mk", "bg", "ro", "hu", "sq",
                     "mt", "lb", "be", "uk", "ru", "tr", "fy", "oc", "br")
COUNTRY_ALIASES = {
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "el": "GR", "holland": "NL",
    "the netherlands": "NL", "usa": "US", "u.s.a.": "US", "united states of america": "US",
    "czech republic": "CZ", "czechia": "CZ", "russia": "RU", "south korea": "KR",
    "north macedonia": "MK", "kosovo": "XK", "kosova": "XK", "kosove": "XK", "turkey": "TR", "turkiye": "TR",
    "ivory coast": "CI", "cote d'ivoire": "CI", "vietnam": "VN", "bolivia": "BO",
    "tanzania": "TZ", "iran": "IR", "syria": "SY", "moldova": "MD", "venezuela": "VE",
    "laos": "LA", "palestine": "PS", "democratic republic of the congo": "CD", "drc": "CD",
    "republic of the congo": "CG", "brasil": "BR", "méxico": "MX", "perú": "PE",
    "democratic republic of congo": "CD", "dr congo": "CD", "congo kinshasa": "CD",
    "congo brazzaville": "CG", "swaziland": "SZ", "burma": "MM", "cape verde": "CV",
    "macedonia": "MK", "east timor": "TL", "the gambia": "GM", "gambia": "GM",
    "the bahamas": "BS", "korea": "KR", "taiwan": "TW", "vatican": "VA",
}


_DIGIT = re.compile(r"\d")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# Line and paragraph breaks written as HTML by web exports: breaks, never markup.
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HTML_PARAGRAPH = re.compile(r"</?p(?:\s[^<>]*)?>", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")


def html_breaks(text: str) -> str:
    """``<br>`` as a line break, ``<p>`` and ``</p>`` as a blank line (a new paragraph)."""
    if "<" not in text:
        return text
    return _HTML_PARAGRAPH.sub("\n\n", _HTML_BREAK.sub("\n", text))


def clean_text(value: object) -> str:
    """Trim, fold internal white space and line breaks (``<br>`` too), drop control
    characters, decode HTML entities left by web exports (``A Yard &amp; Co``)."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if text.isprintable() and "&" not in text and "<" not in text and "  " not in text and text.strip() == text:
        return text  # the common case, already clean
    text = strip_unsafe(_CONTROL.sub("", html_breaks(text)))
    if "&" in text:
        text = strip_unsafe(html.unescape(text))  # &#xFFFE; too
    return " ".join(text.split())


def clean_multiline(value: object) -> str:
    """Like ``clean_text`` but keeps line breaks, and paragraphs (a blank line between
    them, as a description's page shows them); ``<br>`` and ``<p>`` become breaks."""
    if value is None:
        return ""
    text = html_breaks(str(value).replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = []
    for paragraph in _BLANK_LINE.split(text):
        lines = [clean_text(line) for line in paragraph.split("\n")]
        if any(lines):
            paragraphs.append("\n".join(line for line in lines if line))
    return "\n\n".join(paragraphs)


def is_placeholder(value: str) -> bool:
    """True for the values people type when they have nothing: "n/a", "-", "?", "unknown"…"""
    if len(value) > _LONGEST_PLACEHOLDER + 4 or (value != "0" and _DIGIT.search(value)):
        return False  # no placeholder is that long or has a digit, but for "0"
    return _is_short_placeholder(value)


@lru_cache(maxsize=65536)
def _is_short_placeholder(value: str) -> bool:
    value = value.strip()
    if len(value) > _LONGEST_PLACEHOLDER:
        return False
    return value.lower() in PLACEHOLDERS or fold(value) in PLACEHOLDERS


def looks_mangled(value: str) -> bool:
    """True when accented letters seem to have been replaced by "?" (``Kantstra? 10``)."""
    if "?" not in value:
        return False
    return bool(re.search(r"\w\?\w|\w\?(\s|$)", value)) and "?" not in value[-1:] + value[:1]


# -- countries ---------------------------------------------------------------


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang],
                                        fallback=True)
                    for lang in (*vocab.LANGUAGES, *ANOTHER_LANGUAGES)]
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", ""), getattr(country, "official_name", "")}
        for name in list(names):
            if name:
                names.update(t.gettext(name) for t in translations)
        for name in names:
            if name:
                index.setdefault(fold(name), country.alpha_2)
        index[country.alpha_3.lower()] = country.alpha_2
        index[country.alpha_2.lower()] = country.alpha_2
    for alias, code in COUNTRY_ALIASES.items():
        index[fold(alias)] = code
        # Kosovo's XK is no ISO code, yet Europe's registers and the map's outlines use it.
        index.setdefault(code.lower(), code)
    return index


@lru_cache(maxsize=4096)
def parse_country(value: str) -> tuple[str | None, str | None]:
    """ISO alpha-2 from a code (alpha-2/3, any case) or a name in a supported language."""
    text = clean_text(value)
    if not text or is_placeholder(text):
        return None, None
    code = _country_index().get(fold(text))
    if code:
        return code, None
    return None, Message(N_("'%(text)s' is not an ISO country code or a known country name; "
                            "write the two-letter code, for example FR, BE, IT, PL or CY"), text=text)


# -- links and contacts --------------------------------------------------------

_NOT_WEB = N_("'%(text)s' is not a web address (only http and https links are kept)")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$|^xn--")
# Written without nested repetition (which backtracks for every label): the labels'
# own rules (no hyphen at either end, at most 63 characters) are checked after the match.
_EMAIL_SHAPE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@((?:[a-z0-9-]+\.)+)[a-z]{2,63}$", re.IGNORECASE)


class _Email:
    """``match(text)``: truthy for an e-mail address (local part @ labels . top-level domain)."""

    @staticmethod
    def match(text: str) -> bool:
        shape = _EMAIL_SHAPE.match(text)
        if not shape:
            return False
        return all(0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
                   for label in shape.group(1)[:-1].split("."))


_EMAIL = _Email()
_WEBSITE_SEPARATORS = re.compile(r"\s*[;,|]\s*|\s+")
_EMAIL_SEPARATORS = re.compile(r"[;,\s/]+")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")


def parse_website(value: str) -> tuple[str, str | None]:
    """An http(s) URL; a missing scheme gets ``https://``. Anything else is refused.
    When a cell lists several, the first valid one is kept."""
    text = clean_text(value)
    if not text or is_placeholder(text):
        return "", None
    if " " not in text and ";" not in text and "," not in text and "|" not in text:
        return _one_website(text)  # one address (clean_text left no other white space): no split
    parts = [p for p in _WEBSITE_SEPARATORS.split(text) if p]
    if len(parts) > 1:
        kept = [url for url, problem in map(_one_website, parts) if url]
        if kept:
            return kept[0], Message(N_("several websites in one cell; kept %(kept)s"), kept=kept[0])
    return _one_website(text)


_SIMPLE_URL = re.compile(r"^(?:(https?)://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(:\d{1,5})?([/?#][^\s]*)?$",
                         re.IGNORECASE)


def _one_website(text: str) -> tuple[str, str | None]:
    simple = _SIMPLE_URL.match(text)
    if simple and "@" not in text:
        # The common case needs no IDNA or URL parsing: only lower-case the scheme and host.
        scheme, host, port, rest = simple.groups()
        return f"{(scheme or 'https').lower()}://{host.lower()}{port or ''}{rest or ''}", None
    return _complex_website(text)


def _complex_website(text: str) -> tuple[str, str | None]:
    if _EMAIL.match(text.removeprefix("mailto:")):
        return "", Message(N_("'%(text)s' is an e-mail address, not a website; put it in the e-mail column"),
                          text=text)
    candidate = text if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE) else None
    if candidate is None:
        if re.match(r"^[a-z][a-z0-9+.-]*:", text, re.IGNORECASE) and not re.match(r"^[^:/]+:\d", text):
            return "", Message(_NOT_WEB, text=text)
        candidate = "https://" + text.lstrip("/")
    parts = urlsplit(candidate)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https"):
        return "", Message(_NOT_WEB, text=text)
    try:
        host_ascii = host.encode("idna").decode("ascii") if host else ""
    except UnicodeError:
        host_ascii = ""
    if " " in text or not host_ascii or not _HOST.match(host_ascii):
        return "", Message(N_("'%(text)s' is not a valid web address; write it like https://example.org"),
                          text=text)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl(), None


def parse_email(value: str) -> tuple[str, str | None]:
    """One e-mail address; when a cell lists several, the first valid one is kept."""
    text = clean_text(value)
    if not text or is_placeholder(text):
        return "", None
    if _EMAIL_SEPARATORS.search(text):
        candidates = [c.strip().removeprefix("mailto:") for c in _EMAIL_SEPARATORS.split(text) if c.strip()]
    else:  # most cells: one address (clean_text left nothing to strip)
        candidates = [text.removeprefix("mailto:")]
    valid = [c for c in candidates if _EMAIL.match(c)]
    if not valid:
        return "", Message(N_("'%(text)s' is not a valid e-mail address"), text=text)
    if len(candidates) > 1:
        return valid[0], Message(N_("several e-mail addresses in one cell; kept %(kept)s"), kept=valid[0])
    return valid[0], None


def parse_phone(value: str) -> tuple[str, str | None]:
    """A phone number as written, if it has enough digits to be one."""
    text = clean_text(value)
    if not text or is_placeholder(text):
        return "", None
    if len(re.sub(r"\D", "", text)) < 6:
        return "", Message(N_("'%(text)s' is too short to be a phone number"), text=text)
    return text, None


# -- postcodes -----------------------------------------------------------------


@cache
def _postcode_patterns() -> dict[str, re.Pattern]:
    path = DATA_DIR / "geo" / "postcode-patterns.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {row["country"]: re.compile(row["pattern"]) for row in csv.DictReader(f)}


def postcode_patterns() -> dict[str, re.Pattern]:
    """Each country's postcode pattern (data/geo/postcode-patterns.csv)."""
    return _postcode_patterns()


@cache
def _postcode_prefix(country: str) -> re.Pattern:
    """A country or region prefix written before the digits (``F-75011``, ``B 1000``)."""
    return re.compile(rf"^({re.escape(country)}|[A-Z]{{1,2}})[- ](?=\d)")


_UK_SECTOR = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? +\d$")


@lru_cache(maxsize=65536)
def parse_postcode(value: str, country: str | None) -> tuple[str, str | None]:
    """A postcode checked against its country's pattern; leading zeros lost by a
    spreadsheet are restored (``1000`` in France is ``01000``)."""
    text = clean_text(value).upper()
    if not text or is_placeholder(text):
        return "", None
    if country:
        text = _postcode_prefix(country).sub("", text)
    pattern = _postcode_patterns().get(country or "")
    if pattern is None or pattern.match(text):
        if country == "PL" and re.fullmatch(r"\d{5}", text):
            text = f"{text[:2]}-{text[2:]}"  # the form Polish addresses use
        return text, None
    if country in ("GB", "JE", "GG", "IM") and _UK_SECTOR.match(text):
        # A geocoder's output cut to the sector ("HG4 2"): still places the row within a few km.
        text = " ".join(text.split())
        return text, Message(N_("postcode '%(text)s' is only a postcode sector (the last two letters are "
                                "missing); kept, and the row placed by it"), text=text)
    digits = re.search(r"\\d\{(\d)\}", pattern.pattern)
    if text.isdigit() and digits and len(text) < int(digits.group(1)):
        padded = text.zfill(int(digits.group(1)))
        if pattern.match(padded):
            return padded, Message(N_("postcode '%(text)s' lost its leading zero; stored %(padded)s"),
                                   text=text, padded=padded)
    return "", Message(N_("postcode '%(text)s' does not look like a postcode of %(country)s; "
                          "check it (it was left empty)"), text=text, country=country)


# -- vocabularies ----------------------------------------------------------------


@cache
def _term_index(name: str) -> dict[str, str]:
    vocabulary = getattr(vocab, name)()
    index: dict[str, str] = {}
    for term in vocabulary:
        index[fold(term.code)] = term.code
        for label in (*term.labels.values(), *term.aliases):
            index.setdefault(fold(label), term.code)
    for key, code in list(index.items()):
        index.setdefault(_spelling(key), code)
    return index


# Spellings of one word: "co-operative", "co operative", "co-op", "coop", "coops" are "cooperative".
_SPELLINGS = ((re.compile(r"\bco (?=op)"), "co"), (re.compile(r"\bcoops?\b|\bcooperatives\b"), "cooperative"),
              (re.compile(r"\bworkers\b"), "worker"))
# A structure that says it is a cooperative in any of these words, and nothing more precise: Cooperative.
_COOPERATIVE = re.compile(r"\b(cooperative|cooperativa|cooperatie|spoldzielnia|genossenschaft|"
                          r"συνεταιρισμος|cooperativo|cooperativas)\b")
COOPERATIVE = "OS115"


def _spelling(key: str) -> str:
    for pattern, replacement in _SPELLINGS:
        key = pattern.sub(replacement, key)
    return key


def _lookup(name: str, token: str) -> str | None:
    token = token.strip()
    index = _term_index(name)
    if "/" in token and "://" in token:  # a URI such as …/activities-modified/AM40
        tail = token.rstrip("/").rsplit("/", 1)[-1]
        return index.get(fold(tail))
    key = fold(token)
    found = index.get(key) or index.get(_spelling(key))
    if found is None and "/" in token and " " not in token.strip():
        found = index.get(fold(token.rstrip("/").rsplit("/", 1)[-1]))
    if found is None and name == "structures" and _COOPERATIVE.search(_spelling(key)):
        found = COOPERATIVE if COOPERATIVE in index.values() else None
    return found


def parse_terms(value: str, name: str) -> tuple[list[str], list[str]]:
    """Codes of vocabulary ``name`` (themes, resources…) from a cell listing codes,
    URIs or labels in any language, separated by ``;``, ``|``, line breaks or commas.
    Returns the codes and the pieces that matched nothing."""
    found, unknown = _parse_terms(str(value or ""), name)
    return list(found), list(unknown)


@lru_cache(maxsize=65536)
def _parse_terms(value: str, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found, unknown = split_terms(value, lambda token: _lookup(name, token))
    return tuple(dict.fromkeys(found)), tuple(unknown)


def split_terms(value: str, lookup) -> tuple[list, list[str]]:
    """What ``lookup(piece)`` finds in a cell listing terms separated by ``;``, ``|``, line
    breaks or commas (labels may hold commas: the longest run that matches wins; then each
    half of "Training & Education"), in the cell's order; and the pieces it found nothing for."""
    text = value.strip()
    if not text or is_placeholder(text):
        return [], []
    found: list = []
    unknown: list[str] = []
    for part in re.split(r"[;|\n]+", text):
        part = part.strip()
        if not part or is_placeholder(part):
            continue
        code = lookup(part)
        if code:
            found.append(code)
            continue
        pieces = [p.strip() for p in part.split(",")]
        i = 0
        while i < len(pieces):
            for j in range(len(pieces), i, -1):
                code = lookup(", ".join(pieces[i:j]))
                if code:
                    found.append(code)
                    i = j
                    break
            else:
                piece = pieces[i]
                halves = [h.strip() for h in re.split(r"\s*(?:/|&|\+|\band\b|\bet\b|\be\b)\s*", piece) if h.strip()]
                codes = [lookup(h) for h in halves] if len(halves) > 1 else []
                if codes and any(codes):
                    found.extend(c for c in codes if c)
                elif piece and not is_placeholder(piece):
                    unknown.append(piece)
                i += 1
    return found, unknown


@lru_cache(maxsize=4096)
def parse_term(value: str, name: str) -> tuple[str | None, str | None]:
    """One code of vocabulary ``name`` (relation, structure) from a code, URI or label."""
    text = clean_text(value)
    if not text or is_placeholder(text):
        return None, None
    code = _lookup(name, text)
    if code:
        return code, None
    codes = getattr(vocab, name)().codes()
    listed = ", ".join(codes) if len(codes) <= 6 else f"{codes[0]}…{codes[-1]}"
    return None, Message(N_("'%(text)s' is not a known code (%(listed)s), URI or label; left empty"),
                         text=text, listed=listed)


# -- coordinates -------------------------------------------------------------------


def parse_number(value: object) -> float | None:
    """A decimal number written with a point or a comma; None if it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value == value else None
    text = clean_text(value).replace(" ", "")
    if not text or (text != "0" and is_placeholder(text)):
        return None
    if "," in text and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_latlon(value: str) -> tuple[float | None, float | None]:
    """A "lat, lon" cell (comma, semicolon or space separated)."""
    text = clean_text(value)
    numbers = re.findall(r"[-+]?\d+(?:\.\d+)?", text)
    if len(numbers) == 2 and not re.search(r"\d,\d", text.replace(", ", " ")):
        return float(numbers[0]), float(numbers[1])
    parts = re.split(r"\s*[;\s]\s*|\s*,\s+", text)
    if len(parts) == 2:
        lat, lon = parse_number(parts[0]), parse_number(parts[1])
        if lat is not None and lon is not None:
            return lat, lon
    return None, None
