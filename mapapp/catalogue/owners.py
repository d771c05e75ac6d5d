"""What is known of each organisation's owner links: their version (to revoke them), when
the entry was last confirmed by its owner, when they were last reminded."""

from __future__ import annotations

import sqlite_utils

from .base import now


def _ensure(db: sqlite_utils.Database, org_id: int) -> None:
    db.execute("INSERT OR IGNORE INTO organisation_owners (organisation_id) VALUES (?)", [org_id])


def link_version(db: sqlite_utils.Database, org_id: int) -> int:
    """The version owner links must carry to be accepted (1 until revoked)."""
    row = db.execute("SELECT link_version FROM organisation_owners WHERE organisation_id = ?", [org_id]).fetchone()
    return row[0] if row else 1


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
