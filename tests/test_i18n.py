"""Six languages: choice by ?lang=, cookie, Accept-Language; complete catalogues."""

import html
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mapapp import vocab

TRANSLATIONS = Path(__file__).resolve().parent.parent / "mapapp" / "translations"


def test_lang_parameter_then_cookie_then_accept_language(demo_client):
    page = demo_client.get("/?lang=it").get_data(as_text=True)
    assert '<html lang="it">' in page and "Mappa" in page
    # remembered by the cookie (static/js/site.js sets it: the page itself sets none)
    demo_client.set_cookie("lang", "it")
    assert '<html lang="it">' in demo_client.get("/organisations").get_data(as_text=True)


def test_accept_language_is_used_without_a_choice(demo_app):
    client = demo_app.test_client()
    page = client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="nl">' in page and "Kaart" in page
    page = client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en">' in page


@pytest.mark.parametrize("lang, word", [("fr", "Annuaire"), ("it", "Elenco"), ("pl", "Katalog"),
                                        ("el", "Κατάλογος"), ("nl", "Overzicht"), ("en", "Directory")])
def test_every_page_has_a_language_switcher(demo_client, lang, word):
    page = demo_client.get(f"/organisations?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and word in page
    for code in vocab.LANGUAGES:
        assert f'hreflang="{code}"' in page


@pytest.mark.parametrize("lang", [code for code in vocab.LANGUAGES if code != "en"])
def test_catalogue_is_complete_and_compiled(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        po = read_po(f)
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = read_po(f)
    def entries(catalog):
        def as_tuple(v):
            return tuple(v) if isinstance(v, (list, tuple)) else v
        return {as_tuple(m.id): as_tuple(m.string) for m in catalog if m.id}

    assert set(entries(template)) == set(entries(po)), "run make translations"
    untranslated = [k for k, v in entries(po).items() if not all(v if isinstance(v, tuple) else [v])]
    assert untranslated == []
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = read_mo(f)
    assert entries(mo) == entries(po), "run make translations"


def test_every_vocabulary_label_is_translated():
    for vocabulary in (vocab.themes(), vocab.resources(), vocab.relations(), vocab.structures()):
        for term in vocabulary:
            assert all(term.labels[lang] for lang in vocab.LANGUAGES), term.code


def test_directory_pagination_keeps_filters(demo_client):
    first = demo_client.get("/organisations?country=FR&country=BE").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert 'href="/organisations?country=FR&amp;country=BE&amp;page=2"' in first
    second = demo_client.get("/organisations?country=FR,BE&page=2").get_data(as_text=True)
    assert second.count('<li>') >= 10
    bad = demo_client.get("/organisations?page=9")
    assert bad.status_code == 400 and "pages of results" in bad.get_data(as_text=True)


def test_bad_filter_on_a_page_is_a_readable_400(demo_client):
    response = demo_client.get("/organisations?theme=Cooking&lang=fr")
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    # the value as the visitor typed it: categories match whatever their case
    assert "theme : valeur inconnue « Cooking »" in text and '<html lang="fr">' in text
