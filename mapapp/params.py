"""Whole-number request parameters (pages, limits, ids, sizes), read one way everywhere."""

from __future__ import annotations

from .errors import BadRequest

# SQLite's integers are signed 64-bit: an id or an offset beyond this cannot exist.
MAX_ID = 2**63 - 1


def whole_number(raw: object, name: str, *, default: int | None = None, low: int = 0,
                 high: int = MAX_ID, unit: str = "") -> int:
    """``raw`` as an int between ``low`` and ``high``; ``default`` when it is missing or
    empty. A ``BadRequest`` naming ``name`` says what to write instead."""
    if raw is None or str(raw).strip() == "":
        if default is None:
            raise BadRequest(f"{name}: required, a whole number from {low} to {high}", parameter=name)
        return default
    text = str(raw).strip()
    if len(text) > 20 or not text.lstrip("-").isdigit():
        raise BadRequest(f"{name}: '{text[:40]}' is not a whole number{unit and ' of ' + unit}",
                         parameter=name)
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}{unit and ' ' + unit}, got {text}",
                         parameter=name)
    return value


def ids(values: list[str], name: str = "id") -> list[int]:
    """A list of catalogue ids from a form."""
    return [whole_number(v, name, low=1) for v in values]
