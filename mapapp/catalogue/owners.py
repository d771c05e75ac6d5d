"""What is known of each organisation's owner links: their version (to revoke them), when
the entry was last confirmed by its owner, when they were last reminded."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from .base import now


def _ensure(db: sqlite_utils.Database, org_id: int) -> None:
    db.execute("INSERT OR IGNORE INTO organisation_owners (organisation_id) VALUES (?)", [org_id])


def link_version(db: sqlite_utils.Database, org_id: int) -> int:
    """The version owner links must carry to be accepted (1 until revoked)."""
    row = db.execute("SELECT link_version FROM organisation_owners WHERE organisation_id = ?", [org_id]).fetchone()
    return row[0] if row else 1


def link_binding(db: sqlite_utils.Database, org_id: int) -> tuple[str, str] | None:
    """What an edit link is bound to: the organisation's e-mail and its creation time
    (None: no such organisation)."""
    row = db.execute("SELECT coalesce(email, ''), coalesce(created_at, '') FROM organisations WHERE id = ?",
                     [org_id]).fetchone()
    return (row[0], row[1]) if row else None


def revoke_links(db: sqlite_utils.Database, org_id: int) -> None:
    """Every owner link sent for this organisation stops working."""
    _ensure(db, org_id)
    db.execute("UPDATE organisation_owners SET link_version = link_version + 1 WHERE organisation_id = ?", [org_id])


def mark_checked(db: sqlite_utils.Database, org_id: int) -> None:
    """The owner said the entry is correct (or edited it) now."""
    _ensure(db, org_id)
    db.execute("UPDATE organisation_owners SET checked_at = ? WHERE organisation_id = ?", [now(), org_id])


def mark_link_sent(db: sqlite_utils.Database, org_id: int) -> None:
    """An edit link went to the organisation's e-mail now."""
    _ensure(db, org_id)
    db.execute("UPDATE organisation_owners SET link_sent_at = ? WHERE organisation_id = ?", [now(), org_id])


def reserve_link(db: sqlite_utils.Database, org_id: int, *, not_since: str, client: str | None = None,
                 hour_ago: str = "", per_client: int = 0, per_hour: int = 0) -> tuple[str | None, int | None]:
    """Note that an edit link goes to this organisation now, unless one went there since
    ``not_since`` ("organisation"), or, asked from its page by ``client``, that client
    ("client") or the whole site ("site") asked for ``per_client`` / ``per_hour`` since
    ``hour_ago``. Returns (that refusal, None), or (None, the noted request's id: None
    when no client).

    Run it inside ``write_transaction``: the check and the note are one write, so that
    parallel requests cannot all pass the check before any of them notes its send."""
    sent_at = link_sent_at(db, org_id)
    if sent_at and sent_at > not_since:
        return "organisation", None
    request_id = None
    if client is not None:
        day_ago = (datetime.fromisoformat(hour_ago) - timedelta(days=1)).isoformat(timespec="seconds")
        db.execute("DELETE FROM owner_link_requests WHERE requested_at < ?", [day_ago])  # of no more use
        if db.execute("SELECT count(*) FROM owner_link_requests WHERE client = ? AND requested_at >= ?",
                      [client, hour_ago]).fetchone()[0] >= per_client:
            return "client", None
        if db.execute("SELECT count(*) FROM owner_link_requests WHERE requested_at >= ?",
                      [hour_ago]).fetchone()[0] >= per_hour:
            return "site", None
        request_id = db.execute("INSERT INTO owner_link_requests (organisation_id, client, requested_at)"
                                " VALUES (?, ?, ?)", [org_id, client, now()]).lastrowid
    mark_link_sent(db, org_id)
    return None, request_id


def release_link(db: sqlite_utils.Database, org_id: int, sent_at: str | None, request_id: int | None) -> None:
    """The link reserved by ``reserve_link`` never left (the mail server failed): the
    organisation, and the client, may ask again."""
    db.execute("UPDATE organisation_owners SET link_sent_at = ? WHERE organisation_id = ?", [sent_at, org_id])
    if request_id is not None:
        db.execute("DELETE FROM owner_link_requests WHERE id = ?", [request_id])


def link_sent_at(db: sqlite_utils.Database, org_id: int) -> str | None:
    """When the last edit link went to the organisation's e-mail (None: never)."""
    row = db.execute("SELECT link_sent_at FROM organisation_owners WHERE organisation_id = ?", [org_id]).fetchone()
    return row[0] if row else None


def mark_reminded(db: sqlite_utils.Database, org_ids: list[int]) -> None:
    """A reminder was sent to these organisations' owners now."""
    stamp = now()
    for org_id in org_ids:
        _ensure(db, org_id)
        db.execute("UPDATE organisation_owners SET reminded_at = ? WHERE organisation_id = ?", [stamp, org_id])


def checked_at(db: sqlite_utils.Database, org_id: int) -> str:
    """When the entry was last confirmed: by its owner, else its last change."""
    row = db.execute("SELECT coalesce(w.checked_at, o.updated_at) FROM organisations o"
                     " LEFT JOIN organisation_owners w ON w.organisation_id = o.id WHERE o.id = ?", [org_id]).fetchone()
    return row[0] if row else ""


def checked_dates(db: sqlite_utils.Database, org_ids: list[int]) -> dict[int, str]:
    """``checked_at`` of each of these organisations."""
    out: dict[int, str] = {}
    for start in range(0, len(org_ids), 500):
        chunk = org_ids[start:start + 500]
        out.update(db.execute(
            "SELECT o.id, coalesce(w.checked_at, o.updated_at) FROM organisations o"  # nosec B608 # ? placeholders come from code; values are bound
            " LEFT JOIN organisation_owners w ON w.organisation_id = o.id"
            f" WHERE o.id IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
    return out


def due_for_reminder(db: sqlite_utils.Database, before: str, limit: int = 1000) -> list[dict]:
    """Published organisations with an e-mail, confirmed last before ``before`` and not
    reminded since then."""
    cursor = db.execute(
        "SELECT o.id, o.slug, o.name, o.email, coalesce(o.country, '') FROM organisations o"
        " LEFT JOIN organisation_owners w ON w.organisation_id = o.id"
        " WHERE o.status = 'published' AND o.email <> ''"
        " AND coalesce(w.checked_at, o.updated_at) < ? AND (w.reminded_at IS NULL OR w.reminded_at < ?)"
        " ORDER BY o.id LIMIT ?", [before, before, limit])
    return [dict(zip(("id", "slug", "name", "email", "country"), r)) for r in cursor]
