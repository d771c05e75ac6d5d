"""The import report: what happened to every row, and every problem found."""

from __future__ import annotations

import itertools
import pickle  # nosec B403 # only reads back the temporary file this process wrote
import tempfile
from collections import Counter
from dataclasses import dataclass, field

from .. import vocab
from ..csvsafe import safe, write_csv
from ..text import fold
from ..translate import N_, Message, to_data

ACTIONS = ("created", "updated", "unchanged", "skipped")
SIMILAR_SHOWN = 5  # past this many variants of one problem, the preview shows them as one line
FIRST_ROWS = 10  # rows listed for each category value that matches none
UNKNOWN_CATEGORY = N_("'%(text)s' is not a category of this map (a code, a label in any language, an alias, an "
                      "ESSGLOBAL or ICA activity); left out")
RETIRED_CATEGORY = N_("'%(text)s' is a retired category; left out")
UNKNOWN_RESOURCE = N_("'%(text)s' is not one of the needs and offers (%(codes)s, …); left out")
MERGED_CATEGORY = N_("'%(text)s' is a retired category, replaced by '%(into)s'; left out (write that one instead)")


def unknown_resource(text: str) -> Message:
    """What is said of a need or offer that is none of the vocabulary's."""
    return Message(UNKNOWN_RESOURCE, text=text, codes=", ".join(vocab.resources().codes()[:4]))


@dataclass
class UnknownValue:
    """A value of a category column that names no category (or a retired one), or of a
    needs or offers column that is none of the vocabulary's (``kind`` "needs", "offers"),
    with how many rows hold it and the first of them."""

    value: str
    column: str
    retired: str = ""  # the code of the retired category it names
    into: str = ""  # the code of the category that replaced it, when known
    rows: int = 0
    first: list[int] = field(default_factory=list)
    kind: str = "themes"

    @property
    def message(self) -> Message:
        if self.kind != "themes":
            return unknown_resource(self.value)
        if self.into:
            return Message(MERGED_CATEGORY, text=self.value, into=self.into)
        return Message(RETIRED_CATEGORY if self.retired else UNKNOWN_CATEGORY, text=self.value)

    def rows_text(self) -> str:
        """"row 4", "rows 2-5", "10 rows (2-11)", "96 rows (2-11, …)"."""
        if self.rows == len(self.first):
            return _rows_text(self.first)
        listed = _rows_text(self.first).split("(")[-1].rstrip(")").removeprefix("rows ").removesuffix(", …")
        return f"{self.rows} rows ({listed}, …)"


@dataclass(slots=True)
class Issue:
    """A problem in the file: ``error`` skips the row, ``warning`` drops or fixes a value."""

    row: int | None  # None: about the whole file or a column
    column: str
    level: str
    message: str


@dataclass
class IssueGroup:
    """One distinct problem and the rows it was found in (``None``: the whole file)."""

    level: str
    column: str
    message: str
    rows: list[int | None] = field(default_factory=list)
    similar: int = 0  # other values of the same problem, merged into this line
    total: int = 0  # rows it concerns when ``rows`` lists only the first of them

    @property
    def row_numbers(self) -> list[int]:
        return [r for r in self.rows if r is not None]

    @property
    def count(self) -> int:
        """How many rows it concerns."""
        return max(self.total, len(self.row_numbers))

    def rows_text(self) -> str:
        numbers = self.row_numbers
        return _rows_text(numbers) if numbers else ""


@dataclass(slots=True)
class RowOutcome:
    """What became of one row."""

    row: int
    name: str
    action: str
    slug: str = ""
    precision: str | None = None
    location_source: str | None = None


class RowLog:
    """What became of each row, in row order. Past ``MEMORY_ROWS`` the outcomes go to a
    temporary file, so that a file of a million rows is reported in little memory."""

    MEMORY_ROWS = 20_000

    def __init__(self) -> None:
        self._recent: list[RowOutcome] = []
        self._spill = None
        self._spilled = 0
        self.actions: Counter = Counter()

    def append(self, outcome: RowOutcome) -> None:
        self._recent.append(outcome)
        self.actions[outcome.action] += 1
        if len(self._recent) >= self.MEMORY_ROWS:
            self._write_out()

    def extend(self, outcomes) -> None:
        """A chunk's outcomes at once (counted by ``Counter``'s C loop, not one call a row)."""
        outcomes = list(outcomes)
        self._recent.extend(outcomes)
        self.actions.update([o.action for o in outcomes])
        if len(self._recent) >= self.MEMORY_ROWS:
            self._write_out()

    def _write_out(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="mapapp-import-")
        pickle.dump([(o.row, o.name, o.action, o.slug, o.precision, o.location_source) for o in self._recent],
                    self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += len(self._recent)
        self._recent = []

    def __len__(self) -> int:
        return self._spilled + len(self._recent)

    def __iter__(self):
        return itertools.starmap(RowOutcome, self.values())

    def values(self):
        """Each outcome's fields (row, name, action, slug, precision, location source), in order."""
        if self._spill is not None:
            self._spill.flush()
            position = self._spill.tell()
            self._spill.seek(0)
            try:
                while self._spill.tell() < position:
                    yield from pickle.load(self._spill)  # nosec B301 # written above by this process
            finally:
                self._spill.seek(position)
        for o in self._recent:
            yield o.row, o.name, o.action, o.slug, o.precision, o.location_source

    def __getitem__(self, index: int) -> RowOutcome:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row outcome index out of range")
        if index >= self._spilled:
            return self._recent[index - self._spilled]
        return next(itertools.islice(iter(self), index, None))


# Past these many, only the count is kept (the report lists the first ones).
LISTED_NOT_LOCATED = 10_000
LISTED_DUPLICATES = 10_000


@dataclass
class Report:
    """Everything an import did or would do (``dry_run``)."""

    file: str
    source: str
    dry_run: bool = False
    details: str = ""
    notes: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: RowLog = field(default_factory=RowLog)
    # row, name, address: the first LISTED_NOT_LOCATED (``not_located_count`` counts them all)
    not_located: list[tuple[int, str, str]] = field(default_factory=list)
    not_located_count: int = 0
    # row, name, slug, why: the first LISTED_DUPLICATES (``duplicates_count`` counts them all)
    duplicates: list[tuple[int, str, str, str]] = field(default_factory=list)
    duplicates_count: int = 0
    # What was done with each row that had likely duplicates: {row: (choice, slug)} for the
    # rows listed in ``duplicates``, and how many rows of each choice in all.
    duplicate_decisions: dict = field(default_factory=dict)
    duplicate_actions: Counter = field(default_factory=Counter)
    samples: list[dict] = field(default_factory=list)  # the first rows as they are stored
    # (organisation id, "created" or "updated", what it was before) — to undo the import
    changes: list[tuple[int, str, dict | None]] = field(default_factory=list)
    kept_by_hand: int = 0  # organisations whose fields edited here a sync left as they were
    # How many rows go to each project, relation and visit (``add_link``).
    links: dict = field(default_factory=lambda: {"project": Counter(), "relation": Counter(), "visit": Counter()})
    # (row, organisation id, name, ((role, URL), …)): the pictures to fetch once the rows are written
    pictures: list[tuple[int, int, str, tuple]] = field(default_factory=list)
    # (header, field, how) of each column read: how is "mapping", "name" or the evidence of its content
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    spatial_index: str = ""  # how the new points went into the R*Tree (``catalogue.index_new_points``)
    # Category values that match no category, each once (folded), with its rows.
    unknown_categories: dict[tuple[str, str], UnknownValue] = field(default_factory=dict)
    # Needs and offers that are none of the vocabulary's, each once per column (folded), with its
    # rows: a million rows held 543,655 such warnings one by one.
    unknown_resources: dict[tuple[str, str], UnknownValue] = field(default_factory=dict)
    # Retired categories' codes → the category that replaced them (``catalogue.categories.replacements``).
    replaced_by: dict[str, str] = field(default_factory=dict)
    _messages: dict = field(default_factory=dict, repr=False)

    def add(self, row: int | None, column: str, level: str, message: str) -> None:
        # The same message in many rows is kept once.
        message = self._messages.setdefault(message, message)
        self.issues.append(Issue(row, column, level, message))

    def add_unknown_category(self, row: int, column: str, value: str, retired: str = "", kind: str = "themes") -> None:
        """One row holds ``value``, which names no category (``retired``: a retired one's code),
        or (``kind`` "needs" or "offers") none of the needs and offers."""
        if kind != "themes":
            found = self.unknown_resources.get((column, fold(value)))
            if found is None:
                found = self.unknown_resources[(column, fold(value))] = UnknownValue(value, column, kind=kind)
            found.rows += 1
            if len(found.first) < FIRST_ROWS:
                found.first.append(row)
            return
        found = self.unknown_categories.get((fold(value), retired))
        if found is None:
            found = self.unknown_categories[(fold(value), retired)] = UnknownValue(
                value, column, retired, self.replaced_by.get(retired, "") if retired else "")
        found.rows += 1
        if len(found.first) < FIRST_ROWS:
            found.first.append(row)

    def unknown_values(self) -> list[UnknownValue]:
        """The category values that matched nothing, those in most rows first."""
        return sorted(self.unknown_categories.values(), key=lambda u: (-u.rows, u.first[:1], u.value))

    def unknown_resource_values(self) -> list[UnknownValue]:
        """The needs and offers that are none of the vocabulary's, those in most rows first."""
        return sorted(self.unknown_resources.values(), key=lambda u: (-u.rows, u.first[:1], u.value))

    def add_link(self, project: str, relation: str | None, visit: str | None) -> None:
        self.links["project"][project] += 1
        if relation:
            self.links["relation"][relation] += 1
        if visit:
            self.links["visit"][visit] += 1

    def links_text(self) -> str:
        """'project a 3; relation visited 1, participant 2; visit v 2', or '' when nothing is linked."""
        return "; ".join(f"{kind} " + ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
                         for kind, counts in self.links.items() if counts)

    def add_not_located(self, row: int, name: str, address: str) -> None:
        self.not_located_count += 1
        if len(self.not_located) < LISTED_NOT_LOCATED:
            self.not_located.append((row, name, address))

    def add_duplicate(self, row: int, name: str, slug: str, why: str) -> None:
        self.duplicates_count += 1
        if len(self.duplicates) < LISTED_DUPLICATES:
            self.duplicates.append((row, name, slug, why))

    def decide_duplicate(self, row: int, choice: str, slug: str) -> None:
        self.duplicate_actions[choice] += 1
        if any(r == row for r, *_ in self.duplicates):
            self.duplicate_decisions[row] = (choice, slug)

    def duplicate_decision_text(self, row: int) -> str:
        """'skipped as a duplicate of x', 'updated x' or 'created anyway' ('' when undecided)."""
        choice, slug = self.duplicate_decisions.get(row, ("", ""))
        return {"skip": f"skipped as a duplicate of '{slug}'", "update": f"updated '{slug}'",
                "create": "created anyway"}.get(choice, "")

    @property
    def counts(self) -> dict[str, int]:
        actions = self.rows.actions
        counts = {a: actions.get(a, 0) for a in ACTIONS}
        counts["warnings"] = (sum(1 for i in self.issues if i.level == "warning")
                              + sum(u.rows for u in self.unknown_resources.values()))
        counts["not_located"] = max(self.not_located_count, len(self.not_located))
        counts["likely_duplicates"] = max(self.duplicates_count, len(self.duplicates))
        return counts

    def grouped_issues(self) -> list["IssueGroup"]:
        """Each distinct problem once, with the rows it concerns: the rare ones first (they
        are the ones a glance at a long list would miss), errors before warnings."""
        groups: dict[tuple[str, str, str], IssueGroup] = {}
        for issue in self.issues:
            key = (issue.level, issue.column, issue.message)
            if key not in groups:
                groups[key] = IssueGroup(issue.level, issue.column, issue.message)
            groups[key].rows.append(issue.row)
        # The same kind of problem with a different value in each row ("same organisation as
        # row 4", "as row 9"…) is one line too, once it would fill the list.
        kinds: dict[tuple[str, str, str], list[IssueGroup]] = {}
        for group in groups.values():
            kinds.setdefault((group.level, group.column, getattr(group.message, "template", group.message)),
                             []).append(group)
        merged = []
        for similar in kinds.values():
            if len(similar) <= SIMILAR_SHOWN:
                merged.extend(similar)
                continue
            first = similar[0]
            merged.append(IssueGroup(first.level, first.column, first.message,
                                     sorted((r for g in similar for r in g.rows), key=lambda r: r or 0),
                                     similar=len(similar) - 1))
        merged += [IssueGroup("warning", u.column, u.message, list(u.first), total=u.rows)
                   for u in self.unknown_resource_values()]
        return sorted(merged, key=lambda g: (g.count or len(g.rows), g.level != "error"))

    def problems_data(self, limit: int = 20) -> list[dict]:
        """The grouped problems (those that skipped rows first), to keep with the import's
        record so that its page can list them later in any language."""
        groups = sorted(self.grouped_issues(), key=lambda g: (g.level != "error", -(g.count or len(g.rows))))
        unknown = [{"level": "warning", "column": to_data(u.column), "rows": u.rows, "similar": 0,
                    "message": to_data(u.message)} for u in self.unknown_values()]
        problems = [{"level": g.level, "column": to_data(g.column), "rows": g.count, "similar": g.similar,
                     "message": to_data(g.message)} for g in groups]
        errors = [p for p in problems if p["level"] == "error"]
        return (errors + unknown + problems[len(errors):])[:limit]

    def summary(self, *, max_issues: int = 50) -> str:
        """The printed report: counts, then problems row by row."""
        c = self.counts
        head = "DRY RUN, nothing was saved: " if self.dry_run else ""
        lines = [
            f"{head}{self.file} (source '{self.source}'{', ' + self.details if self.details else ''})",
            f"  {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, "
            f"{c['skipped']} skipped; {c['warnings']} warnings; {c['not_located']} not located; "
            f"{c['likely_duplicates']} likely duplicates",
        ]
        if self.links_text():
            lines.append(f"  linked: {self.links_text()}")
        lines += [f"  note: {n}" for n in self.notes]
        for header, target, how in self.columns:
            lines.append(f"  column '{header}' → {target} ({column_how(how)})")
        # The same problem in many rows is printed once, with the rows it concerns.
        grouped: dict[tuple[str, str, str], list[int | None]] = {}
        for issue in sorted(self.issues, key=lambda i: (i.row or 0, i.level != "error")):
            grouped.setdefault((issue.level, issue.column, issue.message), []).append(issue.row)
        for n, ((level, column, message), rows) in enumerate(grouped.items()):
            if n == max_issues:
                lines.append(f"  … and {len(grouped) - max_issues} more problems: "
                             "write them all with --report FILE.csv")
                break
            where = _rows_text([r for r in rows if r]) if rows[0] else "file"
            col = f", column '{column}'" if column else ""
            lines.append(f"  {level.upper()} {where}{col}: {message}")
        unknown = self.unknown_values()
        for u in unknown[:max_issues]:
            into = f", replaced by '{u.into}'" if u.into else ""
            word = f"RETIRED CATEGORY (code {u.retired}{into})" if u.retired else "UNKNOWN CATEGORY"
            lines.append(f"  {word} '{u.value}', column '{u.column}': {u.rows_text()}")
        if len(unknown) > max_issues:
            lines.append(f"  … and {len(unknown) - max_issues} more unknown category values")
        resources = self.unknown_resource_values()
        for u in resources[:max_issues]:
            lines.append(f"  WARNING {u.rows_text()}, column '{u.column}': {u.message}")
        if len(resources) > max_issues:
            lines.append(f"  … and {len(resources) - max_issues} more needs or offers that are none of the list")
        if unknown:
            lines.append("  (unknown categories are left out: create them in the staff area's Categories, "
                         "add the value as an alias of one, or correct the file)")
        for row, name, address in self.not_located[:20]:
            lines.append(f"  NOT LOCATED row {row}: {name} ({address or 'no address'})")
        if c["not_located"] > 20:
            lines.append(f"  … and {c['not_located'] - 20} more not located (mapapp geocode --pending lists them)")
        if self.duplicate_actions:
            done = {"skip": "skipped", "update": "updated the stored organisation", "create": "created anyway"}
            lines.append("  likely duplicates: " + ", ".join(f"{self.duplicate_actions[k]} {done[k]}"
                                                          for k in done if self.duplicate_actions[k]))
        for row, name, slug, why in self.duplicates[:20]:
            decided = self.duplicate_decision_text(row)
            lines.append(f"  LIKELY DUPLICATE row {row}: {name} and existing '{slug}' ({why})"
                         + (f": {decided}" if decided else ""))
        if c["likely_duplicates"] > 20:
            lines.append(f"  … and {c['likely_duplicates'] - 20} more likely duplicates (--report FILE.csv lists them)")
        return "\n".join(lines)

    def write_csv(self, path) -> None:
        """One line per row outcome and per problem, formula-safe (to a path or a text stream)."""
        by_row: dict[int | None, list[Issue]] = {}
        for issue in self.issues:
            by_row.setdefault(issue.row, []).append(issue)

        def checked(cells: list) -> list:
            return [safe(v) for v in cells]

        def lines():
            for issue in by_row.get(None, []):
                yield checked(["", "", "", "", "", issue.level, issue.column, issue.message])
            for row, name, action, slug, precision, _source in self.rows.values():
                where = precision or ("not located" if action != "skipped" else "")
                # Of an outcome's line only the name is the file's: its row number, action, slug
                # (a letter or digit first) and precision are the importer's own words.
                yield [row, safe(name), action, slug, where, "", "", ""]
                for issue in by_row.get(row, ()):
                    yield checked([row, name, "", "", "", issue.level, issue.column, issue.message])
            for u in self.unknown_values() + self.unknown_resource_values():
                yield checked(["", "", "", "", "", "warning", u.column, f"{u.message}: {u.rows_text()}"])
            for row, name, slug, why in self.duplicates:
                decided = self.duplicate_decision_text(row)
                yield checked([row, name, "", slug, "", "warning", "",
                               f"likely duplicate of '{slug}': {why}" + (f"; {decided}" if decided else "")])
            if self.duplicates_count > len(self.duplicates):
                yield checked(["", "", "", "", "", "warning", "",
                               f"{self.duplicates_count - len(self.duplicates)} more likely duplicates are not listed"])

        write_csv(path, ["row", "name", "action", "slug", "location", "level", "column", "message"], lines(),
                  neutralised=True)


def column_how(how: str) -> str:
    """How a column was recognised, as the command line says it."""
    return {"mapping": "from the mapping", "name": "by its name"}.get(how, f"by its content: {how}")


def _rows_text(rows: list[int]) -> str:
    """"row 4", "rows 2-5, 9" or "96 rows (2-97)"."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    spans: list[str] = []
    start = prev = rows[0]
    for r in rows[1:] + [None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    text = ", ".join(spans[:8]) + (", …" if len(spans) > 8 else "")
    return f"{len(rows)} rows ({text})" if len(rows) > 3 else f"rows {text}"
