"""The geocoder chain: provided coordinates, cache, online services, offline postcodes and gazetteer.

``Chain.from_config`` builds the steps named by ``MAPAPP_GEOCODERS``; ``locate``
tries them in order and returns the first location, with notes saying what was
corrected or refused on the way. Online services go through geopy's own classes
with a rate limiter at each service's policy, timeouts and retries.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sqlite_utils

from .. import catalogue, geo, vocab
from ..text import fold
from ..translate import N_, Message
from . import gazetteer, postcodes, towns

ONLINE = ("ban", "nominatim", "photon")
STEPS = ("provided", "cache", *ONLINE, "postcode", "gazetteer")
DEFAULT_CHAIN = "provided,cache,postcode,gazetteer"
# How many of a file's placed rows are remembered to choose among namesakes.
CONTEXT_POINTS = 200
# Seconds between requests, per each service's usage policy.
MIN_DELAY = {"nominatim": 1.0, "photon": 0.5, "ban": 0.02}
FAILURES_BEFORE_GIVING_UP = 3


class GeocodeConfigError(ValueError):
    """The geocoder settings cannot be used."""


@dataclass(slots=True)  # no __dict__ each: an import makes one per row (issue 31)
class Address:
    """What is known of where an organisation is; ``lat``/``lon`` only when provided."""

    street: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    inside: bool = False  # already known to lie in ``country`` (checked in bulk)

    @classmethod
    def from_record(cls, record: dict, *, lat: float | None = None, lon: float | None = None) -> Address:
        """The address fields of an organisation record (missing ones empty)."""
        return cls(street=record.get("street") or "", postcode=record.get("postcode") or "",
                   city=record.get("city") or "", region=record.get("region") or "",
                   country=record.get("country") or None, lat=lat, lon=lon)

    def query(self) -> str:
        """The one-line address sent to online services."""
        locality = " ".join(p for p in (self.postcode, self.city) if p)
        country = vocab.country_name(self.country) if self.country else ""
        return ", ".join(p for p in (self.street, locality, self.region, country) if p)

    def key(self) -> str:
        """The normalised query under which answers are cached."""
        return fold(self.query()) + (f" |{self.country}" if self.country else "")


@dataclass
class Location:
    """A point and how good it is."""

    lat: float
    lon: float
    precision: str
    source: str


@dataclass
class Outcome:
    """What the chain found, what it corrected and what it refused."""

    location: Location | None = None
    notes: list[str] = field(default_factory=list)
    country: str | None = None  # the country the point lies in, when the row gave none
    country_from: object = None  # what said so (a message), when not the point
    tried: list[str] = field(default_factory=list)
    split: dict = field(default_factory=dict)  # street/postcode/city read from a one-cell address


_SWAPPED = N_("latitude and longitude of %(what)s were swapped; corrected to %(lat)s, %(lon)s")


def check_point(address: Address, lat: float, lon: float, what: str) -> tuple[tuple[float, float] | None, list[str], str | None]:
    """Validate coordinates against range, (0, 0) and the stated country.

    Returns the point to use (swapped if that puts it in its country), notes, and
    the country the point lies in."""
    notes: list[str] = []
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            lat, lon = lon, lat
            notes.append(Message(_SWAPPED, what=what, lat=lat, lon=lon))
        else:
            return None, [Message(N_("%(what)s (%(lat)s, %(lon)s) are out of range; not used"),
                                  what=what, lat=lat, lon=lon)], None
    if abs(lat) < 1e-9 and abs(lon) < 1e-9:
        return None, [Message(N_("%(what)s are 0, 0 (a placeholder, in the sea off Africa); not used"),
                              what=what)], None
    country = address.country
    if address.inside and (lat, lon) == (address.lat, address.lon):
        return (lat, lon), notes, country
    if not country or not geo.has_outline(country):
        found = geo.country_at(lat, lon)
        if _city_says_swapped(address, lat, lon, found):
            notes.append(Message(N_("latitude and longitude of %(what)s were swapped (the point lay in %(where)s, "
                                    "far from %(city)s); corrected to %(lat)s, %(lon)s"),
                                 what=what, where=vocab.country_name(found) if found else Message(N_("the sea")),
                                 city=address.city, lat=lon, lon=lat))
            return (lon, lat), notes, geo.country_at(lon, lat)
        return (lat, lon), notes, found
    if geo.in_country(country, lat, lon):
        return (lat, lon), notes, country
    if -90 <= lon <= 90 and geo.in_country(country, lon, lat):
        notes.append(Message(_SWAPPED, what=what, lat=lon, lon=lat))
        return (lon, lat), notes, country
    found = geo.country_at(lat, lon)
    where = (Message(N_("in %(country)s (%(code)s)"), country=vocab.country_name(found), code=found) if found
             else Message(N_("outside any country (sea?)")))
    notes.append(Message(N_("%(what)s (%(lat)s, %(lon)s) lie %(where)s, not in %(country)s (%(code)s); not used"),
                         what=what, lat=lat, lon=lon, where=where, country=vocab.country_name(country),
                         code=country))
    return None, notes, None


# How far from its stated city a swapped point may lie for the swap to be believed.
CITY_RADIUS_KM = 50


def _city_says_swapped(address: Address, lat: float, lon: float, found: str | None) -> bool:
    """With no country to check against: does the stated city lie by the swapped point
    (and not by the point as given)?"""
    if not address.city or not -90 <= lon <= 90:
        return False
    here = gazetteer.lookup(address.city, found) if found else None
    if here and geo.distance_km((lat, lon), (here.place.lat, here.place.lon)) <= CITY_RADIUS_KM:
        return False
    other = geo.country_at(lon, lat)
    there = gazetteer.lookup(address.city, other) if other else None
    return bool(there and geo.distance_km((lon, lat), (there.place.lat, there.place.lon)) <= CITY_RADIUS_KM)


class Step:
    """One link of the chain."""

    name = "step"

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        raise NotImplementedError


class Provided(Step):
    """Coordinates given in the row, checked before they are trusted."""

    name = "provided"

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        if address.lat is None or address.lon is None:
            return None
        point, notes, country = check_point(address, address.lat, address.lon, Message(N_("the coordinates")))
        outcome.notes.extend(notes)
        if point is None:
            return None
        if not address.country and country:
            outcome.country = country
        if not address.country and not country:
            outcome.notes.append(Message(N_("the coordinates (%(lat)s, %(lon)s) lie in no country "
                                            "(at sea?): check them"), lat=point[0], lon=point[1]))
        return Location(point[0], point[1], "provided", "provided")


class Cache(Step):
    """Answers already given by the configured online services."""

    name = "cache"

    def __init__(self, db: sqlite_utils.Database, providers: list[str] = ONLINE, *, filling: bool = False):
        self.db, self.providers = db, list(providers)
        # An empty cache that no online step of this chain fills needs no lookups.
        self.active = filling or catalogue.has_cached_geocodes(db)

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        if not self.active or not (address.city or address.street or address.postcode):
            return None
        hit = catalogue.best_cached_geocode(self.db, address.key(), self.providers)
        if hit is None:
            return None
        lat, lon, precision, provider = hit
        return Location(lat, lon, precision, f"cache:{provider}")


class Postcode(Step):
    """Offline postcodes (data/geo/postcodes/): a row with only a postcode is placed at
    it; with a town too, the town's namesake nearest the postcode is chosen, and a town
    far from its postcode is said."""

    name = "postcode"

    def __init__(self, chain: Chain | None = None):
        self.chain = chain

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        if not address.postcode or not address.country:
            return None
        hit = postcodes.lookup(address.postcode, address.country)
        if hit is None or hit.lat is None:
            return None
        here = (hit.lat, hit.lon)
        crown = postcodes.crown_dependency(address.postcode, address.country)
        if crown:  # St Helier, Jersey: not the St Helier in Sutton, 280 km away
            address = replace(address, country=crown, region="")
        tolerance = towns.AREA_KM if hit.level == "area" else towns.AGREE_KM
        town = towns.resolve(address, reference=here) if (address.city or address.street) else None
        if town is not None:
            off = geo.distance_km((town.lat, town.lon), here)
            if off <= tolerance:
                outcome.notes.extend(town.notes)
                if hit.level != "area":
                    return Location(hit.lat, hit.lon, "postcode", "postcode")
                return Location(town.lat, town.lon, "locality", "postcode+gazetteer")
            region = towns.region_point(address.region, address.country)
            agrees = region and geo.distance_km((town.lat, town.lon), region) <= towns.AGREE_KM
            outcome.notes.append(Message(
                N_("town '%(city)s' lies %(km)s km from postcode %(postcode)s (%(place)s); placed at the town, "
                   "which agrees with the region: check the address") if agrees else
                N_("town '%(city)s' lies %(km)s km from postcode %(postcode)s (%(place)s); placed at the "
                   "postcode: check the address"), city=address.city or town.name,
                km=round(off), postcode=address.postcode, place=hit.place))
            if agrees:
                return Location(town.lat, town.lon, "locality", "gazetteer")
        if hit.level == "area":
            outcome.notes.append(Message(
                N_("placed at the centre of postcode area %(area)s (%(place)s), the finest free data for "
                   "%(country)s: give the town for a closer point"),
                area=hit.code, place=hit.place, country=address.country))
        elif hit.level == "district" and address.country in ("GB", "JE", "GG", "IM"):
            outcome.notes.append(Message(N_("placed at postcode district %(district)s (%(place)s)"),
                                         district=hit.code, place=hit.place))
        return Location(hit.lat, hit.lon, "postcode", "postcode")


class Gazetteer(Step):
    """The offline GeoNames gazetteer: town (and country) to the place's centre, the
    namesake chosen by the row's region, else by the file's other rows."""

    name = "gazetteer"

    def __init__(self, chain: Chain | None = None):
        self.chain = chain

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        if not (address.city or address.street) or not address.country:
            return None
        town = towns.resolve(address, context=self.chain.context if self.chain else None)
        if town is None:
            return None
        outcome.notes.extend(town.notes)
        return Location(town.lat, town.lon, "region" if town.kind == "region" else "locality", "gazetteer")


def _nominatim_precision(raw: dict) -> str:
    kind = raw.get("addresstype") or raw.get("type") or ""
    if kind in ("house", "building", "house_number") or raw.get("class") == "building":
        return "address"
    if kind in ("road", "street", "pedestrian", "residential"):
        return "street"
    if kind == "postcode":
        return "postcode"
    if kind in ("state", "region", "province", "county"):
        return "region"
    if kind == "country":
        return "country"
    return "locality"


def _photon_precision(raw: dict) -> str:
    props = raw.get("properties", {})
    kind = props.get("type", "")
    if props.get("housenumber") or kind == "house":
        return "address"
    return {"street": "street", "city": "locality", "district": "locality", "locality": "locality",
            "county": "region", "state": "region", "country": "country"}.get(kind, "locality")


def _ban_precision(raw: dict) -> str:
    kind = raw.get("properties", {}).get("type", "")
    return {"housenumber": "address", "street": "street", "locality": "street",
            "municipality": "locality"}.get(kind, "locality")


class Online(Step):
    """An online geocoder through geopy's own class, rate-limited and cached."""

    def __init__(self, name: str, db: sqlite_utils.Database | None, config: dict):
        from geopy.extra.rate_limiter import RateLimiter
        from geopy.geocoders import BANFrance, Nominatim, Photon

        self.name, self.db = name, db
        options = {"user_agent": config["user_agent"], "timeout": config["timeout"]}
        url = config.get("urls", {}).get(name)
        if url:
            scheme, _, domain = url.partition("://")
            options.update(scheme=scheme, domain=domain.rstrip("/"))
        classes = {"nominatim": Nominatim, "photon": Photon, "ban": BANFrance}
        self.service = classes[name](**options)
        self.precision = {"nominatim": _nominatim_precision, "photon": _photon_precision,
                          "ban": _ban_precision}[name]
        self.failures = 0
        delay = config["min_delay"].get(name, MIN_DELAY[name])
        self.geocode = RateLimiter(self.service.geocode, min_delay_seconds=delay,
                                   max_retries=config["retries"],
                                   error_wait_seconds=max(config["error_wait"], delay),
                                   swallow_exceptions=False)

    def _ask(self, address: Address):
        query = address.query()
        if self.name == "nominatim":
            kwargs = {"addressdetails": False}
            if address.country:
                kwargs["country_codes"] = address.country.lower()
            return self.geocode(query, **kwargs)
        return self.geocode(query)

    def locate(self, address: Address, outcome: Outcome) -> Location | None:
        from geopy.exc import GeopyError

        if self.name == "ban" and address.country != "FR":
            return None  # the Base Adresse Nationale covers France only
        if not (address.city or address.postcode):
            return None
        key = address.key()
        if self.db is not None:
            cached = catalogue.cached_geocode(self.db, self.name, key)
            if cached is not None:
                lat, lon, precision = cached
                return Location(lat, lon, precision, self.name) if lat is not None else None
        if self.failures >= FAILURES_BEFORE_GIVING_UP:
            return None
        try:
            result = self._ask(address)
        except GeopyError as e:
            self.failures += 1
            note = f"{self.name}: {_explain(e)}; tried the next geocoder"
            if self.failures == FAILURES_BEFORE_GIVING_UP:
                note += f"; {self.name} is skipped for the rest of this run after {self.failures} failures"
            outcome.notes.append(note)
            return None
        self.failures = 0
        location = None
        if result is not None:
            point, notes, _country = check_point(address, result.latitude, result.longitude,
                                                 Message(N_("%(geocoder)s's answer"), geocoder=self.name))
            if point is not None:
                location = Location(point[0], point[1], self.precision(result.raw), self.name)
            else:
                outcome.notes.extend(notes)
        if self.db is not None:
            catalogue.store_geocode(self.db, self.name, key, location and location.lat,
                                    location and location.lon, location and location.precision)
        return location


def _explain(error: Exception) -> str:
    from geopy import exc

    if isinstance(error, (exc.GeocoderTimedOut, exc.GeocoderUnavailable)):
        return "did not answer in time or could not be reached"
    if isinstance(error, exc.GeocoderRateLimited):
        return "refused: too many requests (rate limited)"
    if isinstance(error, (exc.GeocoderAuthenticationFailure, exc.GeocoderInsufficientPrivileges)):
        return "refused the request (check the URL and user agent settings)"
    return f"answered with an error ({str(error)[:120]})"


class _RecentPoints:
    """The last CONTEXT_POINTS points placed, their latitudes and longitudes also kept sorted:
    their median is read, not sorted for at each row with namesakes (issue 31: that was a
    quarter of locating a workbook's rows by their towns)."""

    def __init__(self):
        self.points: deque[tuple[float, float]] = deque()
        self.lats: list[float] = []
        self.lons: list[float] = []

    def add(self, lat: float, lon: float) -> None:
        if len(self.points) == CONTEXT_POINTS:
            old_lat, old_lon = self.points.popleft()
            del self.lats[bisect_left(self.lats, old_lat)]
            del self.lons[bisect_left(self.lons, old_lon)]
        self.points.append((lat, lon))
        insort(self.lats, lat)
        insort(self.lons, lon)

    def median(self) -> tuple[float, float] | None:
        """The median latitude and longitude (the upper of two middle ones), once there are three."""
        if len(self.points) < 3:
            return None
        middle = len(self.points) // 2
        return self.lats[middle], self.lons[middle]


class Chain:
    """Steps tried in order; the first location wins."""

    def __init__(self, steps: list[Step]):
        self.steps = steps
        self.placed = _RecentPoints()  # this run's points, to choose among namesakes
        self.inferred: dict[str, int] = {}  # countries inferred for this run's rows, and how often
        for step in steps:
            if isinstance(step, (Postcode, Gazetteer)):
                step.chain = self

    def _complete(self, address: Address, outcome: Outcome, *, infer_country: bool = True) -> Address:
        """The address with what the row implies: a one-cell address split, and the country
        its postcode, its town or the file's other rows leave no doubt about (said in ``outcome``)."""
        if address.street and not address.city and not address.postcode:
            split = towns.split_address(address.street, address.country)
            if split:
                outcome.split = split
                address = replace(address, **split)
        if address.country or address.lat is not None or not infer_country:
            return address
        among = towns.postcode_countries()
        country, why = None, None
        if address.postcode:
            country = towns.country_of_postcode(address.postcode, among)
            why = Message(N_("its postcode has only that country's form"))
        if not country and address.city:
            country = towns.country_of_town(address.city, among)
            why = Message(N_("only that country has a place of that name"))
        if country:
            self.inferred[country] = self.inferred.get(country, 0) + 1
        elif self.inferred and (address.city or address.postcode or address.street):
            country, seen = max(self.inferred.items(), key=lambda kv: kv[1])
            if seen < 3 or seen < 2 / 3 * sum(self.inferred.values()):
                return address
            why = Message(N_("the file's other rows are there"))
        if not country:
            return address
        outcome.country, outcome.country_from = country, why
        return replace(address, country=country)

    def context(self) -> tuple[float, float] | None:
        """The median of the points placed so far in this run (a file's rows lie together)."""
        return self.placed.median()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def offline_spec(self) -> str | None:
        """The spec of this chain for a process without the catalogue (an import's reading
        process) when each of its steps reads only files: the given point, postcodes, the
        gazetteer, or a cache with nothing in it (``from_config`` without a catalogue leaves
        it out). None when a step needs the catalogue or the network."""
        for step in self.steps:
            if type(step) not in (Provided, Postcode, Gazetteer) and not (type(step) is Cache and not step.active):
                return None
        return ",".join(self.names)

    def locate_row(self, address: Address, *, geocode: bool, infer_country: bool) -> Outcome:
        """``locate`` as an import asks it for one row: with ``geocode`` false, only the
        row's own point is tried."""
        skip = None if geocode else _skip_unless_provided
        return self.locate(address, skip=skip, infer_country=infer_country)

    @classmethod
    def from_config(cls, spec: str, db: sqlite_utils.Database | None, *, user_agent: str,
                    timeout: float = 10.0, urls: dict[str, str] | None = None,
                    min_delay: dict[str, float] | None = None, retries: int = 2,
                    error_wait: float = 2.0) -> Chain:
        """Build the chain from a spec such as ``provided,cache,ban,nominatim,gazetteer``."""
        names = [n.strip().lower() for n in spec.split(",") if n.strip()]
        unknown = [n for n in names if n not in STEPS]
        if unknown or not names:
            raise GeocodeConfigError(
                f"MAPAPP_GEOCODERS: unknown geocoder {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(STEPS)} (default {DEFAULT_CHAIN})")
        online = [n for n in names if n in ONLINE]
        if online and (not user_agent or "mapapp" == user_agent.strip()):
            raise GeocodeConfigError(
                "online geocoders need MAPAPP_GEOCODER_USER_AGENT set to a name and contact "
                "(for example 'mapapp of MyNetwork, admin@example.org'), as their policies require")
        config = {"user_agent": user_agent, "timeout": timeout, "urls": urls or {},
                  "min_delay": min_delay or {}, "retries": retries, "error_wait": error_wait}
        steps: list[Step] = []
        for name in names:
            if name == "provided":
                steps.append(Provided())
            elif name == "cache":
                if db is not None:
                    steps.append(Cache(db, filling=bool(online)))
            elif name == "gazetteer":
                steps.append(Gazetteer())
            elif name == "postcode":
                steps.append(Postcode())
            else:
                steps.append(Online(name, db, config))
        return cls(steps)

    def locate(self, address: Address, *, skip: Callable[[Step], bool] | None = None,
               infer_country: bool = True) -> Outcome:
        """Try every step in order; the first location wins. With ``infer_country``, a row
        without a country gets the one its postcode, town or file leave no doubt about."""
        outcome = Outcome()
        address = self._complete(address, outcome, infer_country=infer_country)
        for step in self.steps:
            if skip and skip(step):
                continue
            outcome.tried.append(step.name)
            location = step.locate(address, outcome)
            if location is not None:
                outcome.location = location
                if location.precision != "region":
                    self.placed.add(location.lat, location.lon)
                break
        if outcome.country and outcome.country_from is None:  # where the coordinates lie
            self.inferred[outcome.country] = self.inferred.get(outcome.country, 0) + 1
        return outcome


def _skip_unless_provided(step: Step) -> bool:
    return step.name != "provided"


def online_steps(spec: str) -> list[str]:
    """The online services a ``MAPAPP_GEOCODERS`` spec names, in order."""
    return [n.strip().lower() for n in spec.split(",") if n.strip().lower() in ONLINE]


def chain_from_settings(settings: dict, db: sqlite_utils.Database | None, *,
                        offline_only: bool = False) -> Chain:
    """The chain described by the app's ``GEOCODERS`` and related settings; with
    ``offline_only``, without its online services (the cache of their answers stays)."""
    spec = settings["GEOCODERS"]
    if offline_only:
        spec = ",".join(n for n in spec.split(",") if n.strip().lower() not in online_steps(spec)) or "provided"
    return Chain.from_config(
        spec, db,
        user_agent=settings.get("GEOCODER_USER_AGENT", ""),
        timeout=float(settings.get("GEOCODER_TIMEOUT", 10)),
        urls={"nominatim": settings.get("NOMINATIM_URL"), "photon": settings.get("PHOTON_URL"),
              "ban": settings.get("BAN_URL")},
    )


def relocate(db: sqlite_utils.Database, chain: Chain, *, pending_only: bool) -> dict:
    """Run the chain again on stored organisations (never on manually placed ones).

    An organisation keeps its point when the chain finds nothing. Each location
    is written in its own transaction, so an interrupted run keeps what it did.
    """
    counts = {"located": 0, "moved": 0, "unchanged": 0, "not_located": 0, "notes": []}
    for org in catalogue.organisations_to_locate(db, pending_only=pending_only):
        outcome = chain.locate(Address.from_record(org))
        counts["notes"].extend(f"{org['slug']}: {n}" for n in outcome.notes)
        loc = outcome.location
        if loc is None:
            counts["not_located" if org["lat"] is None else "unchanged"] += 1
            continue
        if (org["lat"], org["lon"]) == (loc.lat, loc.lon) and org["geo_precision"] == loc.precision:
            counts["unchanged"] += 1
            continue
        with db.atomic():
            catalogue.set_location(db, org["id"], loc.lat, loc.lon, loc.precision, loc.source)
        counts["located" if org["lat"] is None else "moved"] += 1
    return counts
