"""The visitor's own language: searches in any of the six languages find the same
organisations (a town's other names, vocabulary labels, word forms), towns are named in
the visitor's language, lists sort and dates read as that language writes them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import altcha
import pytest
from smtp_box import links_in, text_of
from support import csrf_from, make_org

from mapapp import create_app, vocab


@pytest.fixture
def towns(app, db):
    """A Brussels repair café (stored as "Brussels", English text), a Warsaw bank (stored as
    "Warszawa") and a Lyon bakery; the map's search reads them through the app."""
    make_org(db, "Repair Café Marolles", city="Brussels", country="BE", lat=50.84, lon=4.35,
             description="Volunteers fix what you bring.", themes=["AM120"])
    make_org(db, "Bank Spółdzielczy", city="Warszawa", country="PL", lat=52.23, lon=21.01,
             description="Kredyty dla spółdzielni.", offers={"funding": ""})
    make_org(db, "Boulangerie du Parc", city="Lyon", country="FR", lat=45.76, lon=4.84,
             description="Pain au levain.")
    return db


def directory_names(client, q: str, lang: str = "fr") -> list[str]:
    html = client.get("/organisations", query_string={"q": q, "lang": lang}).get_data(as_text=True)
    return [name for name in ("Repair Café Marolles", "Bank Spółdzielczy", "Boulangerie du Parc") if name in html]


@pytest.mark.parametrize(("q", "found"), [
    ("Bruxelles", ["Repair Café Marolles"]),
    ("Brussel", ["Repair Café Marolles"]),
    ("Βρυξέλλες", ["Repair Café Marolles"]),
    ("Varsovie", ["Bank Spółdzielczy"]),
    ("Warsaw", ["Bank Spółdzielczy"]),
    ("Warszawa", ["Bank Spółdzielczy"]),
    ("réparation", ["Repair Café Marolles"]),  # the theme's French label: "réparer"
    ("riparare", ["Repair Café Marolles"]),
    ("financement Varsovie", ["Bank Spółdzielczy"]),  # an offer's label and a town, both needed
    ("financement Bruxelles", []),
    ("levain", ["Boulangerie du Parc"]),
])
def test_a_search_in_any_language_finds_the_same_organisations(client, towns, q, found):
    assert directory_names(client, q) == found


def test_the_map_counts_what_a_search_in_another_language_finds(client, towns):
    data = client.get("/api/facets", query_string={"q": "Varsovie"}).get_json()
    assert data["total"] == 1


def test_a_french_visitor_reads_warsaw_as_varsovie(client, towns):
    html = client.get("/organisations", query_string={"lang": "fr"}).get_data(as_text=True)
    assert "Varsovie, Pologne" in html and "Bruxelles, Belgique" in html and "Lyon, France" in html
    page = client.get("/organisations/bank-spoldzielczy", query_string={"lang": "fr"}).get_data(as_text=True)
    address = page.split("<address>")[1].split("</address>")[0]
    assert "Varsovie" in address and "Warszawa" not in address and "Pologne" in address
    listed = client.get("/api/organisations", query_string={"lang": "fr", "q": "Varsovie"}).get_json()
    [item] = listed["items"]
    assert item["city"] == "Warszawa" and item["city_name"] == "Varsovie"
    polish = client.get("/organisations", query_string={"lang": "pl"}).get_data(as_text=True)
    assert "Warszawa, Polska" in polish and "Bruksela, Belgia" in polish


def test_every_country_has_a_greek_name():
    untranslated = [code for code in vocab.country_codes()
                    if not re.search("[\u0370-\u03ff]", vocab.country_name(code, "el"))]
    assert untranslated == []
    assert (vocab.country_name("TR", "el"), vocab.country_name("KR", "el"), vocab.country_name("IR", "el")) == (
        "Τουρκία", "Νότια Κορέα", "Ιράν")


@pytest.fixture
def mailing_site(db_path, tmp_path, smtp):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                       "PUBLIC_URL": "http://map.example.org"})


def test_a_french_contributor_reads_french_mail_and_a_french_second_click(mailing_site, db, smtp):
    visitor = mailing_site.test_client()
    form = csrf_from(visitor.get("/contribute?lang=fr").get_data(as_text=True))
    challenge = altcha.Challenge.from_dict(visitor.get("/contribute/challenge").get_json())
    visitor.post("/contribute?lang=fr", data={
        "csrf_token": form, "altcha": altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64(),
        "contact": "ana@example.org", "name": "Vélo Solidaire", "city": "Lyon", "country": "FR"})
    [mail] = smtp.box.wait(1)
    text = text_of(mail)
    assert "la proposition d'une nouvelle organisation, « Vélo Solidaire »" in text and "de une" not in text
    path = urlsplit([u for u in links_in(mail) if "/contribute/confirm/" in u][0]).path
    token = csrf_from(visitor.get(path).get_data(as_text=True))
    assert visitor.post(path, data={"csrf_token": token}).status_code == 200
    again = visitor.post(path, data={"csrf_token": token})  # the French session (its cookie) clicks again
    assert again.status_code == 410
    html = again.get_data(as_text=True)
    assert "ou a déjà servi" in html
    assert "already used" not in html


def test_public_dates_and_country_lists_read_as_the_visitor_writes(client, db, towns):
    make_org(db, "Kooperativa Minsk", city="Minsk", country="BY", lat=53.9, lon=27.56)
    make_org(db, "Sofia Coop", city="Sofia", country="BG", lat=42.7, lon=23.32)
    db.execute("UPDATE organisations SET updated_at = '2026-12-06T09:30:00+00:00'")
    page = client.get("/organisations/bank-spoldzielczy", query_string={"lang": "fr"}).get_data(as_text=True)
    assert "6 décembre 2026" in page and "2026-12-06" not in page.split("<main")[1].split("</main>")[0]
    html = client.get("/organisations", query_string={"lang": "fr"}).get_data(as_text=True)
    panel = html.split('name="country"', 1)[1]
    countries = ["Bélarus", "Belgique", "Bulgarie", "France", "Pologne"]
    assert sorted(countries, key=panel.index) == countries  # Bélarus before Bulgarie, not after
    polish = client.get("/organisations", query_string={"lang": "pl"}).get_data(as_text=True)
    polish_countries = ["Belgia", "Białoruś", "Bułgaria", "Francja", "Polska"]
    assert sorted(polish_countries, key=polish.split('name="country"', 1)[1].index) == polish_countries


@pytest.mark.parametrize("q", ['"', '*', 'NEAR(a b)', 'Bruxelles OR "', '{{ 7*7 }} {% x %} ${x}', '<script>alert(1)</script>',
                               'javascript:alert(1)', '=1+1', 'a\r\nb', '\ufffe', 'réparation AND NOT'])
def test_a_hostile_search_is_only_words(client, towns, q):
    response = client.get("/organisations", query_string={"q": q, "lang": "fr"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert client.get("/api/facets", query_string={"q": q}).status_code == 200


def test_a_category_staff_made_is_found_by_its_label_in_any_language(client, db, towns):
    from mapapp.catalogue import categories
    categories.create(db, user_email="admin@example.org", labels={"en": "Community bikes", "fr": "Vélos solidaires",
                      "nl": "Buurtfietsen", "pl": "Rowery sąsiedzkie"}, aliases=["bicyclette"], colour="#336699", icon="",
                      essglobal=None)
    code = db.execute("SELECT code FROM categories WHERE labels LIKE '%Buurtfietsen%'").fetchone()[0]
    make_org(db, "Atelier Roue Libre", city="Lyon", country="FR", lat=45.75, lon=4.85, themes=[code])
    for q in ("vélo", "rowery", "bicyclettes", "buurtfietsen"):
        html = client.get("/organisations", query_string={"q": q, "lang": "fr"}).get_data(as_text=True)
        assert "Atelier Roue Libre" in html, q
        assert "Boulangerie du Parc" not in html


def test_words_are_stemmed_right_by_many_threads_at_once():
    # A gunicorn worker's threads search together; a Snowball stemmer keeps the word it works
    # on in itself, so one shared between threads garbled words (an IndexError mid-search).
    import threading

    from mapapp import multilingual

    errors, seen = [], {}

    def stem(n: int) -> None:
        try:
            for i in range(300):
                word = f"réparations{'x' * (i % 7)}coopérative{n}{i}"
                seen[word] = multilingual.stems(word)
        except Exception as e:  # any failure in a thread is the test's failure
            errors.append(repr(e))

    threads = [threading.Thread(target=stem, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert all(stems == multilingual.stems.__wrapped__(word) for word, stems in list(seen.items())[:50])
