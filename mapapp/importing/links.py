"""What a row is linked to: a project (by slug or by a name in any language), its relation
to it and a visit of it (by slug, or by title and date), from the row's cells or the
file-level choices (``--project``, ``--relation``, ``--visit``). Nothing is created: an
unknown project skips the row, an unknown visit is reported and the row keeps its project."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from .. import vocab
from ..catalogue import memberships
from ..text import fold
from ..translate import N_, Message

# Visit roles, by the organisation's relation to the project.
VISIT_ROLE = {"visited": "visited"}


class LinkError(ValueError):
    """A file-level choice names no project or visit; the message says what exists."""


@dataclass(frozen=True)
class Link:
    """Where one row goes: a project, the relation to it (None: left as it is), a visit."""

    project_id: int
    project: str
    relation: str | None
    visit_id: int | None = None
    visit: str | None = None

    @property
    def visit_role(self) -> str:
        """The organisation's role in the visit: 'visited' if it is the visited one, else participant."""
        return VISIT_ROLE.get(self.relation or "", "participant")


class Linker:
    """The catalogue's projects and visits, read once per import, and the file-level choices."""

    def __init__(self, db: sqlite_utils.Database, *, project: str | None = None, relation: str | None = None,
                 visit: str | None = None):
        self.projects: dict[str, tuple[int, str]] = {}
        self.slugs: dict[int, str] = {}
        for p in memberships.projects_by_name(db):
            self.slugs[p["id"]] = p["slug"]
            self.projects.setdefault(fold(p["slug"]), (p["id"], p["slug"]))
            for name in p["names"]:
                self.projects.setdefault(fold(name), (p["id"], p["slug"]))
        self.visits = {v["slug"]: v for v in memberships.visits_of(db)}
        self.by_title: dict[tuple[int, str], list[dict]] = {}
        for v in self.visits.values():
            for title in {v["title"], *v["titles"].values()}:
                self.by_title.setdefault((v["project_id"], fold(title)), []).append(v)
        if relation is not None and relation not in vocab.RELATIONS:
            raise LinkError(f"--relation must be one of {', '.join(vocab.RELATIONS)}, not '{relation}'")
        self.relation = relation
        self.project = None
        if project:
            if project not in {slug for _, slug in self.projects.values()}:
                raise LinkError(f"no project '{project}' (projects: {self.known()}); "
                                "create it with: mapapp project create SLUG --name NAME")
            self.project = self.projects[fold(project)]
        self.visit = None
        if visit:
            found = self.visits.get(visit)
            if found is None:
                known = ", ".join(sorted(self.visits)) or "none yet"
                raise LinkError(f"no visit '{visit}' (visits: {known}); create it with: "
                                "mapapp visit create PROJECT --title TITLE --date YYYY-MM-DD")
            if self.project and found["project_id"] != self.project[0]:
                raise LinkError(f"visit '{visit}' is of project '{found['project']}', not '{self.project[1]}'")
            self.visit = found
            self.project = self.project or (found["project_id"], found["project"])

    def known(self) -> str:
        """The projects' slugs, for a message."""
        return ", ".join(sorted(self.slugs.values())) or "none yet"

    @property
    def active(self) -> bool:
        """Whether the file-level choices link every row to something."""
        return self.project is not None

    def link(self, cells: dict, warn) -> Link | None | Message:
        """Where a row goes (None: nowhere); a ``Message`` when its project is unknown (the
        row is skipped). ``warn(field, message)`` hears of a visit that cannot be linked."""
        project = self.project
        if cells.get("project"):
            project = self.projects.get(fold(cells["project"]))
            if project is None:
                return Message(N_("no project '%(value)s' (by slug or name); the projects are: %(known)s. "
                                  "Correct the cell, or create the project first; row skipped"),
                               value=cells["project"], known=self.known())
        visit, wanted = self._visit(cells, project, warn)
        if visit is not None and project is None:
            project = (visit["project_id"], visit["project"])
        if project is None:
            if wanted:
                warn("visit", Message(N_("a visit is named but no project: add a project column or choose the "
                                         "project for the whole file; not linked")))
            return None
        relation = cells.get("relation") or self.relation
        if relation is None and visit is not None:
            relation = "participant"
        return Link(project[0], project[1], relation, visit and visit["id"], visit and visit["slug"])

    def _visit(self, cells: dict, project, warn) -> tuple[dict | None, bool]:
        title, date = cells.get("visit") or "", cells.get("visit_date")
        if not title and not date:
            if self.visit and (project is None or project[0] == self.visit["project_id"]):
                return self.visit, True
            return None, False
        if title in self.visits:
            found = self.visits[title]
            if project is not None and project[0] != found["project_id"]:
                warn("visit", Message(N_("visit '%(visit)s' is of project '%(of)s', not '%(project)s'; "
                                         "not linked to the visit"),
                                      visit=title, of=found["project"], project=project[1]))
                return None, True
            return found, True
        if project is None:
            return None, True
        candidates = self.by_title.get((project[0], fold(title)), []) if title else [
            v for v in self.visits.values() if v["project_id"] == project[0]]
        if date:
            candidates = [v for v in candidates if v["date"] == date]
        if len(candidates) == 1:
            return candidates[0], True
        said = " ".join(p for p in (title and f"'{title}'", date and f"on {date}") if p)
        if candidates:
            warn("visit", Message(N_("%(n)s visits of project '%(project)s' match %(visit)s; write the visit's "
                                     "slug (%(slugs)s); not linked to a visit"),
                                  n=len(candidates), project=project[1], visit=said,
                                  slugs=", ".join(v["slug"] for v in candidates)))
        else:
            warn("visit", Message(N_("project '%(project)s' has no visit %(visit)s; it is not created by an "
                                     "import (create it with: mapapp visit create %(project)s --title … --date …); "
                                     "not linked to a visit"), project=project[1], visit=said))
        return None, True


def write(db: sqlite_utils.Database, link: Link, org_id: int) -> None:
    """Store a row's link: its membership of the project, and of the visit."""
    memberships.set_membership(db, link.project_id, org_id, link.relation)
    if link.visit_id is not None:
        memberships.set_visit_role(db, link.visit_id, org_id, link.visit_role)
