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
    # column index -> how it was recognised: "mapping", "name", or the evidence of its content
    how: dict[int, str] = field(default_factory=dict)
    # field -> further columns whose cells are joined after the first one's ("Address 1", "Address 2")
    joined: dict[str, list[int]] = field(default_factory=dict)
    # unknown header -> share of the sampled rows it fills (0 to 1), when the content was sampled
    filled: dict[str, float] = field(default_factory=dict)
    weak: list[int] = field(default_factory=list)  # columns named by a weak word ("Title"): their content decides

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


# Headers that name a field only when no other column does ("Title" may hold "Mr." in a list of people).
WEAK = frozenset({"title", "label", "nation", "land"})
# Bare titles of people, which are no organisation's name ("Mr.", "Mme", "Dott.", "Pani", "Dhr").
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "m", "mme", "mlle",
                     "me", "sig", "sigra", "dott", "dottssa", "pan", "pani", "dhr", "mevr", "herr", "frau",
                     "κ", "κα", "κος"})
# Words put before a header that do not change its field ("Registered Name", "Trading Address", "Org Name").
PREFIXES = ("registered", "trading", "organisation", "organization", "org", "company", "main", "primary")
# A bracketed, numbered or lettered suffix: "address[a]", "Address (2)", "Address 1", "email_2".
_SUFFIX = re.compile(r"^(.*?\w)\s*(?:\[(\w{1,3})\]|\((\w{1,3})\)|[\s_.-]*(\d{1,2}))$")


def recognise(header: str) -> str | None:
    """The field a header names, in any supported language, or None."""
    found = match_header(header)
    return found[0] if found else None


def match_header(header: str) -> tuple[str, int, str] | None:
    """The field a header names, how sure (0 exactly, 1 a weak word or a prefix or suffix
    taken off, 2 a misspelling, 3 its last word), and the header as understood; or None."""
    key = fold(header)
    if not key:
        return None
    exact = _exact(key)
    if exact:
        return exact, 1 if key in WEAK else 0, key
    suffix = _SUFFIX.match(header.strip())
    base = fold(suffix.group(1)) if suffix else key
    words = base.split()
    while words and words[0] in PREFIXES and len(words) > 1:
        words = words[1:]
        found = _exact(" ".join(words))
        if found:
            return found, 1, " ".join(words)
    if base != key:
        found = _exact(base)
        if found:
            return found, 1, base
    near = _misspelt(" ".join(words) or key)
    if near:
        return _synonyms()[near], 2, near
    # "Geo Container Latitude", "Contact Email": the last word says it, unless another column says it plainly.
    last = words[-1] if len(words) > 1 else ""
    if _synonyms().get(last) in _LAST_WORD_FIELDS and len(last) >= 4:
        return _synonyms()[last], 3, last
    return None


_LAST_WORD_FIELDS = frozenset({"lat", "lon", "postcode", "email", "website", "phone", "country", "city", "structure",
                               "description"})


def suffix_order(header: str) -> str:
    """The suffix that orders joined columns ("a" of "address[a]", "2" of "Address 2"), or ''."""
    found = _SUFFIX.match(header.strip())
    if not found:
        return ""
    tail = next(g for g in found.groups()[1:] if g is not None)
    return tail.zfill(3) if tail.isdigit() else tail.lower()


def _misspelt(key: str) -> str | None:
    """The one known header within a small edit distance of ``key`` (one letter for words
    of five to eight letters, two beyond), or None when none is, or several are as near."""
    if len(key) < 5 or any(c.isdigit() for c in key):
        return None
    limit = 1 if len(key) <= 8 else 2
    best: list[str] = []
    best_distance = limit + 1
    for known in _synonyms():
        if abs(len(known) - len(key)) > limit or len(known) < 5:
            continue
        d = _distance(key, known, limit + 1)
        if d > limit:
            continue
        if d < best_distance:
            best, best_distance = [known], d
        elif d == best_distance:
            best.append(known)
    fields = {_synonyms()[k] for k in best}
    return best[0] if best and len(fields) == 1 else None


def _distance(a: str, b: str, stop: int) -> int:
    """Levenshtein distance of ``a`` and ``b`` (a transposition counts one), or ``stop`` once it reaches it."""
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, previous2[j - 2] + 1)
            current.append(d)
        if min(current) >= stop:
            return stop
        previous2, previous = previous, current
    return previous[-1]


def _exact(key: str) -> str | None:
    found = _synonyms().get(key)
    if found:
        return found
    words = key.split()
    if not words:
        return None
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
    """Decide the field of every column. The mapping file wins, then headers named exactly,
    then those read past a prefix, suffix or weak word, then misspelt ones; a field claimed
    by two columns keeps the surer (the other is reported), but street lines ("Address 1",
    "address[b]") are joined in order; nothing is dropped silently."""
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
    choices: dict[int, tuple[str, int, str]] = {}
    for i, header in enumerate(headers):
        if not header.strip():
            continue
        if entry(header, mapping["ignore"]):
            plan.ignored.append(header)
            continue
        mapped = entry(header, mapping["columns"])
        found = (mapped, -1, "") if mapped else match_header(header)
        if found is None:
            plan.unknown.append(header)
        else:
            choices[i] = found
    taken: dict[str, int] = {}
    for i in sorted(choices, key=lambda i: (choices[i][1], i)):
        target, rank, understood = choices[i]
        if target in taken:
            first = taken[target]
            if target == "street" and suffix_order(headers[i]) and suffix_order(headers[first]):
                plan.joined.setdefault(target, []).append(i)
                plan.how[i] = "mapping" if rank < 0 else "name"
                continue
            if target in MULTI_COLUMN:  # read after the first, in the file's order (below)
                plan.extra.append((i, target))
                plan.how[i] = "mapping" if rank < 0 else "name"
                continue
            plan.duplicates.append((headers[i], target, headers[first]))
            continue
        plan.fields[i] = target
        plan.how[i] = "mapping" if rank < 0 else "name"
        taken[target] = i
        if fold(headers[i]) in WEAK:
            plan.weak.append(i)
    for target, more in plan.joined.items():
        # In the file's order of suffixes: address[a] before address[b], Address 2 before Address 10.
        ordered = sorted([taken[target], *more], key=lambda i: (suffix_order(headers[i]), i))
        del plan.fields[taken[target]]
        plan.fields[ordered[0]] = target
        plan.joined[target] = ordered[1:]
    position = {h: i for i, h in reversed(list(enumerate(headers)))}
    plan.unknown.sort(key=position.__getitem__)
    for target in {t for _, t in plan.extra}:  # the file's first such column comes first
        first = plan.column_of(target)
        indexes = sorted([first, *(i for i, t in plan.extra if t == target)])
        del plan.fields[first]
        plan.fields[indexes[0]] = target
        plan.extra = [e for e in plan.extra if e[1] != target] + [(i, target) for i in indexes[1:]]
    plan.extra.sort()
    plan.duplicates.sort(key=lambda d: position[d[0]])
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
