"""What a funder's report asks of a project, computed once for its page, its PDF and the API:
per country and per kind, the organisations visited, the participating organisations, the
visits and the events; the visits as a timeline in the chosen language (a title missing in it
falls back to another language, with a note); the participants by country; the places on a map.

Definitions, so that every page counts alike:
- an organisation *visited*: a member whose relation to the project is "visited", or one that
  hosted or was visited in one of its visits or events; counted in its own country;
- a *participating* organisation: a member whose relation is "participant", or one that took
  part in a visit or event;
- a visit or event counts in the country where it took place, under its kind ("online" ones
  often have no country: they count under "—").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_date

from .. import vocab
from ..catalogue import funders as store
from ..translate import N_, gettext_in
from .charts import Chart

KINDS = ("study-visit", "seminar", "online", "event")
KIND_LABELS = {"study-visit": N_("Study visits"), "seminar": N_("Seminars"), "online": N_("Online meetings"),
               "event": N_("Events")}
KIND_LABEL = {"study-visit": N_("Study visit"), "seminar": N_("Seminar"), "online": N_("Online meeting"),
              "event": N_("Event")}
VISITED_ROLES, PARTICIPANT_ROLES = ("host", "visited"), ("participant",)
FALLBACK_ORDER = ("en", *vocab.LANGUAGES)  # a missing text: English first, then the others


@dataclass(frozen=True)
class CountryCounts:
    country: str  # ISO code, "" when unknown (online events)
    name: str  # in the chosen language
    visited: int
    participants: int
    kinds: dict[str, int]  # visits and events held there, per kind

    @property
    def visits(self) -> int:
        return sum(self.kinds.values())


@dataclass(frozen=True)
class TimelineRow:
    number: int  # its mark on the map of places
    when: str
    kind: str
    title: str
    title_note: str  # "(in English)" when the title is not in the chosen language
    place: str
    hosts: tuple[str, ...]
    visited: tuple[str, ...]
    participants: tuple[str, ...]


@dataclass(frozen=True)
class FunderFigures:
    by_country: tuple[CountryCounts, ...]
    total: CountryCounts  # the distinct organisations and all visits (not the sum of the rows)
    kinds: tuple[str, ...]  # the kinds, in order
    kind_labels: dict[str, str]
    timeline: tuple[TimelineRow, ...]
    participants_by_country: tuple[tuple[str, tuple[str, ...]], ...]  # (country name, names)
    places: Chart  # the located visits and events on a map, numbered as in the timeline
    description: str = ""  # the project's, in the chosen language or another one
    description_note: str = ""  # "(in English)" when in another one


def compute(db, project_id: int, lang: str, statuses: tuple[str, ...] = ("published",)) -> FunderFigures:
    """The funder's figures of a project, in ``lang``, over the organisations in ``statuses``."""
    visits = store.report_visits(db, project_id, statuses)
    members = store.report_members(db, project_id, statuses)
    visited, participants, countries = set(), set(), {}
    for org in members:
        countries[org["id"]] = org["country"]
        if org["relation"] == "visited":
            visited.add(org["id"])
        elif org["relation"] == "participant":
            participants.add(org["id"])
    for visit in visits:
        for org in visit["organisations"]:
            countries[org["id"]] = org["country"]
            if org["role"] in VISITED_ROLES:
                visited.add(org["id"])
            elif org["role"] in PARTICIPANT_ROLES:
                participants.add(org["id"])

    def counts(code: str | None) -> CountryCounts:
        def here(ids):
            return sum(1 for i in ids if code is None or countries[i] == code)
        kinds = {kind: sum(1 for v in visits if v["kind"] == kind and (code is None or v["country"] == code))
                 for kind in KINDS}
        name = "" if code is None else (vocab.country_name(code, lang) if code else "—")
        return CountryCounts(code or "", name, here(visited), here(participants), kinds)

    codes = {countries[i] for i in visited | participants} | {v["country"] for v in visits}
    rows = sorted((counts(code) for code in codes), key=lambda c: (c.country == "", vocab.collation_key(c.name, lang)))
    by_country: dict[str, list[str]] = {}
    names = {org["id"]: org["name"] for org in members} | {o["id"]: o["name"] for v in visits for o in v["organisations"]}
    for org_id in sorted(participants, key=lambda i: vocab.collation_key(names[i], lang)):
        by_country.setdefault(countries[org_id], []).append(names[org_id])
    description, description_note = in_language(*store.project_descriptions(db, project_id), lang)
    timeline = tuple(_timeline_row(n, visit, lang) for n, visit in enumerate(visits, start=1))
    located = [(row, v) for row, v in zip(timeline, visits) if v["lat"] is not None and v["lon"] is not None]
    places = Chart("visits_map", "points", gettext_in(lang, "Where the visits and events took place"),
                   (gettext_in(lang, "Number"), gettext_in(lang, "Visit or event")),
                   tuple((row.number, row.title) for row, _ in located), keys=tuple(str(row.number) for row, _ in located),
                   points=tuple((v["lat"], v["lon"]) for _, v in located))
    return FunderFigures(
        by_country=tuple(rows), total=counts(None), kinds=KINDS,
        kind_labels={kind: gettext_in(lang, KIND_LABELS[kind]) for kind in KINDS}, timeline=timeline,
        participants_by_country=tuple(sorted(((vocab.country_name(code, lang) if code else "—", tuple(listed))
                                              for code, listed in by_country.items()),
                                             key=lambda pair: (pair[0] == "—", vocab.collation_key(pair[0], lang)))),
        places=places, description=description, description_note=description_note)


def in_language(texts: dict[str, str], base: str, lang: str) -> tuple[str, str]:
    """The text in ``lang``, else in another language (English first; ``base``, the text as first
    written, counts as English) with a note saying which: (text, note)."""
    if texts.get(lang):
        return texts[lang], ""
    if base and not texts.get("en"):
        texts = {**texts, "en": base}
    for other in FALLBACK_ORDER:
        if texts.get(other):
            if other == lang:
                return texts[other], ""
            name = Locale.parse(other).get_display_name(lang) or other
            return texts[other], gettext_in(lang, "(in %(language)s)", language=name)
    return base, ""


def when(start: str | None, end: str | None, lang: str) -> str:
    """A date or a range of dates, written out in ``lang`` ("6 décembre 2026")."""
    def long(value: str | None) -> str:
        if not value:
            return ""
        try:
            return format_date(date.fromisoformat(value), format="long", locale=lang)
        except ValueError:  # a partial date ("2026-12") stays as written
            return value
    first, last = long(start), long(end)
    return f"{first} – {last}" if first and last and last != first else first or last


def _timeline_row(number: int, visit: dict, lang: str) -> TimelineRow:
    title, note = in_language(visit["titles"], visit["title"], lang)
    place = visit["place"] or ", ".join(  # as staff wrote it, else the town and country
        p for p in (visit["city"], vocab.country_name(visit["country"], lang) if visit["country"] else "") if p)

    def named(roles) -> tuple[str, ...]:
        return tuple(o["name"] for o in visit["organisations"] if o["role"] in roles)

    return TimelineRow(number, when(visit["date"], visit["end_date"], lang),
                       gettext_in(lang, KIND_LABEL.get(visit["kind"], visit["kind"])), title, note, place,
                       named(("host",)), named(("visited",)), named(PARTICIPANT_ROLES))
