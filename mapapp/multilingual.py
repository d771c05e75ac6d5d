"""Words and names in the six languages: what a search word also means (a place's other
names, a vocabulary term labelled so in any language, the word's other forms) and a town's
name in the visitor's language.

Place names come from the offline gazetteer (``data/geo/places/*.tsv.gz``: each place's
GeoNames alternate names, without their language), read once for the places big enough to
be searched by another name. The gazetteer does not say which alternate name is French or
Polish: the names shown in a language are CLDR's exemplar cities (shipped with Babel: the
capitals and the other towns that name a time zone), matched to the gazetteer's place, then
the translated names of GNOME's libgweather locations (``data/geo/towns.tsv``: 215 towns of
100,000 people or more).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer
from babel import Locale
from babel.core import get_global

from . import vocab
from .config import DATA_DIR
from .text import fold, fold_text

PLACES_DIR = DATA_DIR / "geo" / "places"
# Places searched by their other names: towns this big are where people write the name in
# their own language ("Varsovie", "Bruxelles"); below it, GeoNames' alternate names are
# mostly transliterations, and short ones collide with common words ("Fore" for Forest).
PLACE_POPULATION = 100_000
SHORTEST_NAME = 4
MOST_NAMES = 80  # other names of one word searched at most (Brussels has about 50)

_STEMMERS = {"en": "english", "fr": "french", "it": "italian", "pl": "polish", "el": "greek", "nl": "dutch"}
# Words of vocabulary labels that say nothing about the term ("Arts, Media, Culture & Leisure").
_STOP = frozenset(fold_text(
    "and with from for the des les aux pour dans avec sans della delle degli dello per con oraz dla ich"
    " και των της του για voor van het een met").split())
SHORTEST_STEM = 4  # a shorter stem is searched as a word, not as a prefix


_OWN = threading.local()


def _stemmer(lang: str):
    """This thread's stemmer for ``lang``: a Snowball stemmer keeps the word it works on in
    itself, so two threads sharing one garble each other's words (an IndexError)."""
    stemmers = _OWN.__dict__.setdefault("stemmers", {})
    if lang not in stemmers:
        stemmers[lang] = snowballstemmer.stemmer(_STEMMERS[lang])
    return stemmers[lang]


@lru_cache(maxsize=4096)
def stems(word: str) -> frozenset[tuple[str, str]]:
    """``(language, folded stem)`` of ``word`` by each language's Snowball stemmer:
    "réparation" and "réparer" share the French stem "repar"."""
    lower = word.lower()
    return frozenset((lang, fold(_stemmer(lang).stemWord(lower))) for lang in _STEMMERS)


def _label_words(text: str) -> list[str]:
    return [w for w in fold_text(text).split() if len(w) >= 3 and w not in _STOP]


def _raw_words(text: str) -> list[str]:
    """``text``'s words, lower case but with their accents (the stemmers want them)."""
    return [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split()
            if len(w) >= 3 and fold(w) not in _STOP]


def term_index(terms) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """``(language, stem)`` → ``{(vocabulary, code)}`` for ``terms``, ``(vocabulary, code,
    labels per language, aliases)``: every word of every label (stemmed in its language) and
    alias (stemmed in every language, as aliases mix them)."""
    index: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for name, code, labels, aliases in terms:
        for lang, label in labels.items():
            if lang not in _STEMMERS or not label:
                continue
            for word in _raw_words(label):
                index.setdefault((lang, fold(_stemmer(lang).stemWord(word))), set()).add((name, code))
                index.setdefault(("", fold(word)), set()).add((name, code))
        for alias in aliases:
            for word in _raw_words(alias):
                for key in stems(word):
                    index.setdefault(key, set()).add((name, code))
                index.setdefault(("", fold(word)), set()).add((name, code))
    return index


def terms_of(meaning: Meaning, index: dict[tuple[str, str], set[tuple[str, str]]]) -> set[tuple[str, str]]:
    """The ``(vocabulary, code)`` of ``index`` a search word names (see ``term_index``)."""
    if len(meaning.word) < SHORTEST_STEM or " " in meaning.word or meaning.names:
        return set()
    found: set[tuple[str, str]] = set()
    for key in stems(meaning.raw):
        found |= index.get(key, set())
    for (lang, word), codes in index.items():  # the start of a word: "vélo" for "vélos" (Snowball keeps its s)
        if not lang and word.startswith(meaning.word):
            found |= codes
    return found


@cache
def _vocabulary_index() -> dict[tuple[str, str], set[tuple[str, str]]]:
    # Not the structures: organisations.structure has no index, and a scan of a million rows
    # per search word ("cooperative") is what the map cannot afford. A catalogue's own
    # categories are matched from its table (``catalogue.search_clause``).
    return term_index((name, term.code, term.labels, term.aliases)
                      for name, vocabulary in (("themes", vocab.themes()), ("resources", vocab.resources()))
                      for term in vocabulary)


@dataclass(frozen=True)
class Meaning:
    """What one search word may stand for: FTS5 terms (folded) to match in the organisations'
    name, description and city, and vocabulary codes the organisation may carry."""

    word: str
    raw: str  # as typed, lower case, accents kept (what the stemmers read)
    prefixes: tuple[str, ...]  # matched as word prefixes: the word and its stems
    names: tuple[str, ...] = ()  # matched as whole words or phrases: a place's other names
    themes: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def fts(self) -> str:
        """This word as an FTS5 expression: any of its forms."""
        terms = ['"' + p.replace('"', '""') + '"*' for p in self.prefixes]
        terms += ['"' + n.replace('"', '""') + '"' for n in self.names]
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


@lru_cache(maxsize=1024)
def meanings(text: str) -> tuple[Meaning, ...]:
    """Every word of a search (20 at most), with what else it may mean; a whole search that
    names a place ("Den Haag", "Città di Bruxelles") counts as one word."""
    folded = fold_text(text)
    if not folded:
        return ()
    if " " in folded and folded in _place_names():
        return (_meaning(folded, text),)
    raw = _raw_all(text)
    return tuple(_meaning(word, raw.get(word, word)) for word in folded.split()[:20])


def _raw_all(text: str) -> dict[str, str]:
    return {fold(w): w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split()}


def _meaning(word: str, raw: str) -> Meaning:
    prefixes = [word]
    names = tuple(n for n in _place_names().get(word, ()) if n != word)[:MOST_NAMES]
    found = terms_of(Meaning(word, raw, (word,), names), _vocabulary_index())
    if not names and len(word) >= SHORTEST_STEM and " " not in word:  # a place is not stemmed: "brus"*
        for key in stems(raw):
            stem = key[1]
            if len(stem) >= SHORTEST_STEM and not any(stem.startswith(p) for p in prefixes):
                prefixes = [p for p in prefixes if not p.startswith(stem)] + [stem]
    return Meaning(
        word, raw, tuple(prefixes), names,
        themes=tuple(sorted(c for v, c in found if v == "themes")),
        resources=tuple(sorted(c for v, c in found if v == "resources")))


@cache
def _places() -> list[tuple[str, str, tuple[str, ...]]]:
    """``(country, name, other names)`` of the places big enough to be searched by another
    name (the gazetteer's lines split by hand: ten times faster than ``csv`` on 100,000 lines)."""
    out = []
    for path in sorted(PLACES_DIR.glob("*.tsv.gz")):
        country = path.name.split(".")[0]
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            next(f)
            for line in f:
                row = line.rstrip("\r\n").split("\t")
                if len(row) == 7 and row[5].isdigit() and int(row[5]) >= PLACE_POPULATION:
                    out.append((country, row[1], tuple(a for a in row[6].split("|") if a)))
    return out


@cache
def _place_names() -> dict[str, tuple[str, ...]]:
    """A place's folded name or alternate name → every folded name of the place(s) so called."""
    index: dict[str, list[str]] = {}
    for _country, name, aliases in _places():
        names = list(dict.fromkeys(n for n in (fold(name), *map(fold, aliases)) if len(n) >= SHORTEST_NAME))
        for key in names:
            known = index.setdefault(key, [])
            known.extend(n for n in names if n not in known)
    return {key: tuple(names) for key, names in index.items()}


# -- town names in the visitor's language ----------------------------------------------


@cache
def _local_names() -> dict[tuple[str, str], dict[str, str]]:
    """``(country, folded name of a town)`` → ``{language: its name}`` for the towns CLDR
    names in the six languages (the towns that name a time zone)."""
    zones = get_global("zone_territories")
    wanted: dict[tuple[str, str], str] = {}  # (country, folded English name) → time zone
    for zone, country in zones.items():
        if "/" in zone and not zone.startswith("Etc/"):
            wanted[(country, fold(zone.rsplit("/", 1)[1].replace("_", " ")))] = zone
    locales = {lang: Locale.parse(lang).time_zones for lang in vocab.LANGUAGES}
    out: dict[tuple[str, str], dict[str, str]] = {}
    for country, name, aliases in _places():
        folded = {fold(name), *map(fold, aliases)}
        zone = next((wanted[(country, n)] for n in folded if (country, n) in wanted), None)
        if zone is None:
            continue
        english = zone.rsplit("/", 1)[1].replace("_", " ")
        names = {lang: (locales[lang].get(zone) or {}).get("city") or english for lang in vocab.LANGUAGES}
        names["en"] = name if fold(name) == fold(english) else english
        for key in folded:
            out.setdefault((country, key), names)
    return out


TOWNS = DATA_DIR / "geo" / "towns.tsv"


@cache
def _towns() -> dict[tuple[str, str], dict[str, str]]:
    """``(country, folded name of a town)`` → ``{language: its name}`` from libgweather's
    translated locations (``data/geo/towns.tsv``, see ``scripts/build_towns.py``), found by
    any of its names or by the gazetteer's other names of the same town."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    with TOWNS.open(encoding="utf-8", newline="") as f:
        header = next(f).rstrip("\n").split("\t")[1:]
        for line in f:
            country, *names = line.rstrip("\n").split("\t")
            row = dict(zip(header, names))
            for name in names:
                out.setdefault((country, fold(name)), row)
    for country, name, aliases in _places():
        folded = {fold(name), *map(fold, aliases)}
        row = next((out[(country, n)] for n in sorted(folded) if (country, n) in out), None)
        if row is not None:
            for key in folded:
                out.setdefault((country, key), row)
    return out


def local_town(city: str | None, country: str | None, lang: str) -> str:
    """``city`` as written in ``lang``: CLDR's name ("Warszawa", PL, fr → "Varsovie"), else
    libgweather's ("Thessaloniki", GR, fr → "Thessalonique"), else as stored. A source's name
    that is only its English one again (not translated) or the stored name with other accents
    ("Bielsko-Biala" for "Bielsko-Biała") leaves the stored name."""
    if not city or not country:
        return city or ""
    key = (country.upper(), fold(city))
    for names in (_local_names().get(key), _towns().get(key)):
        name = (names or {}).get(lang)
        if not name:
            continue
        if fold(name) == key[1]:
            return city
        if lang == "en" or name != names.get("en"):
            return name
    return city
