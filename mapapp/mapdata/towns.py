"""Finding the town a row means, with everything the row says.

The offline steps of the geocoder chain ask here: which of the places a town's name
may be (homonyms, districts, islands, arrondissements, a typo, the town written on
the street line or split across street and city) lies nearest to what the row
otherwise says (its postcode, its region, the file's other rows). Also: a
free-form address in one cell split into street, postcode and town, and the
country a row without one most likely means.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .. import geo
from ..config import DATA_DIR
from ..text import fold
from ..translate import N_, Message
from . import gazetteer, postcodes

# How far a town may lie from its postcode or region before the row disagrees with itself.
AGREE_KM = 50
# Great Britain's free data has postcode areas only; an area spans up to about this.
AREA_KM = 90
# How far from the middle of a file's other rows a namesake may lie to be taken for theirs.
CONTEXT_KM = 100

# Regions written as a nation or a country part, matched against the gazetteer's (GeoNames')
# admin1 codes: Great Britain's nations, France's and Italy's regions.
NATIONS = {country: {fold(name): code for name, code in names.items()} for country, names in {
    "GB": {"England": "ENG", "Scotland": "SCT", "Wales": "WLS", "Cymru": "WLS", "Northern Ireland": "NIR"},
    "FR": {"Île-de-France": "11", "Auvergne-Rhône-Alpes": "84", "Provence-Alpes-Côte d'Azur": "93",
           "Occitanie": "76", "Nouvelle-Aquitaine": "75", "Hauts-de-France": "32", "Grand Est": "44",
           "Bretagne": "53", "Normandie": "28", "Pays de la Loire": "52", "Centre-Val de Loire": "24",
           "Bourgogne-Franche-Comté": "27", "Corse": "94"},
    "IT": {"Abruzzo": "01", "Basilicata": "02", "Calabria": "03", "Campania": "04", "Emilia-Romagna": "05",
           "Friuli-Venezia Giulia": "06", "Lazio": "07", "Liguria": "08", "Lombardia": "09", "Marche": "10",
           "Molise": "11", "Piemonte": "12", "Puglia": "13", "Sardegna": "14", "Sicilia": "15", "Toscana": "16",
           "Trentino-Alto Adige": "17", "Umbria": "18", "Valle d'Aosta": "19", "Veneto": "20"},
}.items()}


@dataclass
class Town:
    """A town found for a row: its point, its name, and what was guessed to find it."""

    lat: float
    lon: float
    name: str
    kind: str = "locality"  # locality, district, island, region
    notes: list = field(default_factory=list)


def region_point(region: str, country: str) -> tuple[float, float] | None:
    """The centre of a county, island or region named in a row, or of a town named there
    ("Edinburgh, City of")."""
    if not region or not country:
        return None
    for part in [region, *re.split(r"[,/(]", region)]:
        area = gazetteer.area(part.strip(), country)
        if area:
            return area.lat, area.lon
    match = gazetteer.lookup(region, country)
    return (match.place.lat, match.place.lon) if match else None


def _admin1(region: str, country: str) -> str | None:
    return NATIONS.get(country, {}).get(fold(region))


def _names(address) -> Iterator[tuple[str, bool]]:
    """Where the town may be written, in order, with whether the guess needs saying: the
    street lines are read only when the town is not found under its own name."""
    city, street = address.city.strip(), address.street.strip()
    if city:
        yield city, False
    if street:
        lines = [p.strip() for p in _LINE_BREAKS.split(street) if p.strip()]
        if city and lines:
            yield f"{lines[-1]} {city}", False  # "Kirkby" + "Stephen"
        for line in reversed(lines[1:] if len(lines) > 1 else lines):
            if not line[:1].isdecimal():  # as r"^\d" (decimal digits)
                yield line, True
            after = _AFTER_STREET.search(line)  # "79 Caroline Street Birmingham"
            if after:
                yield after.group(1), True


_LINE_BREAKS = re.compile(r"[\n,]|<br\s*/?>", re.I)
_AFTER_STREET = re.compile(
    r"\b(?:street|st|road|rd|lane|avenue|ave|way|drive|close|place|square|terrace|crescent|row|gardens|"
    r"rue|boulevard|bd|via|viale|piazza|strasse|straße|str|weg|platz|ulica|ul|calle|rua)\.?\s+(\D+)$", re.I)


# A place named on the street lines this near the town is the village of a post town.
VILLAGE_KM = 25


def _village(address, town) -> Town | None:
    """A village or suburb named on the street lines near ``town`` (British addresses give
    the post town as their town: "Home Farm, Litton" in Buxton)."""
    if not address.street or not address.city:
        return None
    lines = [p.strip() for p in re.split(r"[\n,]|<br\s*/?>", address.street, flags=re.I) if p.strip()]
    for line in reversed(lines):
        if re.match(r"^\d", line) or fold(line) == fold(address.city):
            continue
        places = gazetteer.candidates(line, address.country)
        if places:
            place = _nearest(places, (town.lat, town.lon))
            if geo.distance_km((place.lat, place.lon), (town.lat, town.lon)) <= VILLAGE_KM:
                return Town(place.lat, place.lon, place.name)
    return None


def _nearest(places: list, reference: tuple[float, float]):
    return min(places, key=lambda p: geo.distance_km((p.lat, p.lon), reference))


def resolve(address, *, reference: tuple[float, float] | None = None,
            context: Callable[[], tuple[float, float] | None] | None = None) -> Town | None:
    """The town ``address`` names in its country: among namesakes, the one that lies nearest
    ``reference`` (the postcode's or region's point), else nearest the point ``context()``
    gives (the file's other rows; asked only when there are namesakes: working it out for
    every row was a tenth of a large import's locating) when the choice is close, else the
    most populous."""
    country = address.country
    if not country:
        return None
    nation = _admin1(address.region, country)
    region = None if nation else region_point(address.region, country)
    aim = reference or region
    for name, from_street in _names(address):
        places = gazetteer.candidates(name, country)
        if nation:
            places = [p for p in places if p.admin1 == nation] or places
        if places:
            place = places[0]
            if aim:
                place = _nearest(places, aim)
            elif len(places) > 1 and (here := context() if context else None):
                near_file = _nearest(places, here)
                if near_file is not place and geo.distance_km((near_file.lat, near_file.lon), here) <= CONTEXT_KM:
                    place = near_file
            town = _village(address, place) or Town(place.lat, place.lon, place.name)
            if from_street and fold(name) != fold(address.city):
                town.notes.append(Message(N_("town '%(town)s' taken from the street lines"), town=name))
            rival = len(places) > 1 and places[1].population * 5 >= places[0].population
            if not aim and place is not places[0]:
                town.notes.append(Message(
                    N_("%(n)s places are called '%(city)s' in %(country)s; placed at the one nearest the file's "
                       "other rows, not the largest: check the point or give a region or postcode"),
                    n=len(places), city=name, country=country))
            elif not aim and rival and not nation:
                town.notes.append(Message(
                    N_("%(n)s places are called '%(city)s' in %(country)s; placed at the largest (%(people)s "
                       "inhabitants, the next has %(next)s): check the point or give a region or postcode"),
                    n=len(places), city=name, country=country, people=places[0].population,
                    next=places[1].population))
            if region and geo.distance_km((place.lat, place.lon), region) > AGREE_KM and not reference:
                town.notes.append(Message(
                    N_("'%(city)s' lies %(km)s km from the region '%(region)s' the row gives: check the address"),
                    city=name, km=round(geo.distance_km((place.lat, place.lon), region)), region=address.region))
            return town
        area = gazetteer.area(name, country)
        if area:
            return Town(area.lat, area.lon, area.name, area.kind)
    if address.city:
        place = gazetteer.near_miss(address.city, country)
        if place:
            return Town(place.lat, place.lon, place.name, notes=[Message(
                N_("town '%(city)s' not found; placed at %(town)s, the nearest spelling: check it"),
                city=address.city, town=place.name)])
    return None


# -- a free-form address in one cell -------------------------------------------------------


_GB_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b", re.I)


def split_address(text: str, country: str | None) -> dict[str, str]:
    """Street, postcode and town of an address written in one cell ("c/o Quay Farm,
    12 Mill Lane, Gateshead NE10 0AB"): the postcode by the country's pattern, the town
    as what stands by it in the last comma part, the rest as the street."""
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
    parts = [p.strip() for p in re.split(r"[\n,]", text) if p.strip()]
    if len(parts) < 2:
        return {}
    last = parts[-1]
    postcode, town = "", last
    if country in (None, "GB", "JE", "GG", "IM"):
        found = _GB_POSTCODE.search(last)
        if found:
            postcode = found.group(1).upper()
    if not postcode:
        found = re.search(r"\b(\d{2}-\d{3}|\d{4} ?[A-Z]{2}|\d{4,5})\b", last)
        if found:
            postcode = found.group(1)
    if postcode:
        town = " ".join(last.replace(postcode, " ").replace(postcode.lower(), " ").split())
        if not town and len(parts) > 2:
            town = parts.pop(-2)
    if not town or re.search(r"\d", town):
        return {}
    return {"street": ", ".join(parts[:-1]), "postcode": postcode, "city": town}


# -- the country a row means ------------------------------------------------------------------


@cache
def _postcode_patterns() -> dict[str, re.Pattern]:
    with (DATA_DIR / "geo" / "postcode-patterns.csv").open(encoding="utf-8", newline="") as f:
        return {row["country"]: re.compile(row["pattern"]) for row in csv.DictReader(f)}


@lru_cache(maxsize=4096)
def country_of_postcode(postcode: str, among: tuple[str, ...]) -> str | None:
    """The one country among ``among`` whose postcode pattern ``postcode`` matches (None if
    several or none do)."""
    text = postcode.strip().upper()
    patterns = _postcode_patterns()
    matching = [c for c in among if c in patterns and patterns[c].match(text)]
    if len(matching) > 1 and "GB" in matching:  # JE/GY/IM codes match Great Britain's pattern too
        matching = [c for c in matching if c != "GB"] if len(matching) == 2 else matching
    return matching[0] if len(matching) == 1 else None


@lru_cache(maxsize=4096)
def country_of_town(city: str, among: tuple[str, ...]) -> str | None:
    """The one country among ``among`` that has a place called ``city``."""
    found = [c for c in among if gazetteer.candidates(city, c) or gazetteer.area(city, c)]
    return found[0] if len(found) == 1 else None


def postcode_countries() -> tuple[str, ...]:
    """Countries whose postcodes can place a row."""
    return tuple(sorted(postcodes.countries()))
