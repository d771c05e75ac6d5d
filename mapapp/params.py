"""Whole-number and timestamp request parameters (pages, limits, ids, sizes, "since"), read
one way everywhere."""

from __future__ import annotations

from datetime import datetime, timezone

from .errors import BadRequest
from .translate import N_, Message

# SQLite's integers are signed 64-bit: an id or an offset beyond this cannot exist.
MAX_ID = 2**63 - 1


def whole_number(raw: object, name: str, *, default: int | None = None, low: int = 0,
                 high: int = MAX_ID, unit: str = "") -> int:
    """``raw`` as an int between ``low`` and ``high``; ``default`` when it is missing or
    empty. A ``BadRequest`` naming ``name`` says what to write instead."""
    if raw is None or str(raw).strip() == "":
        if default is None:
            raise BadRequest(Message(N_("%(name)s: required, a whole number from %(low)s to %(high)s"), name=name,
                                     low=low, high=high), parameter=name)
        return default
    text = str(raw).strip()
    if len(text) > 20 or not text.lstrip("-").isdigit():
        raise BadRequest(Message(N_("%(name)s: '%(text)s' is not a whole number"), name=name, text=text[:40]),
                         parameter=name)
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(Message(N_("%(name)s: must be between %(low)s and %(high)s, got %(text)s"), name=name,
                                 low=low, high=high, text=text), parameter=name)
    return value


def ids(values: list[str], name: str = "id") -> list[int]:
    """A list of catalogue ids from a form."""
    return [whole_number(v, name, low=1) for v in values]


def timestamp(raw: object, name: str) -> str:
    """An ISO 8601 date or time (``2026-12-01``, ``2026-12-01T08:00:00Z``, with an offset) as
    the catalogue stores times (UTC, ``2026-12-01T08:00:00+00:00``)."""
    text = str(raw or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in text else text)
    except ValueError:
        raise BadRequest(Message(N_("%(name)s: '%(text)s' is not an ISO 8601 date or time (for example "
                                    "2026-12-01 or 2026-12-01T08:00:00Z)"), name=name, text=text[:40]),
                         parameter=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
