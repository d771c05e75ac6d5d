"""The geocoder chain, with geopy's real Nominatim, Photon and BAN classes talking to a
fake server on 127.0.0.1."""

import pytest
from fake_geocoder import FakeGeocoder

from mapapp import catalogue
from mapapp.mapdata import geocode
from mapapp.mapdata.geocode import Address, Chain

AGENT = "mapapp tests, tests@example.org"
PLACES = {
    "rue des tisserands": (45.77, 4.83, "house"),  # the BAN calls a house "housenumber" below
    "sleepstraat": (51.0601, 3.7262, "road"),
    "nowhere near": (48.85, 2.35, "city"),  # Paris: not in Belgium
}


def chain(db, spec, server, **kw):
    urls = {"nominatim": server.url, "photon": server.url, "ban": server.url}
    return Chain.from_config(spec, db, user_agent=AGENT, timeout=kw.pop("timeout", 1.0), urls=urls,
                             min_delay=kw.pop("min_delay", {"nominatim": 0.0, "photon": 0.0, "ban": 0.0}),
                             error_wait=0.05, **kw)


def test_nominatim_through_geopy_with_user_agent_and_country(db):
    with FakeGeocoder(PLACES) as server:
        outcome = chain(db, "nominatim", server).locate(
            Address(street="Sleepstraat 12", postcode="9000", city="Gent", country="BE"))
        assert outcome.location.precision == "street"
        assert (outcome.location.lat, outcome.location.lon) == (51.0601, 3.7262)
        _, path, query, headers = server.requests[0]
        assert path == "/search" and query["countrycodes"] == "be"
        assert headers["User-Agent"] == AGENT


def test_answers_are_cached_and_not_asked_again(db):
    address = Address(street="Sleepstraat 12", city="Gent", country="BE")
    with FakeGeocoder(PLACES) as server:
        assert chain(db, "nominatim", server).locate(address).location is not None
        assert len(server.requests) == 1
        second = chain(db, "provided,cache,nominatim", server).locate(address)
        assert second.location.source == "cache:nominatim"
        assert len(server.requests) == 1
        missing = Address(city="Atlantis", country="BE")
        chain(db, "nominatim", server).locate(missing)
        chain(db, "nominatim", server).locate(missing)  # "not found" is remembered too
        assert len(server.requests) == 2
    assert catalogue.cached_geocode(db, "nominatim", missing.key()) == (None, None, None)


def test_ban_is_asked_only_for_france(db):
    with FakeGeocoder(PLACES) as server:
        c = chain(db, "ban", server)
        assert c.locate(Address(street="Sleepstraat", city="Gent", country="BE")).location is None
        assert server.requests == []
        outcome = c.locate(Address(street="12 rue des Tisserands", postcode="69001", city="Lyon", country="FR"))
        assert (outcome.location.source, outcome.location.precision) == ("ban", "address")
        assert server.requests[0][1] == "/search" and "format" not in server.requests[0][2]


def test_photon(db):
    with FakeGeocoder(PLACES) as server:
        outcome = chain(db, "photon", server).locate(Address(street="Sleepstraat", city="Gent", country="BE"))
        assert outcome.location.source == "photon" and outcome.location.precision == "street"
        assert server.requests[0][1] == "/api"


def test_an_answer_in_the_wrong_country_is_refused(db):
    with FakeGeocoder(PLACES) as server:
        outcome = chain(db, "nominatim,gazetteer", server).locate(
            Address(street="nowhere near", city="Liège", country="BE"))
    assert outcome.location.source == "gazetteer"
    assert any("nominatim's answer" in n and "not in Belgium" in n for n in outcome.notes)


def test_rate_limited_429_is_retried(db):
    with FakeGeocoder(PLACES) as server:
        server.script = ["429"]
        outcome = chain(db, "nominatim", server).locate(Address(street="Sleepstraat", city="Gent", country="BE"))
        assert outcome.location is not None
        assert len(server.requests) == 2


def test_timeouts_fall_back_to_the_gazetteer_and_a_failing_service_is_given_up(db):
    with FakeGeocoder(PLACES) as server:
        server.script = ["slow"] * 3 + ["500"] * 9
        server.delay = 1.0
        c = chain(db, "nominatim,gazetteer", server, timeout=0.2, retries=0)
        first = c.locate(Address(city="Gent", country="BE"))
        assert first.location.source == "gazetteer"
        assert any("nominatim: did not answer in time" in n for n in first.notes)
        c.locate(Address(city="Brugge", country="BE"))
        third = c.locate(Address(city="Liège", country="BE"))
        assert any("skipped for the rest of this run" in n for n in third.notes)
        asked = len(server.requests)
        fourth = c.locate(Address(city="Namur", country="BE"))
        assert len(server.requests) == asked and fourth.location.source == "gazetteer"


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_nominatim_is_asked_at_most_once_a_second(db):
    with FakeGeocoder(PLACES) as server:
        c = chain(db, "nominatim", server, min_delay={})  # the service's own policy
        for city in ("Gent", "Brugge", "Antwerpen"):
            c.locate(Address(city=city, country="BE"))
        times = [t for t, *_ in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 3, times
    assert min(gaps) >= 0.9, gaps


def test_online_geocoders_need_a_user_agent(db):
    with pytest.raises(geocode.GeocodeConfigError, match="MAPAPP_GEOCODER_USER_AGENT"):
        Chain.from_config("provided,nominatim", db, user_agent="")
    with pytest.raises(geocode.GeocodeConfigError, match="unknown geocoder google"):
        Chain.from_config("provided,google", db, user_agent=AGENT)


def test_gazetteer_names_in_any_language_and_homonyms():
    c = Chain.from_config("gazetteer", None, user_agent="")
    for city, country in (("Bruxelles", "BE"), ("Brussel", "BE"), ("Λευκωσία", "CY"), ("Warszawa", "PL"),
                          ("LYON CEDEX 07", "FR"), ("St-Etienne", "FR")):
        assert c.locate(Address(city=city, country=country)).location.precision == "locality", city
    brussels = c.locate(Address(city="Bruxelles", country="BE")).location
    assert (round(brussels.lat, 2), round(brussels.lon, 2)) == (50.85, 4.35)
    outcome = c.locate(Address(city="Saint-Martin", country="FR"))
    assert any("places are called 'Saint-Martin'" in n for n in outcome.notes)


def test_provided_points_are_checked():
    c = Chain.from_config("provided", None, user_agent="")
    assert c.locate(Address(country="FR", lat=45.76, lon=4.83)).location.precision == "provided"
    swapped = c.locate(Address(country="FR", lat=4.83, lon=45.76))
    assert (swapped.location.lat, swapped.location.lon) == (45.76, 4.83)
    assert c.locate(Address(country="FR", lat=0, lon=0)).location is None
    assert c.locate(Address(country="FR", lat=95, lon=200)).location is None
    assert c.locate(Address(country="IT", lat=45.76, lon=4.83)).location is None
    # An island left out of the outlines (Papa Westray, Orkney) is still in the UK.
    assert c.locate(Address(country="GB", lat=59.347, lon=-2.893)).location is not None


def test_relocate_never_moves_manual_pins(db):
    from support import make_org

    manual = make_org(db, "Pinned", city="Gent", country="BE", lat=51.0, lon=3.7)
    catalogue.set_location(db, manual.id, 51.0, 3.7, "manual", "staff")
    make_org(db, "Lost", city="Gent", country="BE", lat=None, lon=None)
    counts = geocode.relocate(db, Chain.from_config("gazetteer", db, user_agent=""), pending_only=True)
    assert counts["located"] == 1
    pinned = catalogue.get_organisation(db, "pinned")
    assert (pinned["lat"], pinned["geo_precision"]) == (51.0, "manual")
    assert catalogue.get_organisation(db, "lost")["geo_precision"] == "locality"


def test_a_chain_says_when_a_process_without_the_catalogue_may_run_it(db):
    # An import's reading process locates the rows itself only with steps that read files.
    assert Chain.from_config("provided,cache,postcode,gazetteer", db, user_agent="").offline_spec() == \
        "provided,cache,postcode,gazetteer"  # the cache holds nothing: it would answer nothing
    assert Chain.from_config("provided,cache,nominatim,gazetteer", db,
                             user_agent="mapapp test, admin@example.org").offline_spec() is None
    with db.conn:
        catalogue.store_geocode(db, "nominatim", "lyon|fr", 45.76, 4.83, "locality")
    assert Chain.from_config("provided,cache,gazetteer", db, user_agent="").offline_spec() is None
