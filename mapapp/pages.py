"""Staff pages as visitors see them: Markdown made into sanitised HTML, the text in the
visitor's language or another one, and the ready-made privacy policy and legal notice.

Page text is never a template (Jinja or otherwise): Markdown (markdown-it-py, raw HTML off) is
made into HTML, the few ``[[name]]`` placeholders are filled with escaped values, and the result
goes through nh3 (Ammonia), which keeps only the tags below, no event handler, no style, and links
to http(s), mailto or this site. The placeholders are filled each time a page is shown, so the
privacy policy follows the settings of the day (``MAPAPP_CONFIRM_HOURS``, the tile server…).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from .config import DATA_DIR
from .vocab import DEFAULT_LANGUAGE, LANGUAGES

TEMPLATES_DIR = DATA_DIR / "pages"
TEMPLATE_KINDS = ("privacy", "legal")  # the kinds shipped ready-made, in every language
TITLE_MAX = 200
BODY_MAX = 100_000

_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "ul", "ol", "li", "strong", "em", "code", "pre",
         "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "s", "del"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_PLACEHOLDER = re.compile(r"\[\[([a-z_]+)\]\]")
_TO_FILL = re.compile(r"⟦([^⟧]{0,200})⟧")
# Names the templates use; their values come from ``placeholder_values``.
PLACEHOLDERS = ("site_name", "contact_organisation", "contact_email", "confirm_hours", "retention_days", "tile_host")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render(markdown_text: str, values: dict[str, str] | None = None) -> str:
    """The page's HTML: ``markdown_text`` with ``[[name]]`` placeholders filled from ``values``
    (escaped), sanitised. Safe to put in a page as it is."""
    return _render(markdown_text, tuple(sorted((values or {}).items())))


@lru_cache(maxsize=128)
def _render(markdown_text: str, values: tuple[tuple[str, str], ...]) -> str:
    # Keyed on the text and the values themselves: an edit or a changed setting is a new key.
    filled = dict(values)
    out = _markdown.render(markdown_text)
    out = _PLACEHOLDER.sub(lambda m: html.escape(filled[m[1]]) if filled.get(m[1]) else m[0], out)
    return nh3.clean(out, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def to_fill(markdown_text: str) -> list[str]:
    """The ``⟦…⟧`` gaps a template leaves for staff to fill (the controller's name…)."""
    return _TO_FILL.findall(markdown_text)


def choose(texts: dict[str, dict], lang: str) -> tuple[str, dict] | None:
    """The text to show a visitor reading ``lang``: (its language, the text); another language
    (English first, then the site's order) when there is none in ``lang``; None without any."""
    for candidate in (lang, DEFAULT_LANGUAGE, *LANGUAGES):
        if candidate in texts:
            return candidate, texts[candidate]
    for candidate in sorted(texts):
        return candidate, texts[candidate]
    return None


def template(kind: str, lang: str) -> tuple[str, str]:
    """The ready-made page of ``kind`` ("privacy", "legal") in ``lang``: (title, Markdown body).
    The file's first line is the title (``# Title``)."""
    if kind not in TEMPLATE_KINDS or lang not in LANGUAGES:
        raise ValueError(f"no {kind!r} template in {lang!r}")
    text = (TEMPLATES_DIR / f"{kind}.{lang}.md").read_text(encoding="utf-8")
    first, _sep, body = text.partition("\n")
    return first.lstrip("#").strip(), body.strip() + "\n"


def tile_host(tile_url: str) -> str:
    """The host a visitor's browser asks for map tiles ("tile.openstreetmap.org"), or ""."""
    if not tile_url:
        return ""
    host = urlsplit(tile_url.replace("{s}.", "")).hostname or ""
    return host


def placeholder_values(*, site_name: str, contact_organisation: str, contact_email: str, confirm_hours: int | str,
                       retention_days: int | str, tile_host_text: str) -> dict[str, str]:
    """What fills the templates' ``[[name]]`` placeholders today (empty values stay visible
    as ``[[name]]``, for staff to notice)."""
    return {"site_name": site_name, "contact_organisation": contact_organisation, "contact_email": contact_email,
            "confirm_hours": str(confirm_hours), "retention_days": str(retention_days), "tile_host": tile_host_text}
