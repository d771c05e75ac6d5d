"""The site as its staff set it up: identity, colours, the map's defaults, funding, contact.

Staff set these in the staff area (stored by ``catalogue.site``); the ``MAPAPP_*`` settings stay
the operator's defaults (``MAPAPP_SITE_NAME``, ``MAPAPP_TILE_URL``…). ``effective`` merges the
two into one ``Site`` that pages, the embed, e-mails, PDF reports and exports all read, so that
a change shows everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
