"""A partner editor's part of the catalogue as SQL: the organisations of some countries or
some projects. ``accounts.Scope`` decides for one organisation; this narrows lists."""

from __future__ import annotations


def clause(column: str, countries: tuple[str, ...], projects: tuple[str, ...]) -> tuple[str, list]:
    """A condition on an organisation id ``column`` (``o.id``…): it lies in one of
    ``countries`` or belongs to one of ``projects``. ("1", []) when both are empty (the
    whole catalogue)."""
    if not (countries or projects):
        return "1", []
    parts, params = [], []
    if countries:
        parts.append(f"{column} IN (SELECT id FROM organisations WHERE country IN ({', '.join('?' * len(countries))}))")  # nosec B608 # column from code; values bound
        params += list(countries)
    if projects:
        parts.append(f"{column} IN (SELECT po.organisation_id FROM project_organisations po"
                     f" JOIN projects p ON p.id = po.project_id WHERE p.slug IN ({', '.join('?' * len(projects))}))")  # nosec B608 # column from code; values bound
        params += list(projects)
    return "(" + " OR ".join(parts) + ")", params
