"""Fields of the network's own (``/admin/fields``): what a field is, and the one set of rules
that reads and checks a value of each type, shared by the staff form, the public forms and
the importer (so a value refused in one is refused in all, with the same words).

Values are stored as text, one row per value: numbers as written with a point, dates as
YYYY-MM-DD, yes/no as ``yes``/``no``, choices as their slug, web addresses as http(s) URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .text import slugify, strip_unsafe
from .translate import N_, Message
from .vocab import DEFAULT_LANGUAGE

TYPES = ("text", "long_text", "number", "date", "yes_no", "choice", "choices", "url")
FILTERABLE = ("yes_no", "choice", "choices")
CHOICE_TYPES = ("choice", "choices")
MAX_LENGTH = {"text": 500, "long_text": 10000, "url": 500}
# Yes and no in the six languages, and what spreadsheets write for them.
YES = {"yes", "y", "oui", "sì", "si", "tak", "ναι", "ja", "true", "1", "x", "vrai", "vero", "prawda", "waar"}
NO = {"no", "n", "non", "nie", "όχι", "οχι", "nee", "false", "0", "faux", "falso", "fałsz", "onwaar"}
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?$", re.IGNORECASE)
# Several values in one spreadsheet cell.
_SEPARATORS = re.compile(r"\s*[;|\n]\s*")


@dataclass
class Field:
    """One field, as read from the catalogue."""

    id: int
    slug: str
    type: str
    labels: dict[str, str]
    choices: list[dict] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    required: bool = False
    public: bool = True
    filter: bool = False
    in_popup: bool = False
    position: int = 0
    retired: bool = False

    def label(self, lang: str) -> str:
        """The label in ``lang``, else English, else any, else the slug."""
        return (self.labels.get(lang) or self.labels.get(DEFAULT_LANGUAGE)
                or next((v for v in self.labels.values() if v), "") or self.slug)

    def choice_label(self, value: str, lang: str) -> str:
        """The label of a choice (its slug when it has none)."""
        for choice in self.choices:
            if choice["value"] == value:
                labels = choice.get("labels") or {}
                return labels.get(lang) or labels.get(DEFAULT_LANGUAGE) or next(
                    (v for v in labels.values() if v), "") or value
        return value

    @property
    def param(self) -> str:
        """Its URL parameter as a filter (``f-epv-label``)."""
        return f"f-{self.slug}"

    def applies_to(self, categories: list[str] | tuple[str, ...]) -> bool:
        """True when an organisation in ``categories`` (codes) has this field."""
        return not self.categories or bool(set(self.categories) & set(categories))

    def display(self, values: list[str], lang: str) -> str:
        """The values as a visitor reads them (choices' labels; yes/no and dates in ``lang``)."""
        from .translate import gettext_in  # the catalogue of translations, loaded when shown
        shown = []
        for value in values:
            if self.type in CHOICE_TYPES:
                shown.append(self.choice_label(value, lang))
            elif self.type == "yes_no":
                shown.append(gettext_in(lang, "yes") if value == "yes" else gettext_in(lang, "no"))
            elif self.type == "date":
                shown.append(format_date(value, lang))
            else:
                shown.append(value)
        return ", ".join(shown)


def clean(value: object, *, multiline: bool = False) -> str:
    """Text without control characters (tab and line breaks kept in long text) nor
    non-characters, trimmed."""
    text = strip_unsafe(str(value or ""))
    if multiline:
        lines = [" ".join(_CONTROL.sub("", line).split()) for line in text.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return " ".join(_CONTROL.sub(" ", text).split())


def format_date(value: str, lang: str) -> str:
    """A stored date (YYYY-MM-DD) as written in ``lang``."""
    from babel.dates import format_date as babel_format
    try:
        return babel_format(date.fromisoformat(value), format="long", locale=lang)
    except ValueError:
        return value


def parse(fld: Field, raw: object, *, lang: str = DEFAULT_LANGUAGE) -> tuple[list[str], Message | None]:
    """The values to store for ``raw`` (a string, or a list from a form's checkboxes), or
    the problem, worded to say what to write instead and naming the field in ``lang``. An
    empty value gives ``[]``."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    if fld.type == "long_text":
        texts = [clean(v, multiline=True) for v in items]
    else:
        texts = [clean(v) for v in items]
    texts = [t for t in texts if t]
    if not texts:
        return [], None
    name = fld.label(lang)
    if fld.type in ("text", "long_text", "url"):
        text = " ".join(texts) if fld.type != "long_text" else "\n".join(texts)
        if len(text) > MAX_LENGTH[fld.type]:
            return [], Message(N_("%(field)s: at most %(max)s characters"), field=name, max=MAX_LENGTH[fld.type])
        if fld.type == "url":
            url = text if "://" in text else f"https://{text}"
            if not _URL.match(url) or url.split(":", 1)[0].lower() not in ("http", "https"):
                return [], Message(N_("%(field)s: '%(value)s' is not a web address; write one starting with "
                                      "https:// (for example https://example.org)"), field=name, value=text[:80])
            return [url], None
        return [text], None
    if fld.type == "number":
        text = texts[0].replace(" ", "").replace("\u00a0", "")
        if not _NUMBER.match(text):
            return [], Message(N_("%(field)s: '%(value)s' is not a number; write digits, with a point or a comma "
                                  "for decimals (for example 12.5)"), field=name, value=texts[0][:80])
        number = text.replace(",", ".")
        return [number.lstrip("+")], None
    if fld.type == "date":
        return _parse_date(name, texts[0])
    if fld.type == "yes_no":
        word = texts[0].casefold()
        if word in YES:
            return ["yes"], None
        if word in NO:
            return ["no"], None
        return [], Message(N_("%(field)s: '%(value)s' is neither yes nor no; write yes or no (or oui/non, sì/no, "
                              "tak/nie, ναι/όχι, ja/nee)"), field=name, value=texts[0][:80])
    words = [w for t in texts for w in _SEPARATORS.split(t) if w]
    if fld.type == "choices" and len(texts) == 1 and len(words) == 1 and "," in texts[0]:
        words = [w.strip() for w in texts[0].split(",") if w.strip()]
    found = []
    for word in words:
        value = match_choice(fld, word)
        if value is None:
            return [], Message(N_("%(field)s: '%(value)s' is not one of its choices; use one of %(choices)s"),
                               field=name, value=word[:80], choices=", ".join(c["value"] for c in fld.choices))
        if value not in found:
            found.append(value)
    if fld.type == "choice" and len(found) > 1:
        return [], Message(N_("%(field)s: choose one value, not %(count)s"), field=name, count=len(found))
    return found, None


def match_choice(fld: Field, word: str) -> str | None:
    """The slug of the choice ``word`` names (its slug or its label in any language)."""
    folded = word.casefold()
    for choice in fld.choices:
        if choice["value"] == folded or slugify(word, fallback="") == choice["value"]:
            return choice["value"]
        if any(label.casefold() == folded for label in (choice.get("labels") or {}).values() if label):
            return choice["value"]
    return None


def _parse_date(name: str, text: str) -> tuple[list[str], Message | None]:
    iso = _ISO.match(text)
    day_first = _DAY_FIRST.match(text)
    try:
        if iso:
            return [date(int(iso[1]), int(iso[2]), int(iso[3])).isoformat()], None
        if day_first:
            return [date(int(day_first[3]), int(day_first[2]), int(day_first[1])).isoformat()], None
    except ValueError:
        pass
    return [], Message(N_("%(field)s: '%(value)s' is not a date; write it as 2024-03-31 or 31/03/2024"),
                       field=name, value=text[:80])


def check_all(fields: list[Field], given: dict[str, object], categories: list[str] | tuple[str, ...],
              *, public_only: bool = False, lang: str = DEFAULT_LANGUAGE,
              ) -> tuple[dict[str, list[str]], dict[str, Message]]:
    """Every field's values from ``given`` (slug → raw), and the problems per slug: a
    required field is required only of the organisations in its categories."""
    values: dict[str, list[str]] = {}
    problems: dict[str, Message] = {}
    for fld in fields:
        if fld.retired or (public_only and not fld.public):
            continue
        parsed, problem = parse(fld, given.get(fld.slug, ""), lang=lang)
        if problem is not None:
            problems[fld.slug] = problem
        elif fld.required and not parsed and fld.applies_to(categories):
            problems[fld.slug] = Message(N_("%(field)s is required"), field=fld.label(lang))
        else:
            values[fld.slug] = parsed
    return values, problems
