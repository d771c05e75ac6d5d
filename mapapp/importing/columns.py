"""Which column holds which field: recognised headers, plus an optional mapping file."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .. import vocab
from ..config import DATA_DIR
from ..text import fold

FIELDS = (
    "ref", "name", "description", "relation", "structure", "legal_form", "street", "house_number",
    "postcode", "city", "region", "country", "lat", "lon", "latlon", "website", "email", "phone",
    "themes", "needs", "offers",
)
TRANSLATABLE = "description"
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
    if not isinstance(data, dict) or set(data) - {"columns", "ignore"}:
        raise MappingError(f"{where}: use the keys 'columns' and 'ignore' only")
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
        elif target in taken:
            plan.duplicates.append((header, target, taken[target]))
        else:
            plan.fields[i] = target
            taken[target] = header
    position = {h: i for i, h in reversed(list(enumerate(headers)))}
    plan.unknown.sort(key=position.__getitem__)
    return plan
