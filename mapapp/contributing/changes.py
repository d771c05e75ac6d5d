"""What a contribution changes in an organisation: a correction merged over the stored
state (descriptions per language), and taken back part by part by an Undo (leaving what
was changed again since)."""

from __future__ import annotations

from .. import catalogue
from ..vocab import DEFAULT_LANGUAGE


def merge_changes(current: dict, values: dict, related: dict, lang: str, *, fields: dict | None = None) -> dict:
    """``current`` (an organisation's state) with a correction's checked ``values`` and
    ``related`` over it, the correction written in ``lang``. Descriptions merge per
    language: the form's one description is the text in ``lang``, and the other languages'
    texts stay as they are; ``fields`` (the network's, slug → values) replace those named.
    (Used for corrections and owners' edits alike.)"""
    proposed = dict(related.get("descriptions") or {})
    out_values = {**current["values"], **{k: v for k, v in values.items() if k != "description"}}
    descriptions = {**current["related"]["descriptions"], **{k: v for k, v in proposed.items() if k != lang}}
    if "description" in values or lang in proposed:
        _describe(out_values, descriptions, current, lang, proposed.get(lang) or values.get("description") or "")
    out_related = {**current["related"], **{k: v for k, v in related.items() if k != "descriptions"},
                   "descriptions": descriptions}
    merged = {**current, "values": out_values, "related": catalogue.related_of(**out_related)}
    if fields:
        merged["fields"] = {**(current.get("fields") or {}), **fields}
    return merged


def _describe(values: dict, descriptions: dict, current: dict, lang: str, text: str) -> None:
    """Put a description written in ``lang`` in its place. The form shows the main
    description (or this language's): sent back as shown, it changes nothing. The main
    description follows when it is in the default language, empty, or was this language's."""
    main = current["values"].get("description") or ""
    before = current["related"]["descriptions"].get(lang)
    if text in (main, before if before is not None else main):
        return
    if text:
        descriptions[lang] = text
    else:
        descriptions.pop(lang, None)
    if lang == DEFAULT_LANGUAGE or not main or main == before:
        values["description"] = text


# Fields that change together: a pin is one place, not a latitude and a longitude.
_TOGETHER = {"lat": "location", "lon": "location", "geo_precision": "location", "geo_source": "location"}
_NOT_CHANGES = ("updated_at", "created_at")


def _parts(state: dict) -> dict[str, object]:
    """An organisation's state as the parts an undo takes back one by one: each field (the
    pin as one), themes, needs, offers and each language's description."""
    parts: dict[str, object] = {}
    for name, value in state["values"].items():
        if name not in _NOT_CHANGES:
            parts.setdefault(_TOGETHER.get(name, name), {})[name] = value
    for kind in ("themes", "needs", "offers"):
        parts[kind] = state["related"].get(kind)
    for lang, text in state["related"].get("descriptions", {}).items():
        parts[f"description_{lang}"] = text
    return parts


def changed_since(after: dict, current: dict) -> list[str]:
    """The parts (``phone``, ``location``, ``description_fr``…) changed since ``after``."""
    was, now_ = _parts(after), _parts(current)
    return [name for name in dict.fromkeys([*was, *now_]) if was.get(name) != now_.get(name)]


def reverted(before: dict, after: dict, current: dict) -> tuple[dict, list[str]]:
    """``current`` with what a change (``before`` → ``after``) did taken back, part by
    part; a part changed again since stays as it is now. Returns the state and the parts
    kept."""
    was, did, now_ = _parts(before), _parts(after), _parts(current)
    values = dict(current["values"])
    related = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in current["related"].items()}
    kept = []
    for name in dict.fromkeys([*was, *did]):
        if was.get(name) == did.get(name):
            continue  # the change did not touch it
        if now_.get(name) != did.get(name):
            kept.append(name)
        elif name.startswith("description_"):
            lang = name.removeprefix("description_")
            if was.get(name) is None:
                related["descriptions"].pop(lang, None)
            else:
                related["descriptions"][lang] = was[name]
        elif name in ("themes", "needs", "offers"):
            related[name] = was.get(name)
        else:
            values.update(was.get(name) or {})
    return {**current, "values": values, "related": related}, kept
