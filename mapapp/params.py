"""Whole-number request parameters (pages, limits, ids, sizes), read one way everywhere."""

from __future__ import annotations

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
