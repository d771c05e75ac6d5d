"""The fictional demo data's rows: which they are, taking them out whole, putting them back.

The demo's organisations have the source ``demo`` (``records.FICTIONAL_SOURCE``), and so
have its projects; its visits are those of its projects. Taking the demo out keeps every
row it deletes (a ``Dump``), so that putting it back restores them as they were, ids
included. Real organisations that were added to a demo project stay: only that membership
goes (and comes back with the demo).
"""

from __future__ import annotations

import sqlite_utils

from ..records import FICTIONAL_SOURCE
from .base import CatalogueError, next_id

# The tables a removal empties of demo rows, in the order they are put back (parents first).
# Organisations' owners, owner-link requests and proof of contact go with them (ON DELETE
# CASCADE) and come back with them.
TABLES = ("projects", "visits", "organisations", "organisation_themes", "organisation_resources",
          "organisation_descriptions", "organisation_owners", "owner_link_requests",
          "project_organisations", "visit_organisations")

_DEMO_ORGS = "SELECT id FROM organisations INDEXED BY organisations_source_status WHERE source = :demo"
_DEMO_PROJECTS = "SELECT id FROM projects WHERE source = :demo"
_DEMO_VISITS = f"SELECT id FROM visits WHERE project_id IN ({_DEMO_PROJECTS})"  # nosec B608 # constant SQL
# Which rows of each table belong to the demo.
_WHERE = {
    "projects": "source = :demo",
    "visits": f"project_id IN ({_DEMO_PROJECTS})",
    "organisations": "source = :demo",
    "organisation_themes": f"organisation_id IN ({_DEMO_ORGS})",
    "organisation_resources": f"organisation_id IN ({_DEMO_ORGS})",
    "organisation_descriptions": f"organisation_id IN ({_DEMO_ORGS})",
    "organisation_owners": f"organisation_id IN ({_DEMO_ORGS})",
    "owner_link_requests": f"organisation_id IN ({_DEMO_ORGS})",
    "project_organisations": f"project_id IN ({_DEMO_PROJECTS}) OR organisation_id IN ({_DEMO_ORGS})",
    "visit_organisations": f"visit_id IN ({_DEMO_VISITS}) OR organisation_id IN ({_DEMO_ORGS})",
}


class RestoreConflict(CatalogueError):
    """The demo cannot come back as it was: the message says which row is in the way."""


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """What taking the demo out would delete: organisations, projects, visits, and the
    real organisations that would lose their membership of a demo project or visit."""
    args = {"demo": FICTIONAL_SOURCE}
    one = lambda sql: db.execute(sql, args).fetchone()[0]  # noqa: E731
    return {
        "organisations": one(f"SELECT count(*) FROM ({_DEMO_ORGS})"),  # nosec B608 # constant SQL
        "projects": one(f"SELECT count(*) FROM ({_DEMO_PROJECTS})"),  # nosec B608 # constant SQL
        "visits": one(f"SELECT count(*) FROM ({_DEMO_VISITS})"),  # nosec B608 # constant SQL
        "real_members": one(
            "SELECT count(DISTINCT o.id) FROM organisations o WHERE o.source != :demo AND ("  # nosec B608 # constant SQL
            f" o.id IN (SELECT organisation_id FROM project_organisations WHERE project_id IN ({_DEMO_PROJECTS}))"
            f" OR o.id IN (SELECT organisation_id FROM visit_organisations WHERE visit_id IN ({_DEMO_VISITS})))"),
    }


def dump(db: sqlite_utils.Database) -> dict[str, dict]:
    """Every demo row of ``TABLES``: ``{table: {"columns": [...], "rows": [[...], ...]}}``, and
    ``contributions``: ``[[contribution id, organisation id], ...]``."""
    out = {}
    for table in TABLES:
        cursor = db.execute(f"SELECT * FROM {table} WHERE {_WHERE[table]} ORDER BY rowid",  # nosec B608 # names from code
                            {"demo": FICTIONAL_SOURCE})
        out[table] = {"columns": [d[0] for d in cursor.description], "rows": [list(r) for r in cursor]}
    # Contributions outlive the organisation they were about (their link is set to NULL):
    # the links, to set again.
    out["contributions"] = [list(r) for r in db.execute(
        f"SELECT id, organisation_id FROM contributions WHERE organisation_id IN ({_DEMO_ORGS})",  # nosec B608 # constant SQL
        {"demo": FICTIONAL_SOURCE})]
    return out


def delete(db: sqlite_utils.Database) -> None:
    """Delete the demo's projects (their visits and memberships go with them) and
    organisations (everything attached goes with them), inside the caller's transaction."""
    args = {"demo": FICTIONAL_SOURCE}
    db.execute("DELETE FROM projects WHERE source = :demo", args)
    db.execute("DELETE FROM organisations WHERE source = :demo", args)


def restore(db: sqlite_utils.Database, rows: dict[str, dict]) -> dict[str, int]:
    """Put a ``dump`` back, inside the caller's transaction; return how many organisations,
    projects and visits came back. A project or visit whose id was given since to another
    one comes back under a new id (its links follow); one whose address (slug) is taken
    now stops the restore (``RestoreConflict``): nothing is written."""
    renumbered: dict[str, dict[int, int]] = {"projects": {}, "visits": {}}
    for table in ("projects", "visits", "organisations"):
        columns = rows[table]["columns"]
        at_slug = columns.index("slug")
        for row in rows[table]["rows"]:
            if db.execute(f"SELECT 1 FROM {table} WHERE slug = ?", [row[at_slug]]).fetchone():  # nosec B608 # names from code
                raise RestoreConflict(f"cannot bring the demo back: the address '{row[at_slug]}' is used by "
                                      f"another entry of {table} now; rename it or delete it first")
    for table in TABLES:
        columns = rows[table]["columns"]
        for row in rows[table]["rows"]:
            values = dict(zip(columns, row))
            if table in renumbered and db.execute(
                    f"SELECT 1 FROM {table} WHERE id = ?", [values["id"]]).fetchone():  # nosec B608 # names from code
                renumbered[table][values["id"]] = values["id"] = next_id(db, table)
            for key, parent in (("project_id", "projects"), ("visit_id", "visits")):
                if key in values and values[key] in renumbered[parent]:
                    values[key] = renumbered[parent][values[key]]
            names = list(values)
            db.execute(f"INSERT INTO {table} ({', '.join(names)})"  # nosec B608 # names from the catalogue's own columns
                       f" VALUES ({', '.join('?' * len(names))})", list(values.values()))
    db.conn.executemany("UPDATE contributions SET organisation_id = ? WHERE id = ? AND organisation_id IS NULL",
                        [(org_id, contribution_id) for contribution_id, org_id in rows.get("contributions", [])])
    return {t: len(rows[t]["rows"]) for t in ("organisations", "projects", "visits")}


def fictional_ids(db: sqlite_utils.Database) -> list[int]:
    """The ids of the published demo organisations, in order (a few: read through the
    (source, status) index whatever the catalogue's size)."""
    return [r[0] for r in db.execute(
        "SELECT id FROM organisations INDEXED BY organisations_source_status"
        " WHERE source = ? AND status = 'published' ORDER BY id", [FICTIONAL_SOURCE])]


def project_has_fictional(db: sqlite_utils.Database, slug: str) -> bool:
    """Whether a project is the demo's or has a demo organisation among its members."""
    return db.execute(
        "SELECT EXISTS (SELECT 1 FROM projects p WHERE p.slug = :slug AND (p.source = :demo OR EXISTS ("
        " SELECT 1 FROM project_organisations po JOIN organisations o ON o.id = po.organisation_id"
        " WHERE po.project_id = p.id AND o.source = :demo)))",
        {"slug": slug, "demo": FICTIONAL_SOURCE}).fetchone()[0] == 1
