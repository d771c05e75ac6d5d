"""Which column holds which field: recognised headers, plus an optional mapping file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .. import vocab
from ..config import DATA_DIR
from ..text import fold
from ..translate import N_

FIELDS = (
    "ref", "name", "description", "relation", "structure", "legal_form", "street", "house_number",
    "postcode", "city", "region", "country", "lat", "lon", "latlon", "website", "email", "phone",
    "themes", "needs", "offers", "project", "visit", "visit_date", "logo", "photos",
)
# What links a row to a project and a visit (not columns of the organisation itself).
LINK_FIELDS = ("project", "visit", "visit_date")
TRANSLATABLE = "description"
FIELD_LABELS = {
    "ref": N_("reference (identifier in the source)"), "name": N_("name"), "description": N_("description"),
    "relation": N_("relation to the project"), "structure": N_("organisational structure"),
    "legal_form": N_("legal form"), "street": N_("street"), "house_number": N_("house number"),
    "postcode": N_("postcode"), "city": N_("city"), "region": N_("region"), "country": N_("country"),
    "lat": N_("latitude"), "lon": N_("longitude"), "latlon": N_("latitude, longitude (one cell)"),
    "website": N_("website"), "email": N_("e-mail"), "phone": N_("phone"), "themes": N_("themes"),
    "needs": N_("needs"), "offers": N_("offers"), "project": N_("project (slug or name)"),
    "visit": N_("visit (slug or title)"), "visit_date": N_("date of the visit"),
    "logo": N_("logo (web address of a picture)"), "photos": N_("photos (web addresses of pictures)"),
}
# Addresses of pictures, fetched once the rows are written (``importing.pictures``).
PICTURE_FIELDS = ("logo", "photos")
TRANSLATED_LABEL = N_("description in %(language)s")
# Fields that several columns may fill, read in the file's order ("Primary Activity", then
# "Activities"): the first column's first value is the organisation's main category.
MULTI_COLUMN = ("themes",)
ALL_FIELDS = FIELDS + tuple(f"{TRANSLATABLE}_{lang}" for lang in vocab.LANGUAGES)


class MappingError(Exception):
    """The mapping file cannot be used; the message says which entry and why."""


@dataclass
class ColumnPlan:
    """How the columns of one file map to fields."""

    fields: dict[int, str] = field(default_factory=dict)  # column index -> field
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # header, field, kept header
    # Further columns of a field that several may fill (column index, field), read after the first.
    extra: list[tuple[int, str]] = field(default_factory=list)

    def column_of(self, name: str) -> int | None:
        return next((i for i, f in self.fields.items() if f == name), None)


@cache
def _synonyms() -> dict[str, str]:
    data = yaml.safe_load((DATA_DIR / "import" / "headers.yml").read_text(encoding="utf-8"))
    index: dict[str, str] = {}
    for name, words in data.items():
        for word in words:
            index.setdefault(fold(word), name)
    return index


def recognise(header: str) -> str | None:
    """The field a header names, in any supported language, or None."""
    key = fold(header)
    if not key:
        return None
    found = _synonyms().get(key)
    if found:
        return found
    words = key.split()
    # "Description (FR)", "description_fr", "FR description": a translation.
    for lang in vocab.LANGUAGES:
        if lang in (words[0], words[-1]) and len(words) > 1:
            rest = " ".join(words[1:] if words[0] == lang else words[:-1])
            if _synonyms().get(rest) == TRANSLATABLE:
                return f"{TRANSLATABLE}_{lang}"
    return None


def score_header(cells: list[str]) -> int:
    """How many cells of a row are recognised headers (to find the header row)."""
    return sum(1 for c in cells if recognise(c))


def load_mapping(path: str | Path) -> dict:
    """Read and check a mapping file: ``columns: {header: field}``, ``ignore: [header]``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except yaml.YAMLError as e:
        raise MappingError(f"mapping file {path} is not valid YAML: {e}") from None
    return check_mapping(data, f"mapping file {path}")


def check_mapping(data: object, where: str) -> dict:
    """Validate a mapping (``columns: {header: field}``, ``ignore: [header]``)."""
    if not isinstance(data, dict) or set(data) - {"columns", "ignore", "title", "detect"}:
        raise MappingError(f"{where}: use the keys 'columns' and 'ignore' only (and 'title', 'detect' "
                           "for a known format)")
    columns = data.get("columns") or {}
    ignore = data.get("ignore") or []
    if not isinstance(columns, dict) or not isinstance(ignore, (list, set, tuple)):
        raise MappingError(f"{where}: 'columns' maps headers to fields, 'ignore' lists headers")
    for header, target in columns.items():
        if target not in ALL_FIELDS:
            raise MappingError(
                f"{where}: '{header}' maps to unknown field '{target}'; "
                f"fields are: {', '.join(ALL_FIELDS)}")
    return {"columns": {str(h).strip(): t for h, t in columns.items()},
            "ignore": {str(h).strip() for h in ignore}}


@dataclass(frozen=True)
class KnownFormat:
    """A file format other maps export, recognised from its headers, with its ready-made mapping."""

    name: str  # the mapping file's stem, e.g. "essglobal-standard"
    title: str
    detect: tuple[str, ...]  # headers that all appear in a file of this format
    mapping: dict


@cache
def known_formats() -> tuple[KnownFormat, ...]:
    """The mappings bundled in data/import/mappings that say how to recognise their format."""
    found = []
    for path in sorted((DATA_DIR / "import" / "mappings").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        mapping = check_mapping(data, f"mapping file {path.name}")
        if data.get("detect"):
            found.append(KnownFormat(path.stem, str(data.get("title") or path.stem),
                                     tuple(str(h) for h in data["detect"]), mapping))
    return tuple(found)


def recognise_format(headers: list[str]) -> KnownFormat | None:
    """The known format whose telltale headers all appear in ``headers``, if any."""
    present = {fold(h) for h in headers}
    return next((f for f in known_formats() if all(fold(h) in present for h in f.detect)), None)


def plan_columns(headers: list[str], mapping: dict | None = None) -> ColumnPlan:
    """Decide the field of every column. The mapping file wins; a field claimed by two
    columns keeps the first (the other is reported); nothing is dropped silently."""
    mapping = mapping or {"columns": {}, "ignore": set()}
    folded_count: dict[str, int] = {}
    for header in headers:
        folded_count[fold(header)] = folded_count.get(fold(header), 0) + 1

    def entry(header: str, table) -> object:
        """A mapping entry for ``header``: written exactly as in the file, or the same
        but for case and accents when no other header reads the same that way."""
        if header.strip() in table:
            return table[header.strip()] if isinstance(table, dict) else True
        if folded_count[fold(header)] > 1:
            return None
        for key in table:
            if fold(key) == fold(header):
                return table[key] if isinstance(table, dict) else True
        return None

    plan = ColumnPlan()
    taken: dict[str, str] = {}
    # Mapped columns first, so that they win over recognised ones.
    order = sorted(range(len(headers)), key=lambda i: entry(headers[i], mapping["columns"]) is None)
    for i in order:
        header = headers[i]
        if not header.strip():
            continue
        if entry(header, mapping["ignore"]):
            plan.ignored.append(header)
            continue
        target = entry(header, mapping["columns"]) or recognise(header)
        if target is None:
            plan.unknown.append(header)
        elif target in taken and target in MULTI_COLUMN:
            plan.extra.append((i, target))
        elif target in taken:
            plan.duplicates.append((header, target, taken[target]))
        else:
            plan.fields[i] = target
            taken[target] = header
    position = {h: i for i, h in reversed(list(enumerate(headers)))}
    plan.unknown.sort(key=position.__getitem__)
    for target in {t for _, t in plan.extra}:  # the file's first such column comes first
        first = plan.column_of(target)
        indexes = sorted([first, *(i for i, t in plan.extra if t == target)])
        del plan.fields[first]
        plan.fields[indexes[0]] = target
        plan.extra = [e for e in plan.extra if e[1] != target] + [(i, target) for i in indexes[1:]]
    plan.extra.sort()
    return plan


_PICTURE_ADDRESS = re.compile(r"^https?://\S+\.(?:jpe?g|png|webp|gif)(?:[?#]\S*)?$", re.I)


def recognise_picture_columns(plan: ColumnPlan, headers: list[str], rows: list[list[str]]) -> None:
    """An unrecognised column whose filled cells (in ``rows``, the first of the file) are all
    addresses of pictures (``https://….jpg``) holds photos, when no column does yet."""
    if "photos" in plan.fields.values():
        return
    for header in list(plan.unknown):
        i = headers.index(header)
        cells = [row[i].strip() for row in rows if i < len(row) and row[i].strip()]
        if cells and all(all(_PICTURE_ADDRESS.match(u) for u in re.split(r"[\s,;|]+", c) if u) for c in cells):
            plan.unknown.remove(header)
            plan.fields[i] = "photos"
            return
