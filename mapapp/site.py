"""The site as its staff set it up: identity, colours, the map's defaults, funding, contact.

Staff set these in the staff area (stored by ``catalogue.site``); the ``MAPAPP_*`` settings stay
the operator's defaults (``MAPAPP_SITE_NAME``, ``MAPAPP_TILE_URL``…). ``effective`` merges the
two into one ``Site`` that pages, the embed, e-mails, PDF reports and exports all read, so that
a change shows everywhere at once.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .text import strip_unsafe
from .translate import N_, Message
from .vocab import LANGUAGES

# The EU's funding statement for beneficiaries, in the site's languages (the disclaimer text
# staff may replace is a setting; these words are the EU's own).
FUNDED_BY_EU = {
    "en": "Funded by the European Union",
    "fr": "Financé par l'Union européenne",
    "it": "Finanziato dall'Unione europea",
    "pl": "Sfinansowane ze środków UE",
    "el": "Χρηματοδοτείται από την Ευρωπαϊκή Ένωση",
    "nl": "Gefinancierd door de Europese Unie",
}


@dataclass(frozen=True)
class Site:
    """What every page, message and document shows of the site. Texts per language are dicts
    language → text (missing languages fall back to another one where shown)."""

    name: str
    tagline: dict[str, str] = field(default_factory=dict)
    intro: dict[str, str] = field(default_factory=dict)
    primary_colour: str = "#1f5f8b"
    accent_colour: str = "#b5441b"
    # The map's first view when a selection gives none: [[south, west], [north, east]], or None
    # (the map fits the organisations shown).
    default_view: tuple[tuple[float, float], tuple[float, float]] | None = None
    tile_url: str = ""
    tile_attribution: str = ""
    funding_enabled: bool = False
    funding_disclaimer: dict[str, str] = field(default_factory=dict)
    contact_organisation: str = ""
    contact_email: str = ""
    logo: str | None = None  # the logo file's sha256 (for a versioned address), None without one

    def text(self, texts: dict[str, str], lang: str) -> tuple[str, str | None]:
        """The text in ``lang``, else in another language: (text, the language it is in, when
        not ``lang``; None when it is ``lang`` or there is no text)."""
        if texts.get(lang):
            return texts[lang], None
        for other, value in texts.items():
            if value:
                return value, other
        return "", None


def effective(config: dict, stored: dict, files: dict[str, str] | None = None) -> Site:
    """The ``Site`` from the operator's ``config`` defaults and what staff ``stored``
    (``catalogue.site.read_settings``), with ``files`` (``catalogue.site.file_digests``)."""
    view = stored.get("default_view")
    return Site(
        name=stored.get("site_name") or config["SITE_NAME"],
        tagline=dict(stored.get("tagline") or {}),
        intro=dict(stored.get("intro") or {}),
        primary_colour=stored.get("primary_colour") or Site.primary_colour,
        accent_colour=stored.get("accent_colour") or Site.accent_colour,
        default_view=(tuple(tuple(corner) for corner in view) if view else None),
        tile_url=stored["tile_url"] if "tile_url" in stored else config["TILE_URL"],
        tile_attribution=stored.get("tile_attribution") or config["TILE_ATTRIBUTION"],
        funding_enabled=bool(stored.get("funding_enabled")),
        funding_disclaimer=dict(stored.get("funding_disclaimer") or {}),
        contact_organisation=stored.get("contact_organisation") or "",
        contact_email=stored.get("contact_email") or "",
        logo=(files or {}).get("logo"),
    )


# -- the checks of what staff type ------------------------------------------------------------

# Texts kept short enough for the header and the map's first view.
LIMITS = {"site_name": 120, "tagline": 160, "intro": 1000, "tile_url": 500, "tile_attribution": 300,
          "contact_organisation": 200, "contact_email": 254}
# WCAG 2.x AA for normal text: the header's and the buttons' white text on the colours.
MIN_CONTRAST = 4.5
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_PLACEHOLDERS = re.compile(r"\{[zxysr]\}")
# A plain address: nothing a mailto: link would read as headers (?subject=, &bcc=).
_EMAIL = re.compile(r"[A-Za-z0-9.!#$'*+^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_COLOURS = {"primary_colour": N_("the primary colour %(colour)s gives %(ratio)s:1 against the header's white text;"
                                 " WCAG AA asks for 4.5:1: choose a darker colour"),
            "accent_colour": N_("the accent colour %(colour)s gives %(ratio)s:1 against the buttons' white text;"
                                " WCAG AA asks for 4.5:1: choose a darker colour")}


def is_colour(value: object) -> bool:
    """Whether ``value`` is a ``#rrggbb`` colour."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def contrast(colour: str, other: str = "#ffffff") -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(colour), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def clean_text(value: str, *, one_line: bool = True) -> str:
    """Typed text as it is kept: without characters no stored text may hold, line breaks folded
    into spaces where one line is shown, no surrounding blanks."""
    value = strip_unsafe(value.replace("\r\n", "\n").replace("\r", "\n"))
    return " ".join(value.split()) if one_line else value.strip()


def check(changes: dict) -> dict[str, Message]:
    """What is wrong in ``changes`` (keys and values as ``catalogue.site.write_settings`` stores
    them; None means back to the default): field → a message saying what to fix. Per-language
    texts are reported under ``tagline:fr``, ``intro:el``…"""
    errors: dict[str, Message] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key in ("tagline", "intro"):
            for lang, text in value.items():
                if lang not in LANGUAGES:
                    errors[f"{key}:{lang}"] = Message(N_("'%(lang)s' is not one of the site's languages"), lang=lang)
                elif len(text) > LIMITS[key]:
                    errors[f"{key}:{lang}"] = _too_long(text, LIMITS[key])
        elif key in _COLOURS:
            if not _HEX.fullmatch(value):
                errors[key] = Message(N_("'%(value)s' is not a colour: write it as # and six hexadecimal digits,"
                                         " like #1f5f8b"), value=value[:20])
            elif (ratio := contrast(value)) < MIN_CONTRAST:
                errors[key] = Message(_COLOURS[key], colour=value.lower(), ratio=f"{ratio:.1f}")
        elif key == "default_view":
            errors.update({key: e for e in [_view_error(value)] if e})
        elif key == "tile_url":
            errors.update({key: e for e in [_tile_url_error(value)] if e})
        elif key == "contact_email" and not _EMAIL.fullmatch(value):
            errors[key] = Message(N_("'%(value)s' is not an e-mail address: write it like contact@example.org"),
                                  value=value[:60])
        elif key in LIMITS and len(value) > LIMITS[key]:
            errors[key] = _too_long(value, LIMITS[key])
    return errors


def _too_long(text: str, limit: int) -> Message:
    return Message(N_("%(n)s characters: shorten it to %(limit)s at most"), n=len(text), limit=limit)


def _view_error(view) -> Message | None:
    try:
        (south, west), (north, east) = view
        numbers = [float(n) for n in (south, west, north, east)]
    except (TypeError, ValueError):
        return Message(N_("the view needs four numbers: south, west, north and east"))
    south, west, north, east = numbers
    if not all(math.isfinite(n) for n in numbers) or not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return Message(N_("south must be below north (between -90 and 90) and west left of east (between -180"
                          " and 180): draw the view on the map again"))
    return None


def _tile_url_error(url: str) -> Message | None:
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        return Message(N_("the tile address must start with https:// (or http://)"))
    if any(part not in url for part in ("{z}", "{x}", "{y}")):
        return Message(N_("the tile address must contain {z}, {x} and {y}, like"
                          " https://tile.openstreetmap.org/{z}/{x}/{y}.png"))
    if any(c in url for c in "\"'<> \\"):
        return Message(N_("the tile address may not contain quotes, spaces, < or >"))
    # folium renders the address through Jinja: no braces but Leaflet's placeholders.
    if any(c in _PLACEHOLDERS.sub("", url) for c in "{}"):
        return Message(N_("the tile address may contain braces only in {z}, {x}, {y}, {s} and {r}"))
    return None


def attribution_html(text: str) -> str:
    """Staff's plain-text tile attribution as the HTML Leaflet shows: escaped, and its braces
    as entities (folium renders the attribution through Jinja)."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def tile_url_error(url: str) -> Message | None:
    """What is wrong with a tile server's address (http(s), Leaflet's placeholders), or None."""
    return _tile_url_error(url)
