"""Organisations asked by their ids are found by their ids (issue 31): SQLite chose to scan the
published ones' sort index for a list page's twenty ids (50 ms at 200,000, not 0.1 ms)."""

from __future__ import annotations

from mapapp import catalogue
from mapapp.catalogue import mapdata


def _plans(db, read) -> list[str]:
    asked: list[str] = []
    db.conn.set_trace_callback(asked.append)
    try:
        read()
    finally:
        db.conn.set_trace_callback(None)
    plans = []
    for sql in asked:
        if sql.lstrip().upper().startswith("SELECT"):
            plans += [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    return plans


def test_a_list_page_and_a_patch_read_organisations_by_their_ids(db):
    ids = [catalogue.save_organisation(db, {"name": f"Cooperative {n}", "city": "Lyon", "country": "FR",
                                            "lat": 45.7, "lon": 4.8, "status": "published"}).id
           for n in range(30)]
    for read in (lambda: mapdata.organisations_by_ids(db, ids[:20]), lambda: mapdata.map_rows(db, ids[:20]),
                 lambda: mapdata.map_memberships(db, ids[:20])):
        plans = _plans(db, read)
        assert plans and not [p for p in plans if "organisations_published_sort" in p], plans
        assert any("SEARCH o USING INTEGER PRIMARY KEY" in p or "SEARCH organisations USING INTEGER PRIMARY KEY" in p
                   for p in plans), plans
