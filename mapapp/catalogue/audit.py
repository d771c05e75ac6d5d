"""The audit log: who changed what, with the values before, so that it can be undone."""

from __future__ import annotations

import json

import sqlite_utils

from .base import now
from .scope import clause as scope_clause


def _prefix(action_prefix: str) -> tuple[str, list[str]]:
    """A range over ``action`` (which its index serves, unlike LIKE) for a prefix."""
    return "action >= ? AND action < ?", [action_prefix, action_prefix[:-1] + chr(ord(action_prefix[-1]) + 1)]


def _encode(value: dict | None) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value is not None else None


def record(db: sqlite_utils.Database, user_email: str, action: str, organisation_id: int | None,
           before: dict | None = None, after: dict | None = None) -> None:
    """Write one entry (inside the caller's transaction, when there is one)."""
    db.execute("INSERT INTO audit_log (at, user_email, organisation_id, action, before, after)"
               " VALUES (?, ?, ?, ?, ?, ?)", [now(), user_email, organisation_id, action, _encode(before), _encode(after)])


def record_many(db: sqlite_utils.Database, user_email: str, entries: list[tuple[int, str, dict | None]]) -> None:
    """Write ``(organisation id, action, before)`` entries at once, in their order. Runs of
    entries with nothing before (an import's created organisations) go in as one statement
    over their ids: a tuple bound per entry was a third of the audit of a 100,000-row import."""
    at = now()
    start = 0
    while start < len(entries):
        action, before = entries[start][1], entries[start][2]
        end = start + 1
        if before is None:
            while end < len(entries) and entries[end][2] is None and entries[end][1] == action:
                end += 1
            db.conn.execute(
                "INSERT INTO audit_log (at, user_email, organisation_id, action, before, after)"
                " SELECT ?, ?, value, ?, NULL, NULL FROM json_each(?) ORDER BY key",
                [at, user_email, action, json.dumps([org_id for org_id, _, _ in entries[start:end]])])
        else:
            while end < len(entries) and entries[end][2] is not None:
                end += 1
            db.conn.executemany(
                "INSERT INTO audit_log (at, user_email, organisation_id, action, before, after)"
                " VALUES (?, ?, ?, ?, ?, NULL)",
                [(at, user_email, org_id, act, _encode(b)) for org_id, act, b in entries[start:end]])
        start = end


def entries(db: sqlite_utils.Database, *, organisation_id: int | None = None, entry_id: int | None = None,
            action: str | None = None, action_prefix: str | None = None, limit: int = 100,
            oldest_first: bool = False, scope: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> list[dict]:
    """The latest entries, newest first, narrowed by every condition given: one organisation,
    one entry, one exact ``action`` (``contribution:4`` is not ``contribution:40``), actions
    starting with ``action_prefix`` (which must end at a separator, as ``import:4:`` does),
    or the organisations of a partner's ``scope`` (countries, projects)."""
    clauses, params = [], []
    if organisation_id:
        clauses.append("a.organisation_id = ?")
        params.append(organisation_id)
    if entry_id is not None:
        clauses.append("a.id = ?")
        params.append(entry_id)
    if action is not None:
        clauses.append("a.action = ?")
        params.append(action)
    if action_prefix is not None:
        clause, bounds = _prefix(action_prefix)
        clauses.append("a." + clause.replace(" AND ", " AND a.", 1))
        params += bounds
    if scope[0] or scope[1]:  # a partner editor sees the history of their organisations only
        clause, scope_params = scope_clause("a.organisation_id", *scope)
        clauses.append(clause)
        params += scope_params
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    order = "ASC" if oldest_first else "DESC"
    # With the organisation's current name, so that the history says which one changed.
    cursor = db.execute("SELECT a.id, a.at, a.user_email, a.organisation_id, a.action, a.before, a.after,"  # nosec B608 # clauses from code
                        " o.name AS organisation_name, o.slug AS organisation_slug"
                        f" FROM audit_log a LEFT JOIN organisations o ON o.id = a.organisation_id"
                        f" {where} ORDER BY a.id {order} LIMIT ?", [*params, limit])
    columns = [d[0] for d in cursor.description]
    out = []
    for r in cursor:
        entry = dict(zip(columns, r))
        entry["before"] = json.loads(entry["before"]) if entry["before"] else None
        entry["after"] = json.loads(entry["after"]) if entry["after"] else None
        if entry["organisation_name"] is None:  # deleted since: the name it had
            entry["organisation_name"] = ((entry["before"] or {}).get("values") or {}).get("name")
        out.append(entry)
    return out


def count(db: sqlite_utils.Database, action_prefix: str) -> int:
    """How many entries have an action starting with ``action_prefix``."""
    clause, params = _prefix(action_prefix)
    return db.execute(f"SELECT count(*) FROM audit_log WHERE {clause}", params).fetchone()[0]  # nosec B608 # clause from code


def any_of(db: sqlite_utils.Database, action_prefix: str) -> bool:
    """Whether any entry has an action starting with ``action_prefix``."""
    clause, params = _prefix(action_prefix)
    return db.execute(f"SELECT EXISTS (SELECT 1 FROM audit_log WHERE {clause})", params).fetchone()[0] == 1  # nosec B608 # clause from code


def forget(db: sqlite_utils.Database, action_prefix: str) -> None:
    """Delete the entries of actions that were taken back before anyone could undo them."""
    clause, params = _prefix(action_prefix)
    db.execute(f"DELETE FROM audit_log WHERE {clause}", params)  # nosec B608 # clause from code


_NOT_CHANGES = ("updated_at", "created_at")


def changed_fields(before: dict | None, after: dict | None) -> list[str]:
    """The fields an audit entry changed (``name``, ``themes``…), in a stable order."""
    if not before or not after:
        return []
    out = []
    for part in ("values", "related"):
        old, new = before.get(part) or {}, after.get(part) or {}
        out += [k for k in new if k not in _NOT_CHANGES and old.get(k) != new.get(k)]
    out += [k for k in ("projects", "visits") if k in after and before.get(k) != after.get(k)]
    if "projects" not in out and "memberships" in after and (before.get("memberships") or {}) != after["memberships"]:
        out.append("memberships")  # same projects, another relation or role
    if "status" in after and "values" not in after and before.get("status") != after["status"]:
        out.append("status")
    return out


# Changes made by people here (staff edits and status changes, owners' edits, accepted
# corrections), as opposed to imports and syncs.
_BY_HAND = "(a.action = 'edit' OR a.action LIKE 'status:%' OR a.action LIKE 'contribution:%')"


def hand_edited(db: sqlite_utils.Database, org_ids: list[int]) -> dict[int, set[str]]:
    """For each of these organisations edited by hand, the fields that were: what a sync
    from their source must not overwrite."""
    out: dict[int, set[str]] = {}
    for start in range(0, len(org_ids), 500):
        chunk = org_ids[start:start + 500]
        for org_id, before, after in db.execute(
                "SELECT a.organisation_id, a.before, a.after FROM audit_log a"  # nosec B608 # ? placeholders come from code; values are bound
                f" WHERE a.organisation_id IN ({', '.join('?' * len(chunk))}) AND {_BY_HAND}", chunk):
            fields = changed_fields(json.loads(before) if before else None, json.loads(after) if after else None)
            if fields:
                out.setdefault(org_id, set()).update(fields)
    return out
