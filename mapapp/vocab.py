"""Controlled vocabularies and their labels in the interface languages.

The files under ``data/vocab/`` are the one source of truth; country names come
from pycountry (ISO 3166-1 and its translations), and from CLDR (Babel) where pycountry
has no translation (Greek: Iran, South Korea, Türkiye).
"""

from __future__ import annotations

import csv
import gettext
from dataclasses import dataclass
from functools import cache

import pycountry
from babel import Locale, UnknownLocaleError

from .config import DATA_DIR
from .text import sort_key

# The interface languages, each named in itself (the language menu, the staff forms).
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "it": "Italiano", "pl": "Polski", "el": "Ελληνικά",
                  "nl": "Nederlands"}
LANGUAGES = tuple(LANGUAGE_NAMES)
DEFAULT_LANGUAGE = "en"
VOCAB_DIR = DATA_DIR / "vocab"
# The small enumerations: one definition each, read by the schema, importer, staff pages,
# command line and API description.
STATUSES = ("draft", "published", "archived")
IMPORT_STATUSES = ("draft", "published")  # what an import may set
ROLES = ("admin", "editor")
PRECISIONS = ("provided", "address", "street", "postcode", "locality", "region", "country", "manual")
RELATIONS = ("visited", "participant", "partner", "other")  # the codes of data/vocab/relations.csv
# What a visitor may send in: a new organisation, a correction, or "this one has closed".
CONTRIBUTION_KINDS = ("new", "correction", "closed")
# unconfirmed: waiting for its e-mail link; pending: in the moderation queue.
CONTRIBUTION_STATES = ("unconfirmed", "pending", "accepted", "rejected")
THEME_URI_BASE = "http://purl.org/essglobal/standard/activities-modified/"
STRUCTURE_URI_BASE = "http://purl.org/essglobal/standard/organisational-structure/"


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: a stable code and its label per language."""

    code: str
    labels: dict[str, str]
    aliases: tuple[str, ...] = ()  # other words people use for it, for the importer
    icon: str = ""  # a Tabler icon's name (mapapp/icons.py), where the vocabulary gives one

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The label in ``lang``, falling back to English."""
        return self.labels.get(lang) or self.labels[DEFAULT_LANGUAGE]


class Vocabulary:
    """An ordered list of terms read from ``data/vocab/<name>.csv``."""

    def __init__(self, name: str, terms: list[Term]):
        self.name = name
        self.terms = terms
        self._by_code = {t.code: t for t in terms}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def codes(self) -> list[str]:
        """All codes, in file order."""
        return [t.code for t in self.terms]

    def label(self, code: str, lang: str = DEFAULT_LANGUAGE) -> str:
        """The label of ``code`` in ``lang``; an unknown code is returned as is."""
        term = self._by_code.get(code)
        return term.label(lang) if term else code

    def icon(self, code: str) -> str:
        """The Tabler icon name of ``code`` ("" for an unknown code or a vocabulary without icons)."""
        term = self._by_code.get(code)
        return term.icon if term else ""


def _read(name: str) -> Vocabulary:
    path = VOCAB_DIR / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        terms = [
            Term(row["code"], {lang: row[lang] for lang in LANGUAGES},
                 tuple(a for a in (row.get("aliases") or "").split("|") if a), row.get("icon") or "")
            for row in csv.DictReader(f)
        ]
    return Vocabulary(name, terms)


@cache
def themes() -> Vocabulary:
    """ESSGLOBAL activities-modified themes (AM10 … AM160)."""
    return _read("themes")


@cache
def resources() -> Vocabulary:
    """Resources and skills: the shared list of needs and offers."""
    return _read("resources")


@cache
def relations() -> Vocabulary:
    """An organisation's relation to the project (visited, participant, …)."""
    return _read("relations")


@cache
def structures() -> Vocabulary:
    """ESSGLOBAL organisational structures (OS10 … OS240)."""
    return _read("organisational-structures")


@cache
def _country_translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True
    )


@cache
def country_codes() -> tuple[str, ...]:
    """Every ISO 3166-1 alpha-2 code."""
    return tuple(c.alpha_2 for c in pycountry.countries)


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case)."""
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


# Letters a language alphabetises after their base letter, not with it (Polish: "Luksemburg",
# then "Łotwa"); "~" sorts after every letter. The root collation already does so for ł.
_OWN_LETTERS = {"pl": str.maketrans({ch: base + "~" for ch, base in zip("ąćęłńóśźż", "acelnoszz")})}


def collation_key(text: str, lang: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
    """A sort key that orders names as a reader of ``lang`` expects: the root collation's
    first level (``text.sort_key``: "Émirats" among the E in French), with the letters the
    language counts as letters of their own after their base (Polish "Ć" after every "C"),
    then as written. PyICU is not a dependency; this is near enough for lists of names, and
    the same order as the directory's for every language but Polish."""
    own = _OWN_LETTERS.get(lang)
    return sort_key(text.casefold().translate(own) if own else text), text


def countries_by_name(lang: str, codes=None) -> list[str]:
    """Every country's code (or those of ``codes``), sorted by the country's name in ``lang``."""
    return sorted(codes if codes is not None else country_codes(),
                  key=lambda c: collation_key(country_name(c, lang), lang))


def country_name(code: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The country's common name in ``lang``; an unknown code is returned as is."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    if country is None:
        return code or ""
    name = getattr(country, "common_name", None) or country.name
    if lang == DEFAULT_LANGUAGE:
        return name
    translated = _country_translation(lang).gettext(name)
    if translated == name:  # pycountry's catalogue lacks it (Greek: Iran, South Korea, Türkiye)
        return _cldr_territories(lang).get(code, name)
    return translated


@cache
def _cldr_territories(lang: str) -> dict[str, str]:
    """CLDR's country names in ``lang`` (Babel's data): where pycountry has no translation."""
    try:
        return dict(Locale.parse(lang).territories)
    except (UnknownLocaleError, ValueError):
        return {}


# The interface language most of a country's organisations read (Belgium: French, the
# language of most of its ESS networks; Luxembourg, Monaco, Switzerland likewise): what
# messages to an organisation we know no language of are written in.
_COUNTRY_LANGUAGES = {"FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr", "CH": "fr", "IT": "it", "SM": "it",
                      "VA": "it", "PL": "pl", "GR": "el", "CY": "el", "NL": "nl", "SR": "nl",
                      "GB": "en", "IE": "en", "MT": "en"}


def language_of_country(code: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The interface language to write to an organisation of this country in (``default``
    for a country whose language the interface does not speak)."""
    return _COUNTRY_LANGUAGES.get((code or "").upper(), default)
