"""Offline postcodes: a postcode (and its country) to a place and a point.

Built by ``scripts/build_postcodes.py`` into ``data/geo/postcodes/<country>.tsv.gz``,
loaded the first time a country is asked for. A whole code is tried first, then its
first part (Portugal's four digits, British and Channel Islands outward codes, the
Netherlands' four digits; British sectors "OX2 6" and districts "OX2"), then Great
Britain's postcode area (its letters).
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import cache

from ..config import DATA_DIR

POSTCODES_DIR = DATA_DIR / "geo" / "postcodes"


_CROWN = {"JE": "JE", "GY": "GG", "IM": "IM"}


@dataclass(frozen=True)
class PostcodePlace:
    """Where a postcode is: its place's name, a point (None when unknown) and the level
    the table knew it at (``full``, ``sector``, ``district`` or ``area``)."""

    code: str
    place: str
    lat: float | None
    lon: float | None
    level: str


@cache
def _table(country: str) -> dict[str, PostcodePlace]:
    path = POSTCODES_DIR / f"{country}.tsv.gz"
    if not path.exists():
        return {}
    table = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        next(reader)
        for code, place, lat, lon, level in reader:
            table[code] = PostcodePlace(code, place, float(lat) if lat else None,
                                        float(lon) if lon else None, level)
    return table


def countries() -> set[str]:
    """Countries with postcode data."""
    return {p.name.split(".")[0] for p in POSTCODES_DIR.glob("*.tsv.gz")}


def _keys(postcode: str, country: str) -> list[str]:
    code = postcode.strip().upper()
    compact = re.sub(r"\s+", "", code)
    keys = [code, compact]
    if country in ("GB", "JE", "GG", "IM") and len(compact) > 4:
        outward = compact[:-3]
        keys += [f"{outward} {compact[-3]}", outward, re.match(r"[A-Z]*", outward).group()]
    elif country == "NL":
        keys.append(compact[:4])
    elif country == "PT":
        keys.append(compact[:4])
    elif country == "PL" and re.fullmatch(r"\d{5}", compact):
        keys.append(f"{compact[:2]}-{compact[2:]}")
    return [k for k in dict.fromkeys(keys) if k]


def crown_dependency(postcode: str, country: str | None) -> str | None:
    """JE, GG or IM for a Jersey, Guernsey or Isle of Man postcode written under Great
    Britain (their towns are looked up there, not among British namesakes); else None."""
    if country != "GB" or not postcode:
        return None
    return _CROWN.get(postcode.strip()[:2].upper())


def lookup(postcode: str, country: str | None) -> PostcodePlace | None:
    """The place of ``postcode`` in ``country``, at the finest level known (None if unknown)."""
    if not postcode or not country:
        return None
    if country == "GB":  # Channel Islands and Isle of Man codes written under Great Britain
        country = _CROWN.get(postcode.strip()[:2].upper(), country)
    table = _table(country)
    if not table:
        return None
    for key in _keys(postcode, country):
        hit = table.get(key)
        if hit is not None:
            return hit
    return None
