"""The one registry of filter kinds: every way to narrow the organisations shown
(``country=FR``, ``theme=AM40``, ``project=…``).

Each kind says its URL parameter, where an organisation's values are stored, its label
and where its values and their labels come from. Filters parsing, the SQL, the map
index's columns, the filter panel, the exports and the API description all loop over
``REGISTRY``: a new kind is one entry here (and its vocabulary), not an edit to each.
The network's own yes/no and choice fields that staff make filters are kinds too
(``f-<slug>``, see ``field_kind``): ``registry()`` is ``REGISTRY`` with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from . import vocab
from .translate import N_, Message

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")

# -- where an organisation's values are stored ---------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of ``organisations``: one value per organisation, or none."""

    column: str


@dataclass(frozen=True)
class Link:
    """A link table of ``organisation_id`` and ``value``: any number of values each.
    ``only`` (column, literal) keeps the rows of this kind in a table two kinds share
    (needs and offers). With an ``Entries`` vocabulary, ``value`` holds the id of a row
    of its table and the filter's values are those rows' slugs."""

    table: str
    value: str
    only: tuple[str, str] | None = None


# -- where the values and their labels come from -------------------------------------


class Countries:
    """ISO 3166-1 alpha-2 codes, named by pycountry; only the countries organisations
    are in are offered."""

    upper = True

    def canonical(self, value: str) -> str:
        return value.upper()

    def check(self, kind: str, value: str) -> Message | None:
        if vocab.is_country(value):
            return None
        return Message(N_("country: '%(code)s' is not an ISO 3166-1 alpha-2 code (for example FR, BE, IT)"),
                       code=value)

    def label(self, value: str, lang: str) -> str:
        return vocab.country_name(value, lang)

    def choices(self, present: Iterable[str], lang: str) -> list[tuple[str, str]]:
        """``(value, label)`` of the countries organisations are in, by label."""
        return sorted(((c, self.label(c, lang)) for c in present), key=lambda choice: vocab.collation_key(choice[1], lang))


@dataclass(frozen=True)
class Terms:
    """A controlled vocabulary under data/vocab/ (``vocab.themes``…): every term is offered,
    in file order."""

    terms: Callable[[], vocab.Vocabulary]
    upper: bool = False  # codes are written in capitals (AM40); visitors may type am40

    def canonical(self, value: str) -> str:
        return value.upper() if self.upper else value

    def check(self, kind: str, value: str) -> Message | None:
        terms = self.terms()
        if value in terms:
            return None
        return Message(N_("%(name)s: unknown value '%(code)s'; use one of %(codes)s"), name=kind, code=value,
                       codes=", ".join(terms.codes()))

    def label(self, value: str, lang: str) -> str:
        return self.terms().label(value, lang)

    def choices(self, present: Iterable[str], lang: str) -> list[tuple[str, str]]:
        """``(code, label)`` of every term, in the vocabulary's order."""
        return [(t.code, t.label(lang)) for t in self.terms()]


@dataclass(frozen=True)
class Entries:
    """Rows of a catalogue table that staff create (projects, visits): a value is a row's
    ``slug``, labelled by its ``name`` column or its translation in the JSON ``names``
    column, with ``detail`` in brackets after it when set; listed in ``order`` (columns),
    else by label; ``listed`` is an SQL condition on the rows the public lists show (archived
    projects are not). The catalogue reads them (``catalogue.kinds.entry_choices``)."""

    table: str
    name: str = "name"
    names: str = "names"
    detail: str | None = None
    order: tuple[str, ...] = ()
    listed: str | None = None
    upper = False

    def canonical(self, value: str) -> str:
        return value

    def check(self, kind: str, value: str) -> Message | None:
        if _SLUG.match(value):
            return None
        return Message(N_("%(name)s: '%(slug)s' is not a valid slug"), name=kind, slug=value)

    def label(self, value: str, lang: str) -> str:
        return value  # its name is in the catalogue; the slug says it without a query


class Tree(Protocol):
    """What ``Categories`` reads of the category tree (``catalogue.categorytree.Tree``)."""

    def find(self, value: str) -> str | None: ...
    def offered(self) -> list[str]: ...
    def label(self, code: str, lang: str) -> str: ...
    def choices(self, lang: str) -> list[tuple[str, str]]: ...
    def essglobal(self, code: str) -> str | None: ...


class _DefaultTree:
    """The tree of a fresh catalogue (the ESSGLOBAL themes), for code that runs without a
    catalogue at hand (parsing a saved query in a test, the API description)."""

    def find(self, value: str) -> str | None:
        code = value.upper()
        return code if code in vocab.themes() else None

    def offered(self) -> list[str]:
        return vocab.themes().codes()

    def label(self, code: str, lang: str) -> str:
        return vocab.themes().label(code, lang)

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(t.code, t.label(lang)) for t in vocab.themes()]

    def essglobal(self, code: str) -> str | None:
        return code if code in vocab.themes() else None


_tree_source: list[Callable[[], Tree | None]] = []
_pinned: ContextVar[Tree | None] = ContextVar("mapapp_categories", default=None)


@contextmanager
def categories_pinned(tree: Tree | None):
    """Read ``tree`` as the category tree within the block: for work that outlives its
    request (an export streamed after the request has ended)."""
    token = _pinned.set(tree)
    try:
        yield
    finally:
        _pinned.reset(token)


def read_categories_with(source: Callable[[], Tree | None]) -> None:
    """Say where ``Categories`` finds the current catalogue's tree: the web layer gives a
    function reading the request's catalogue (cached per catalogue state); it answers None
    outside a request, where the default tree is used."""
    _tree_source[:] = [source]


@dataclass(frozen=True)
class Categories:
    """The network's category tree (table ``categories``): a value is a category's code,
    matched whatever its case (``am40`` is ``AM40``); choosing a parent chooses its
    children too (``catalogue.kinds`` expands it). Retired categories are not offered."""

    upper = False

    def tree(self) -> Tree:
        """The current catalogue's tree: the request's; outside a request the one pinned for
        the work (``categories_pinned``), else the default one. (The request's comes first: a
        streamed export its client left half-read stays suspended inside its pin, which would
        otherwise answer the next requests of that thread with a tree since changed.)"""
        found = (_tree_source[0]() if _tree_source else None) or _pinned.get()
        return found if found is not None else _DefaultTree()

    def canonical(self, value: str) -> str:
        return self.tree().find(value) or value

    def check(self, kind: str, value: str) -> Message | None:
        tree = self.tree()
        if tree.find(value) is not None:
            return None
        return Message(N_("%(name)s: unknown value '%(code)s'; use one of %(codes)s"), name=kind, code=value,
                       codes=", ".join(tree.offered()))

    def label(self, value: str, lang: str) -> str:
        return self.tree().label(value, lang)

    def choices(self, present: Iterable[str], lang: str) -> list[tuple[str, str]]:
        """``(code, label)`` of every category offered, parents each followed by their children."""
        return self.tree().choices(lang)


@dataclass(frozen=True)
class FieldChoices:
    """The values of a filter field of the network's own (``mapapp.fields``): a yes/no
    field's ``yes`` and ``no``, a choice field's choices, each labelled per language."""

    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (value, ((lang, label), …))
    upper = False

    def canonical(self, value: str) -> str:
        return value

    def check(self, kind: str, value: str) -> Message | None:
        if any(value == v for v, _labels in self.values):
            return None
        return Message(N_("%(name)s: unknown value '%(code)s'; use one of %(codes)s"), name=kind, code=value,
                       codes=", ".join(v for v, _labels in self.values))

    def label(self, value: str, lang: str) -> str:
        for v, labels in self.values:
            if v == value:
                named = dict(labels)
                return named.get(lang) or named.get("en") or next(iter(named.values()), "") or value
        return value

    def choices(self, present: Iterable[str], lang: str) -> list[tuple[str, str]]:
        """``(value, label)`` of every value, in the field's order."""
        return [(v, self.label(v, lang)) for v, _labels in self.values]


Vocabulary = Countries | Terms | Entries | Categories | FieldChoices


@dataclass(frozen=True)
class Kind:
    """One filter kind. ``name``: its URL parameter and the ``Filters`` field; ``label``:
    the filter panel's heading (``N_``, translated where shown); ``export_label``: how an
    export's description names a chosen filter (the label when None); ``about``: the API
    description's words for its values (English, as the API's)."""

    name: str
    label: str
    stored: Column | Link
    vocabulary: Vocabulary
    about: str
    export_label: str | None = None
    labels: tuple[tuple[str, str], ...] = ()  # a field's own labels per language (not translated by gettext)

    @property
    def summary_label(self) -> str:
        return self.export_label or self.label

    def title(self, lang: str, translate: Callable[[str], str]) -> str:
        """Its heading in ``lang``: a field's own label, else ``label`` through ``translate``."""
        if self.labels:
            named = dict(self.labels)
            return named.get(lang) or named.get("en") or next(iter(named.values()), "") or self.name
        return translate(self.label)


REGISTRY: tuple[Kind, ...] = (
    Kind("country", N_("Country"), Column("country"), Countries(),
         "ISO 3166-1 alpha-2 codes, comma-separated or repeated (OR)"),
    Kind("theme", N_("Theme"), Link("organisation_themes", "theme"), Categories(),
         "category codes of the network's tree (GET /api/categories lists them; the ESSGLOBAL themes AM10…AM160"
         " by default); a parent category includes its children"),
    Kind("need", N_("Needs"), Link("organisation_resources", "resource", only=("kind", "need")),
         Terms(vocab.resources), "resource codes (data/vocab/resources.csv) the organisation needs",
         export_label=N_("Need")),
    Kind("offer", N_("Offers"), Link("organisation_resources", "resource", only=("kind", "offer")),
         Terms(vocab.resources), "resource codes the organisation offers", export_label=N_("Offer")),
    Kind("relation", N_("Relation to the project"), Column("relation"), Terms(vocab.relations),
         ", ".join(vocab.RELATIONS[:-1]) + " or " + vocab.RELATIONS[-1]),
    Kind("project", N_("Project"), Link("project_organisations", "project_id"), Entries("projects", listed="archived = 0"),
         "project slugs"),
    Kind("visit", N_("Visit"), Link("visit_organisations", "visit_id"),
         Entries("visits", name="title", names="titles", detail="date", order=("date", "title")), "visit slugs"),
)
NAMES: tuple[str, ...] = tuple(k.name for k in REGISTRY)
BY_NAME: dict[str, Kind] = {k.name: k for k in REGISTRY}


# -- fields of the network's own -------------------------------------------------------

# Where the catalogue's filter fields come from (the web layer reads them from the request's
# catalogue, per catalogue state); ``registry()`` adds them to ``REGISTRY``. Without one (a
# command, a job) only the static kinds filter.
_FIELD_KINDS: ContextVar[Callable[[], tuple[Kind, ...]] | None] = ContextVar("field_kinds", default=None)


def field_kind(fld) -> Kind:
    """The filter kind of a yes/no or choice field (``mapapp.fields.Field``): parameter
    ``f-<slug>``, its values in ``organisation_fields`` rows of that field."""
    if fld.type == "yes_no":
        values = (("yes", (("en", "yes"), ("fr", "oui"), ("it", "sì"), ("pl", "tak"), ("el", "ναι"), ("nl", "ja"))),
                  ("no", (("en", "no"), ("fr", "non"), ("it", "no"), ("pl", "nie"), ("el", "όχι"), ("nl", "nee"))))
    else:
        values = tuple((c["value"], tuple((c.get("labels") or {}).items())) for c in fld.choices)
    return Kind(fld.param, fld.label("en"), Link("organisation_fields", "value", only=("field_id", fld.id)),
                FieldChoices(values), f"values of the field '{fld.slug}': " + ", ".join(v for v, _l in values),
                labels=tuple(fld.labels.items()))


def use_fields(provider: Callable[[], tuple[Kind, ...]] | None) -> None:
    """Let ``provider`` give the filter fields' kinds (``field_kind`` of each) that
    ``registry()`` adds, in this context and those it starts."""
    _FIELD_KINDS.set(provider)


@contextmanager
def fields_from(provider: Callable[[], tuple[Kind, ...]]):
    """``use_fields(provider)`` within the block only: for work outside a request (a digest,
    a command) that reads filters holding ``f-<slug>``."""
    token = _FIELD_KINDS.set(provider)
    try:
        yield
    finally:
        _FIELD_KINDS.reset(token)


def registry() -> tuple[Kind, ...]:
    """Every filter kind: ``REGISTRY`` and the catalogue's filter fields (see ``use_fields``)."""
    provider = _FIELD_KINDS.get()
    return REGISTRY + (provider() if provider is not None else ())


def theme_label(code: str, lang: str) -> str:
    """The label of category ``code`` in ``lang``, from the current catalogue's tree."""
    return BY_NAME["theme"].vocabulary.label(code, lang)


def theme_activities(codes: Iterable[str]) -> list[str]:
    """The ESSGLOBAL activities (AM codes) categories ``codes`` map to, in their order, once
    each: a child without a mapping takes its parent's; one with neither has none (exports
    give its label instead, never a made-up URI)."""
    tree = theme_tree()
    return list(dict.fromkeys(a for a in (tree.essglobal(c) for c in codes) if a))


def theme_tree() -> Tree:
    """The current catalogue's category tree (the default one outside a request)."""
    return BY_NAME["theme"].vocabulary.tree()
