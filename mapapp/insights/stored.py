"""The figures of /stats kept as files, one per selection, that every web worker reads: the
job worker counts them again once after a burst of changes (``jobs.queue``: the "stats" task)
and writes them here; a web worker serves them with their date rather than counting a
million organisations itself (three workers used to count three times, each in its thread).

A file is ``<CACHE_DIR>/stats/<hash of the selection>.json``: the catalogue state the figures
were counted at (its key, "" when the map's columns were older), that state's time, and the
figures. It is written under another name and renamed into place, so a reader never sees half
of one. Nothing in it is trusted as markup: the page escapes it like any stored field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

from .numbers import Insights, Need, Partnership, ResourceBalance


@dataclasses.dataclass(frozen=True)
class Selection:
    """What the figures are of: the catalogue lineage, the filters (as query arguments), the
    distance that means "nearby" and the statuses counted."""

    lineage: str
    args: tuple[tuple[str, str], ...]
    km: int
    statuses: tuple[str, ...]

    @property
    def name(self) -> str:
        text = json.dumps([self.lineage, list(self.args), self.km, list(self.statuses)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + ".json"


@dataclasses.dataclass(frozen=True)
class Stored:
    """Figures, the state key they were counted at and that state's time."""

    value: Insights
    state: str
    as_of: str


def folder(cache_dir: str | Path) -> Path:
    return Path(cache_dir) / "stats"


def read(directory: Path, selection: Selection) -> Stored | None:
    """The figures kept for ``selection``, or None (never counted, or unreadable)."""
    try:
        raw = json.loads((directory / selection.name).read_text(encoding="utf-8"))
        return Stored(_insights(raw["value"]), raw["state"], raw["as_of"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(directory: Path, selection: Selection, stored: Stored) -> None:
    """Keep ``stored`` for ``selection`` (atomically: written aside, then renamed)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"state": stored.state, "as_of": stored.as_of, "value": dataclasses.asdict(stored.value)},
                      ensure_ascii=False)
    handle, work = tempfile.mkstemp(prefix=".stats-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(work, directory / selection.name)
    except BaseException:
        Path(work).unlink(missing_ok=True)
        raise


def _insights(raw: dict) -> Insights:
    return Insights(
        total=raw["total"], km=raw["km"], by_country=raw["by_country"], by_theme=raw["by_theme"],
        by_structure=raw["by_structure"], by_relation=raw["by_relation"], by_month=raw["by_month"],
        resources=[ResourceBalance(**r) for r in raw["resources"]],
        unmet=[Need(**n) for n in raw["unmet"]], unmet_count=raw["unmet_count"],
        partnerships=[Partnership(**p) for p in raw["partnerships"]], partnership_count=raw["partnership_count"],
        points=[tuple(p) for p in raw["points"]])


def recount(db, directory: Path, selection: Selection, columns_of) -> Stored | None:
    """Count ``selection``'s figures at the catalogue's state now and keep them (the job
    worker's work); ``columns_of(db)``: the map's columns. None when the catalogue is another
    one now, or the figures kept are already of this state (a count asked twice)."""
    from .. import catalogue
    from ..filters import Filters
    from .numbers import compute

    state = catalogue.state(db)
    if state.lineage != selection.lineage:
        return None
    kept = read(directory, selection)
    if kept is not None and kept.state == state.key:
        return None
    columns = columns_of(db)
    value = compute(db, Filters.from_args(dict(selection.args)), km=selection.km, statuses=selection.statuses,
                    columns=columns)
    fresh = "draft" in selection.statuses or columns.version == state.version
    counted = Stored(value, state.key if fresh else "", state.changed_at)
    write(directory, selection, counted)
    return counted
