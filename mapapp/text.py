"""Text shared by every layer: characters that no text may hold, names compared without
case, accents or punctuation, and URL slugs in plain ASCII."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Latin letters that Unicode decomposition does not reduce to a base letter.
_LATIN = {"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "þ": "th", "ı": "i"}
_FOLD_LETTERS = str.maketrans(_LATIN)
# Slugs also spell Greek in Latin letters (simplified ELOT 743), so that Λευκωσία reads.
_SLUG_LETTERS = str.maketrans({
    **_LATIN,
    **dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", [
        "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r",
        "s", "s", "t", "y", "f", "ch", "ps", "o"])),
})
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Words (of a fold, of a slug): finding them is up to three times faster than replacing what
# lies between them and splitting (a large import folds and slugifies every name).
_WORDS = re.compile(r"[^\W_]+")
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
# Unicode non-characters (U+FDD0–U+FDEF and the last two code points of every plane), lone
# surrogates, and control characters other than tab and line breaks: nobody types them,
# XML cannot carry them (a single U+FFFE made the Atom feed fail) and UTF-8 cannot encode
# a lone surrogate.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufdd0-\ufdef"
                     + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
                     + "]")


def mailbox(address: str | None) -> str:
    """The mailbox an e-mail address reaches, for counting per recipient: ``Ana+x@Example.org``
    and ``ana@example.org`` are one (case and a ``+tag`` in the local part do not count)."""
    local, at, domain = (address or "").strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if at else domain


def strip_unsafe(text: str) -> str:
    """``text`` without the characters no stored text may hold (non-characters, controls
    other than tab and line breaks, lone surrogates)."""
    return _UNSAFE.sub("", text)


# The search index holds text folded by fold_text, and its triggers remove a row by folding
# its old text again: raise this whenever fold_text gives a different result for any text,
# and the next start-up (or `mapapp init`) rebuilds the index with the new fold.
FOLD_VERSION = 1


def fold_text(text: object) -> str:
    """Lower-case, accent-free, punctuation-free form of any text (what the search indexes)."""
    if text is None:
        return ""
    text = str(text)
    if text.isascii():  # nothing to decompose or to spell in Latin letters
        return " ".join(_ASCII_WORDS.findall(text.lower()))
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return " ".join(_WORDS.findall(text.translate(_FOLD_LETTERS)))


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """``fold_text``, remembered: for the names and places compared again and again."""
    return fold_text(text)


def slugify(text: str, *, fallback: str = "organisation") -> str:
    """A URL slug: ASCII letters and digits joined by hyphens (``Poznań`` → ``poznan``);
    ``fallback`` when nothing of ``text`` can be spelled so."""
    if text.isascii():
        return "-".join(_ASCII_WORDS.findall(text.lower()))[:80].rstrip("-") or fallback
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower())).replace("ου", "ou")
    ascii_text = text.translate(_SLUG_LETTERS).encode("ascii", "ignore").decode()
    slug = "-".join(_ASCII_WORDS.findall(ascii_text))
    return slug[:80].rstrip("-") or fallback


# The lists' order follows the root collation of Unicode (CLDR's, which French, Italian, Dutch,
# Greek and English use untailored): letters first with accents and case aside, then the name
# as written. A letter that collation counts as a letter of its own sorts after its base letter
# ("~" follows every ASCII letter and digit): "Łódź" after "Lublin", as Polish readers expect.
# Raise SORT_VERSION whenever sort_key gives another result for any text: the next start-up (or
# `mapapp init`) computes every organisation's stored key again.
SORT_VERSION = 1
_SORT_LETTERS = str.maketrans({"ł": "l~", "ø": "o~", "đ": "d~", "ð": "d~", "ı": "i~", "þ": "z~",
                               "æ": "ae", "œ": "oe", "ŀ": "l"})


def sort_key(name: object) -> str:
    """The first level of the root collation for ``name``, as text that SQLite's binary order
    and Python's sort keep in order: "Économie" among the E, "Bélarus" before "Bulgarie",
    Greek in the Greek alphabet's order. Lists sort by it, then by the name as written."""
    if name is None:
        return ""
    text = str(name)
    if text.isascii():
        return text.lower()
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return text.translate(_SORT_LETTERS)
