"""The few "possible partners" a map popup shows: the organisations nearest to one that
offer what it needs or need what it offers, each once, with what matches.

They come from the map index (``mapindex.matches``, the organisation page's partners), so
that one popup costs a pass of arithmetic over the columns even at a million organisations.
"""

from __future__ import annotations

import sqlite_utils

from .. import multilingual, records, vocab
from . import mapindex

POPUP_PARTNERS = 3


def for_popup(columns: mapindex.MapColumns, db: sqlite_utils.Database, org: dict, lang: str, *, base: str,
              limit: int = POPUP_PARTNERS) -> list[dict]:
    """Up to ``limit`` published partners of ``org``, nearest first: name, page link (``base``
    then the page's path), town, distance, and the resources they ``offers`` that ``org``
    needs and those they ``needs`` that it offers, each with its label in ``lang`` and icon."""
    found = mapindex.matches(columns, db, org, limit=limit)
    resources = vocab.resources()
    merged: dict[str, dict] = {}
    for side, shared in (("offering", "offers"), ("needing", "needs")):
        for m in found.get(side, ()):
            entry = merged.setdefault(m["slug"], {
                "slug": m["slug"], "name": m["name"], "url": records.organisation_url(base, m["slug"]),
                "city_name": multilingual.local_town(m["city"], m["country"], lang),
                "km": None if m["km"] is None else round(m["km"], 1),
                "offers": [], "needs": [], "_rank": (m["km"] is None, m["km"] or 0, m["name"], m["id"])})
            entry[shared] = [{"code": c, "label": resources.label(c, lang), "icon": resources.icon(c)}
                             for c in m["shared"]]
    chosen = sorted(merged.values(), key=lambda e: e["_rank"])[:limit]
    return [{k: v for k, v in e.items() if k != "_rank"} for e in chosen]
