"""The self-hosted icon set of categories' markers: Tabler's outline icons (MIT), vendored
unchanged from the npm package under static/vendor/tabler-icons/ (see its README).

An icon is named as Tabler names it (``leaf``, ``tools-kitchen-2``). Each is a few SVG
paths on a 24×24 grid, stroked: pages and the map draw them from ``paths`` (no icon font,
no request per icon); the picker searches names and Tabler's English tags.
"""

from __future__ import annotations

import json
import re
from functools import cache

from markupsafe import escape

from .config import ROOT

_FOLDER = ROOT / "static" / "vendor" / "tabler-icons"  # inside the package once installed
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# A path's data is drawing commands and numbers: nothing else reaches a page.
_PATH_DATA = re.compile(r"^[MmLlHhVvCcSsQqTtAaZz0-9 .,eE+-]*$")


@cache
def _nodes() -> dict[str, tuple[str, ...]]:
    with open(_FOLDER / "tabler-nodes-outline.json", encoding="utf-8") as f:
        raw = json.load(f)
    return {name: tuple(attrs["d"] for tag, attrs in elements if tag == "path" and _PATH_DATA.match(attrs.get("d", "")))
            for name, elements in raw.items()}


@cache
def _tags() -> dict[str, tuple[str, ...]]:
    with open(_FOLDER / "icons.json", encoding="utf-8") as f:
        raw = json.load(f)
    return {name: tuple(str(t).lower() for t in (entry.get("tags") or ())) + (str(entry.get("category", "")).lower(),)
            for name, entry in raw.items()}


def exists(name: str) -> bool:
    """Whether ``name`` is an icon of the set."""
    return bool(_NAME.match(name or "")) and name in _nodes()


def paths(name: str) -> tuple[str, ...]:
    """The SVG path data of icon ``name`` (empty for an unknown one)."""
    return _nodes().get(name, ()) if exists(name) else ()


def svg(name: str, *, size: int = 24, colour: str = "currentColor", label: str | None = None) -> str:
    """Icon ``name`` as an inline SVG element (Markup-safe: the path data is checked, the
    colour is given by code, the label escaped by the caller's template when it is text).
    Decorative (``aria-hidden``) unless ``label`` is given."""
    drawn = "".join(f'<path d="{d}"/>' for d in paths(name))
    named = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true" focusable="false"'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(size)}" height="{int(size)}" viewBox="0 0 24 24"'
            f' fill="none" stroke="{escape(colour)}" stroke-width="2" stroke-linecap="round"'
            f' stroke-linejoin="round"{named}>{drawn}</svg>')


def names() -> list[str]:
    """Every icon's name, sorted."""
    return sorted(_nodes())


def search(words: str, *, limit: int = 60) -> list[str]:
    """Icons whose name or tags hold every word of ``words`` (English), names first."""
    wanted = [w for w in re.split(r"[\s,]+", words.lower().strip()) if w]
    if not wanted:
        return names()[:limit]
    tags = _tags()
    by_name, by_tag = [], []
    for name in names():
        if all(w in name for w in wanted):
            by_name.append(name)
        elif all(any(w in t for t in tags.get(name, ())) or w in name for w in wanted):
            by_tag.append(name)
    return (by_name + by_tag)[:limit]
