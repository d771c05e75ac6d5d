"""The offline gazetteer: GeoNames places of Europe and Cyprus, found by name.

Built by ``scripts/build_gazetteer.py`` into ``data/geo/places/<country>.tsv.gz``. Names
match in any of their spellings (Bruxelles, Brussel, Brussels), ignoring case
and accents; homonyms in one country go to the most populous place, and the
answer says so.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from ..config import DATA_DIR
from ..text import fold

PLACES_DIR = DATA_DIR / "geo" / "places"


@dataclass(frozen=True)
class Place:
    """One populated place."""

    name: str
    country: str
    lat: float
    lon: float
    population: int
    admin1: str = ""


@dataclass(frozen=True)
class Match:
    """The place a name was resolved to, and how many others share the name."""

    place: Place
    others: int
    rival: Place | None = None  # a homonym big enough that the choice may be wrong


@cache
def _places(country: str) -> list[list[str]]:
    path = PLACES_DIR / f"{country}.tsv.gz"
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        next(reader)
        return list(reader)


def countries() -> set[str]:
    """Countries the gazetteer covers."""
    return {p.name.split(".")[0] for p in PLACES_DIR.glob("*.tsv.gz")}


@cache
def _index(country: str) -> dict[str, list[Place]]:
    index: dict[str, list[Place]] = {}
    for _id, name, admin1, lat, lon, population, aliases in _places(country):
        place = Place(name, country, float(lat), float(lon), int(population or 0), admin1)
        keys = {fold(name)} | {fold(a) for a in aliases.split("|") if a}
        for key in keys:
            if key:
                index.setdefault(key, []).append(place)
    for places in index.values():
        places.sort(key=lambda p: -p.population)
    return index


def _variants(city: str) -> list[str]:
    """Ways people write a place: "Lyon 3e", "LYON CEDEX 07", "St-Étienne", "Nicosia (Lefkosia)"."""
    text = fold(city)
    variants = [text]
    no_brackets = fold(re.sub(r"\(.*?\)", " ", city))
    variants.append(no_brackets)
    for part in re.split(r"[/(),]", city):
        variants.append(fold(part))
    stripped = re.sub(r"\d+(e|er|eme|ème)?\b|\b(cedex|arrondissement|arr)\b", " ", no_brackets)
    # Arrondissements in Roman numerals: "Paris XVIIIème", "Lyon IIIe".
    stripped = re.sub(r"\b[ivxl]+(e|er|eme)\b", " ", stripped)
    variants.append(" ".join(stripped.split()))
    saint = re.sub(r"^(st|s)\b", "saint", text)
    variants.append(re.sub(r"^ste\b", "sainte", saint))
    return [v for v in dict.fromkeys(variants) if v]


@lru_cache(maxsize=65536)
def lookup(city: str, country: str) -> Match | None:
    """The place called ``city`` in ``country`` (the most populous of homonyms)."""
    if not city or not country:
        return None
    index = _index(country)
    for variant in _variants(city):
        places = index.get(variant)
        if places:
            unique = list(dict.fromkeys(places))
            rival = unique[1] if len(unique) > 1 and unique[1].population * 5 >= unique[0].population else None
            return Match(unique[0], len(unique) - 1, rival)
    return None


def search(text: str, country: str, limit: int = 8) -> list[Place]:
    """Every place called ``text`` in ``country`` (the pin editor's place search), the most
    populous first."""
    if not text or not country:
        return []
    index = _index(country)
    found: list[Place] = []
    for variant in _variants(text):
        found += index.get(variant, [])
    return sorted(dict.fromkeys(found), key=lambda p: -p.population)[:limit]


@lru_cache(maxsize=65536)
def candidates(city: str, country: str) -> tuple[Place, ...]:
    """Every place called ``city`` in ``country``, the most populous first. Kept per name, as
    ``lookup``: a file names the same towns row after row (both processes of an import ask
    for each row's town; its variants took 10 µs a row)."""
    if not city or not country:
        return ()
    index = _index(country)
    for variant in _variants(city):
        places = index.get(variant)
        if places:
            return tuple(dict.fromkeys(places))
    return ()


@dataclass(frozen=True)
class Area:
    """A district, island or region people write where a town is expected, and its centre."""

    name: str
    country: str
    kind: str
    lat: float
    lon: float


@cache
def _areas() -> dict[tuple[str, str], Area]:
    areas = {}
    with (DATA_DIR / "geo" / "areas.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["city"]:
                match = lookup(row["city"], row["country"])
                if match is None:
                    continue
                lat, lon = match.place.lat, match.place.lon
            else:
                lat, lon = float(row["lat"]), float(row["lon"])
            areas[(fold(row["name"]), row["country"])] = Area(row["name"], row["country"], row["kind"], lat, lon)
    return areas


def area(name: str, country: str) -> Area | None:
    """The district, island or region called ``name`` in ``country`` (data/geo/areas.csv)."""
    if not name or not country:
        return None
    return _areas().get((fold(name), country))


@cache
def _by_length(country: str) -> dict[int, list[str]]:
    keys: dict[int, list[str]] = {}
    for key in _index(country):
        keys.setdefault(len(key), []).append(key)
    return keys


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter changed, added or removed."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]


@lru_cache(maxsize=8192)
def near_miss(city: str, country: str) -> Place | None:
    """The largest place of ``country`` whose name is one edit away from ``city`` (a typo:
    "Strabourg"), for names of five letters or more."""
    text = fold(city)
    if len(text) < 5 or not country:
        return None
    by_length = _by_length(country)
    index = _index(country)
    found = [index[key][0] for n in (len(text) - 1, len(text), len(text) + 1)
             for key in by_length.get(n, ()) if key[0] == text[0] and _one_edit(text, key)]
    return max(found, key=lambda p: p.population) if found else None
