"""The insights as charts and tables in one language: one ``Chart`` per picture, whose
rows are also its table and its CSV; the lists of unmet needs and partnerships; and a
cache per catalogue state (``catalogue.state_key``), so that a page shown again draws nothing again."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .. import kinds, vocab
from ..coldwork import SingleFlight
from ..csvsafe import write_csv
from ..translate import N_, gettext_in
from . import numbers
from .charts import Chart

CHARTS = ("countries", "country_map", "themes", "structures", "relations", "months", "resources")


def charts_of(found: numbers.Insights, lang: str, *, names: tuple[str, ...] = CHARTS) -> dict[str, Chart]:
    """The charts of ``found``, labelled in ``lang``."""
    t = lambda message, **params: gettext_in(lang, message, **params)  # noqa: E731
    organisations = t(N_("Organisations"))
    by_count = lambda counts: sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731
    countries = by_count(found.by_country)
    made = {
        "countries": lambda: Chart("countries", "bars", t(N_("Organisations by country")), (t(N_("Country")), organisations),
                                   tuple((vocab.country_name(c, lang), n) for c, n in countries)),
        "country_map": lambda: Chart("country_map", "choropleth", t(N_("Where the organisations are")),
                                     (t(N_("Country")), organisations),
                                     tuple((vocab.country_name(c, lang), n) for c, n in countries),
                                     keys=tuple(c for c, _ in countries)),
        "themes": lambda: Chart("themes", "bars", t(N_("Organisations by theme")), (t(N_("Theme")), organisations),
                                tuple((kinds.theme_label(c, lang), n) for c, n in by_count(found.by_theme))),
        "structures": lambda: Chart("structures", "bars", t(N_("Organisations by structure")),
                                    (t(N_("Organisational structure")), organisations),
                                    tuple((vocab.structures().label(c, lang), n)
                                          for c, n in by_count(found.by_structure))),
        "relations": lambda: Chart("relations", "bars", t(N_("Organisations by relation to the project")),
                                   (t(N_("Relation to the project")), organisations),
                                   tuple((vocab.relations().label(c, lang), n)
                                         for c, n in by_count(found.by_relation))),
        "months": lambda: Chart("months", "timeline", t(N_("Organisations added per month")), (t(N_("Month")), organisations),
                                tuple(found.by_month.items())),
        "resources": lambda: Chart(
            "resources", "paired", t(N_("Needs and offers")),
            (t(N_("Resource")), t(N_("Need it")), t(N_("Offer it")), t(N_("Needed, offered by nobody nearby"))),
            tuple((vocab.resources().label(r.code, lang), r.needed, r.offered, r.unmet)
                  for r in sorted(found.resources, key=lambda r: (-r.needed, r.code)) if r.needed or r.offered),
            note=distance_note(found.km, lang)),
        "members_map": lambda: Chart("members_map", "points", t(N_("Where they are")), (t(N_("Country")), organisations),
                                     tuple((vocab.country_name(c, lang), n) for c, n in countries),
                                     points=tuple(found.points)),
    }
    return {name: made[name]() for name in names}


def distance_note(km: float | None, lang: str) -> str:
    """What "nearby" means in these figures."""
    if km is None:
        return gettext_in(lang, "Nearby: anywhere in the selection.")
    return gettext_in(lang, "Nearby: within %(km)s km.", km=f"{km:g}")


def csv_of(chart: Chart) -> bytes:
    """The chart's table as formula-safe CSV (UTF-8 with a byte-order mark, for spreadsheets)."""
    out = io.StringIO()
    write_csv(out, list(chart.columns), chart.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def list_rows(found: numbers.Insights, lang: str) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """The unmet needs and the partnerships as (headings, rows), for their CSV."""
    t = lambda message: gettext_in(lang, message)  # noqa: E731
    label = lambda code: vocab.resources().label(code, lang)  # noqa: E731
    return {
        "unmet": ((t(N_("Organisation")), t(N_("Town or city")), t(N_("Country")), t(N_("Needs")), t(N_("Nearest offer (km)"))),
                  [(n.organisation["name"], n.organisation["city"], n.organisation["country"], label(n.resource),
                    "" if n.nearest_km is None else round(n.nearest_km)) for n in found.unmet]),
        "partnerships": ((t(N_("Needs it")), t(N_("Offers it")), t(N_("Resource")), t(N_("Distance (km)"))),
                         [(p.needs["name"], p.offers["name"], label(p.resource), p.km) for p in found.partnerships]),
    }


# Of the charts and lists, only these depend on the distance that means "nearby".
BY_DISTANCE = ("resources", "unmet", "partnerships")


class VersionCache:
    """Results keyed by the catalogue's state key (``catalogue.state_key``) and what was
    asked: a new state forgets the old ones; at most ``size`` are kept. Concurrent requests
    for the same key compute it once: the others wait for the first one's result."""

    def __init__(self, size: int = 256):
        self.size = size
        self.version: object = None
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.flight = SingleFlight()

    def get(self, version: object, key: tuple, make):
        found = self._kept(version, key)
        if found is not _MISSING:
            return found
        return self.flight.do((version, key), lambda: self._make(version, key, make))

    def _kept(self, version: object, key: tuple):
        with self.lock:
            if version != self.version:
                self.version, self.items = version, OrderedDict()
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return _MISSING

    def _make(self, version: object, key: tuple, make):
        found = self._kept(version, key)  # kept by a flight that ended just before this one began
        if found is not _MISSING:
            return found
        value = make()
        with self.lock:
            if version == self.version:
                self.items[key] = value
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
        return value


_MISSING = object()


@dataclass
class Kept:
    """Figures with the catalogue state they were computed at (its key; "" when the map's
    columns were older than it, so they must be computed again) and that state's time."""

    value: object
    state: str
    as_of: str


class Refreshed:
    """The latest figures per request key (at most ``size`` keys), whatever state they were
    computed at, and their recomputation in a thread after a change: a visitor is served the
    previous figures, with their date, rather than waiting for new ones. One thread per key
    at a time (requests meanwhile start none: debounced); each holds only its key."""

    def __init__(self, size: int = 128):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.running: dict[tuple, threading.Thread] = {}  # only keys being computed now

    def latest(self, key: tuple) -> Kept | None:
        with self.lock:
            kept = self.items.get(key)
            if kept is not None:
                self.items.move_to_end(key)
            return kept

    def keep(self, key: tuple, kept: Kept) -> None:
        with self.lock:
            self.items[key] = kept
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def refresh(self, key: tuple, work) -> None:
        """Run ``work()`` (which ``keep``s the new figures) in a thread, unless one runs for ``key``."""
        with self.lock:
            if key in self.running:
                return
            thread = self.running[key] = threading.Thread(target=self._run, args=(key, work), daemon=True,
                                                          name="mapapp-stats-refresh")
        thread.start()

    def _run(self, key: tuple, work) -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 # the previous figures stay; the next request tries again
            logging.getLogger(__name__).exception("figures of %s: computing them again failed", key[:1])
        finally:
            with self.lock:
                self.running.pop(key, None)

    def wait(self, timeout: float | None = None) -> None:
        """Until the computations running now ended (tests, the benchmark)."""
        with self.lock:
            threads = list(self.running.values())
        for thread in threads:
            thread.join(timeout)

