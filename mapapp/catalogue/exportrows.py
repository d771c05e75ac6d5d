"""Reading the organisations of an export a batch at a time, so that a download starts at
once and holds one batch in memory, whatever the catalogue's size."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import sqlite_utils

from ..filters import Filters
from . import fields, images, visitreads
from .base import dict_rows
from .reads import _LIST_COLUMNS, _where

BATCH = 500  # organisations per batch: a few hundred kilobytes of CSV


def iter_export_batches(db: sqlite_utils.Database, filters: Filters, *, batch: int = BATCH) -> Iterator[list[dict]]:
    """Published organisations matching ``filters``, by name, as ``export_organisations``
    gives them (needs, offers, project slugs), in lists of at most ``batch``.

    One read transaction: every batch comes from the same state of the catalogue, even if
    it changes while a large download is being sent."""
    where, params = _where(filters)
    sql = f"SELECT {_LIST_COLUMNS} FROM organisations o WHERE {where} ORDER BY o.sort_key, o.name, o.id"  # nosec B608 # clauses from code; values bound
    conn = db.conn
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        cursor = conn.execute(sql, params)
        columns = None
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                break
            if columns is None:
                columns = cursor.description
            orgs = dict_rows(_Rows(columns, rows))
            yield _with_related(conn, orgs)
    finally:
        if began:
            try:
                conn.execute("ROLLBACK")  # read only: nothing to keep
            except sqlite3.ProgrammingError:
                pass  # a download given up after its request ended: closing the connection ended it


class _Rows:
    """Fetched rows with their cursor's description, as ``dict_rows`` reads them."""

    def __init__(self, description, rows):
        self.description, self._rows = description, rows

    def __iter__(self):
        return iter(self._rows)


def _with_related(conn, orgs: list[dict]) -> list[dict]:
    by_id = {o["id"]: o for o in orgs}
    for o in orgs:
        o.update(needs={}, offers={}, projects=[])
    marks = ", ".join("?" * len(by_id))
    ids = list(by_id)
    for org_id, kind, code, detail in conn.execute(
            "SELECT organisation_id, kind, resource, detail FROM organisation_resources"  # nosec B608 # placeholders only
            f" WHERE organisation_id IN ({marks}) ORDER BY resource", ids):
        by_id[org_id][f"{kind}s"][code] = detail
    for org_id, slug in conn.execute(
            "SELECT po.organisation_id, p.slug FROM project_organisations po JOIN projects p"  # nosec B608 # placeholders only
            f" ON p.id = po.project_id WHERE po.organisation_id IN ({marks}) ORDER BY p.slug", ids):
        by_id[org_id]["projects"].append(slug)
    visitreads.export_links(conn, by_id, marks, ids)
    fields.attach_public(conn, orgs)
    images.add_pictures_to(conn, by_id, marks, ids)
    return orgs
