"""The import report: what happened to every row, and every problem found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..csvsafe import write_csv
from ..translate import to_data

ACTIONS = ("created", "updated", "unchanged", "skipped")
SIMILAR_SHOWN = 5  # past this many variants of one problem, the preview shows them as one line


@dataclass
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

    @property
    def row_numbers(self) -> list[int]:
        return [r for r in self.rows if r is not None]

    def rows_text(self) -> str:
        numbers = self.row_numbers
        return _rows_text(numbers) if numbers else ""


@dataclass
class RowOutcome:
    """What became of one row."""

    row: int
    name: str
    action: str
    slug: str = ""
    precision: str | None = None
    location_source: str | None = None


@dataclass
class Report:
    """Everything an import did or would do (``dry_run``)."""

    file: str
    source: str
    dry_run: bool = False
    details: str = ""
    notes: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: list[RowOutcome] = field(default_factory=list)
    not_located: list[tuple[int, str, str]] = field(default_factory=list)  # row, name, address
    duplicates: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, name, slug, why
    samples: list[dict] = field(default_factory=list)  # the first rows as they are stored
    # (organisation id, "created" or "updated", what it was before) — to undo the import
    changes: list[tuple[int, str, dict | None]] = field(default_factory=list)

    def add(self, row: int | None, column: str, level: str, message: str) -> None:
        self.issues.append(Issue(row, column, level, message))

    @property
    def counts(self) -> dict[str, int]:
        actions = Counter(r.action for r in self.rows)
        counts = {a: actions.get(a, 0) for a in ACTIONS}
        counts["warnings"] = sum(1 for i in self.issues if i.level == "warning")
        counts["not_located"] = len(self.not_located)
        counts["likely_duplicates"] = len(self.duplicates)
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
        return sorted(merged, key=lambda g: (len(g.rows), g.level != "error"))

    def problems_data(self, limit: int = 20) -> list[dict]:
        """The grouped problems (those that skipped rows first), to keep with the import's
        record so that its page can list them later in any language."""
        groups = sorted(self.grouped_issues(), key=lambda g: (g.level != "error", -len(g.rows)))
        return [{"level": g.level, "column": to_data(g.column), "rows": len(g.row_numbers), "similar": g.similar,
                 "message": to_data(g.message)} for g in groups[:limit]]

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
        lines += [f"  note: {n}" for n in self.notes]
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
        for row, name, address in self.not_located[:20]:
            lines.append(f"  NOT LOCATED row {row}: {name} ({address or 'no address'})")
        if len(self.not_located) > 20:
            lines.append(f"  … and {len(self.not_located) - 20} more not located (mapapp geocode --pending lists them)")
        for row, name, slug, why in self.duplicates[:20]:
            lines.append(f"  LIKELY DUPLICATE row {row}: {name} and existing '{slug}' ({why})")
        return "\n".join(lines)

    def write_csv(self, path) -> None:
        """One line per row outcome and per problem, formula-safe (to a path or a text stream)."""
        by_row: dict[int | None, list[Issue]] = {}
        for issue in self.issues:
            by_row.setdefault(issue.row, []).append(issue)
        lines = []
        for issue in by_row.get(None, []):
            lines.append(["", "", "", "", "", issue.level, issue.column, issue.message])
        located = {r for r, _, _ in self.not_located}
        for outcome in self.rows:
            where = outcome.precision or ("not located" if outcome.row in located else "")
            lines.append([outcome.row, outcome.name, outcome.action, outcome.slug, where, "", "", ""])
            for issue in by_row.get(outcome.row, []):
                lines.append([outcome.row, outcome.name, "", "", "", issue.level, issue.column, issue.message])
        for row, name, slug, why in self.duplicates:
            lines.append([row, name, "", slug, "", "warning", "", f"likely duplicate of '{slug}': {why}"])
        write_csv(path, ["row", "name", "action", "slug", "location", "level", "column", "message"], lines)


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
