"""Towns named in the visitor's language beyond CLDR's exemplar cities: libgweather's
translated locations (data/geo/towns.tsv)."""

from __future__ import annotations

import pytest
from support import make_org

from mapapp.multilingual import local_town


@pytest.mark.parametrize(("city", "country", "lang", "shown"), [
    ("Thessaloniki", "GR", "fr", "Thessalonique"),
    ("Thessaloniki", "GR", "pl", "Saloniki"),
    ("Θεσσαλονίκη", "GR", "it", "Tessalonica"),
    ("Antwerpen", "BE", "fr", "Anvers"),
    ("Antwerpen", "BE", "pl", "Antwerpia"),
    ("Lublin", "PL", "el", "Λούμπλιν"),
    ("'s-Hertogenbosch", "NL", "fr", "Bois-le-Duc"),  # found through the gazetteer's other names
    ("Warszawa", "PL", "el", "Βαρσοβία"),  # CLDR's, as before
    # A name the source did not translate, or wrote without the stored accents, stays as stored.
    ("Bielsko-Biała", "PL", "fr", "Bielsko-Biała"),
    ("Kraków", "PL", "el", "Kraków"),
    ("Nowhere", "PL", "fr", "Nowhere"),
])
def test_a_town_is_named_in_the_visitors_language(city, country, lang, shown):
    assert local_town(city, country, lang) == shown


def test_pages_and_lists_name_the_town_in_french_greek_and_polish(app, db):
    make_org(db, "Port Coop", city="Antwerpen", country="BE", lat=51.22, lon=4.40)
    make_org(db, "Λιμάνι Coop", city="Thessaloniki", country="GR", lat=40.64, lon=22.94)
    client = app.test_client()
    french = client.get("/organisations", query_string={"lang": "fr"}).get_data(as_text=True)
    assert "Anvers, Belgique" in french and "Thessalonique, Grèce" in french
    greek = client.get("/organisations/port-coop", query_string={"lang": "el"}).get_data(as_text=True)
    assert "Αμβέρσα" not in greek and "Antwerpen" in greek  # libgweather has no Greek name: as stored
    polish = client.get("/api/organisations", query_string={"lang": "pl"}).get_json()
    assert {o["city_name"] for o in polish["items"]} == {"Antwerpia", "Saloniki"}
    greek_list = client.get("/api/organisations", query_string={"lang": "el"}).get_json()
    assert "Θεσσαλονίκη" in {o["city_name"] for o in greek_list["items"]}
