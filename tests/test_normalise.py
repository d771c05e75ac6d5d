import pytest

from mapapp.importing import normalise as n


@pytest.mark.parametrize("value, code", [
    ("Belgique", "BE"), ("België", "BE"), ("Italia", "IT"), ("Polska", "PL"), ("Κύπρος", "CY"),
    ("FRANCE", "FR"), ("fra", "FR"), ("be", "BE"), ("Deutschland", "DE"), ("Nederland", "NL"),
    ("Włochy", "IT"), ("Grèce", "GR"), ("UK", "GB"), ("EL", "GR"), ("Democratic Republic of Congo", "CD"),
    ("XK", "XK"), ("Kosovo", "XK"), ("Kosovë", "XK"),  # no ISO code, but the one Europe uses
])
def test_countries_from_codes_and_names(value, code):
    assert n.parse_country(value) == (code, None)


def test_unknown_country_says_what_to_write():
    code, problem = n.parse_country("Pays Imaginaire")
    assert code is None and "write the two-letter code" in problem
    assert n.parse_country("n/a") == (None, None)


@pytest.mark.parametrize("value, url", [
    ("www.coop.fr", "https://www.coop.fr"),
    ("HTTP://Example.ORG/Path", "http://example.org/Path"),
    ("example.org:8080/x", "https://example.org:8080/x"),
    ("www.a.coop ; www.b.es", "https://www.a.coop"),
])
def test_websites_are_completed_or_refused(value, url):
    assert n.parse_website(value)[0] == url


@pytest.mark.parametrize("value", ["info@coop.fr", "javascript:alert(1)", "ftp://x.org", "coop dot fr",
                                   "data:text/html,<script>"])
def test_non_links_are_not_stored(value):
    url, problem = n.parse_website(value)
    assert url == "" and problem


def test_placeholders_are_empty_without_complaint():
    for value in ("n/a", "N/A", "-", "?", "unknown", "néant", "brak"):
        assert n.parse_website(value) == ("", None)
        assert n.parse_email(value) == ("", None)


@pytest.mark.parametrize("value, country, expected, warned", [
    ("1000", "FR", "01000", True), ("69001", "FR", "69001", False), ("F-69001", "FR", "69001", False),
    ("121", "IT", "00121", True), ("61806", "PL", "61-806", False), ("1000", "BE", "1000", False),
    ("M60 0AG", "GB", "M60 0AG", False), ("G1H 2J9", "CA", "G1H 2J9", False), ("ABC", "FR", "", True),
])
def test_postcodes(value, country, expected, warned):
    code, problem = n.parse_postcode(value, country)
    assert code == expected and bool(problem) == warned


def test_terms_from_codes_uris_and_labels_in_any_language():
    codes, unknown = n.parse_terms(
        "Arts, Media, Culture & Leisure, Éducation; http://purl.org/essglobal/standard/activities-modified/AM60"
        " | Energia, Mieszkalnictwo, Cuisine moléculaire", "themes")
    assert codes == ["AM10", "AM40", "AM60", "AM50", "AM90"]
    assert unknown == ["Cuisine moléculaire"]
    assert n.parse_terms("Training & Education", "themes") == (["AM40"], [])
    assert n.parse_terms("Wolontariusze; Locaux et espaces", "resources") == (["volunteers", "premises"], [])


def test_numbers_and_coordinate_cells():
    assert n.parse_number("45,76") == 45.76
    assert n.parse_number("abc") is None
    assert n.parse_latlon("45.76, 4.83") == (45.76, 4.83)
    assert n.parse_latlon("45,76; 4,83") == (45.76, 4.83)


def test_text_cleaning():
    assert n.clean_text("  A\tYard &amp Co\n") == "A Yard & Co"
    assert n.looks_mangled("B?hlen") and n.looks_mangled("Kantstra? 10")
    assert not n.looks_mangled("What?") and not n.looks_mangled("Coop")


@pytest.mark.parametrize("written, code", [("Latvija", "LV"), ("Česko", "CZ"), ("Suomi", "FI"),
                                           ("Magyarország", "HU"), ("Hrvatska", "HR"), ("Slovensko", "SK"),
                                           ("Slovenija", "SI"), ("Lietuva", "LT"), ("Eesti", "EE"),
                                           ("România", "RO"), ("Sverige", "SE"), ("Κύπρος", "CY")])
def test_country_names_are_understood_in_the_languages_of_europe(written, code):
    assert n.parse_country(written) == (code, None)
