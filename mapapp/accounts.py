"""Staff accounts: users with roles, password checks, throttled sign-in, the audit log.

No Flask here: the CLI, the admin pages and tests call these functions directly.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("admin", "editor")
MIN_PASSWORD = 12
# After this many failures in a row, each further attempt waits longer (doubling),
# per account and per address; a success clears the account's count.
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 15 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A fixed hash to compare against when the account does not exist, so that the
# answer takes as long as for a real one.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class AccountError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    """A staff member."""

    id: int
    email: str
    role: str
    active: bool
    session_version: int = 1

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


_USER_COLUMNS = "id, email, role, active, session_version"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user(row) -> User | None:
    return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None


def create_user(db: sqlite_utils.Database, email: str, password: str | None, role: str) -> tuple[User, str | None]:
    """Create a user; without a password one is generated and returned (shown once)."""
    email = email.strip()
    if not _EMAIL.match(email):
        raise AccountError(f"'{email}' is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(15)
    check_password(password)
    if find_user(db, email=email):
        raise AccountError(f"a user {email} already exists")
    cursor = db.execute(
        "INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
        [email, generate_password_hash(password, method="scrypt"), role, _now()])
    return find_user(db, user_id=cursor.lastrowid), generated


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")


def find_user(db: sqlite_utils.Database, *, email: str | None = None, user_id: int | None = None) -> User | None:
    """A user by e-mail (any case) or id."""
    if email is not None:
        row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?", [email.strip()]).fetchone()  # nosec B608 # names and ? placeholders come from code; values are bound
    else:
        row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", [user_id]).fetchone()  # nosec B608 # names and ? placeholders come from code; values are bound
    return _user(row)


def list_users(db: sqlite_utils.Database) -> list[dict]:
    """Every user, for the admin page."""
    cursor = db.execute("SELECT id, email, role, active, created_at, last_login_at FROM users ORDER BY email")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r)) for r in cursor]


def update_user(db: sqlite_utils.Database, user_id: int, *, role: str | None = None,
                active: bool | None = None, acting: User) -> None:
    """Change a user's role or deactivate them; an admin cannot lock themselves out."""
    if user_id == acting.id and (active is False or (role and role != "admin")):
        raise AccountError("you cannot remove your own admin rights or deactivate yourself")
    if role is not None:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        db.execute("UPDATE users SET role = ?, session_version = session_version + 1 WHERE id = ?"
                   " AND role != ?", [role, user_id, role])
    if active is not None:
        db.execute("UPDATE users SET active = ?, session_version = session_version + 1 WHERE id = ?",
                   [int(active), user_id])


def end_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    """Sign the user out everywhere: every session opened before now stops working."""
    db.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", [user_id])


def _delay(failures: int, last_at: float, now: float) -> float:
    if failures < FREE_FAILURES:
        return 0.0
    return max(0.0, last_at + min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES + 1)) - now)


def throttle_delay(db: sqlite_utils.Database, keys: list[str], now: float | None = None) -> float:
    """Seconds left before another attempt is allowed for any of ``keys`` (0 if none)."""
    now = time.time() if now is None else now
    wait = 0.0
    for key in keys:
        row = db.execute("SELECT failures, last_at FROM login_failures WHERE key = ?", [key]).fetchone()
        if row:
            wait = max(wait, _delay(row[0], row[1], now))
    return wait


def authenticate(db: sqlite_utils.Database, email: str, password: str, address: str,
                 now: float | None = None) -> tuple[User | None, float]:
    """``(user, 0)`` when the password is right; ``(None, seconds to wait)`` otherwise.

    Failures are counted per account and per address and slow further attempts down.
    Each attempt is counted as a failure before its password is checked, in the same
    transaction as the check of the delay, so parallel attempts cannot all slip
    through one free slot; a right password takes the count back.
    """
    now = time.time() if now is None else now
    keys = [f"account:{email.strip().lower()}", f"address:{address}"]
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        wait = throttle_delay(db, keys, now)
        if wait == 0:
            for key in keys:
                db.execute("INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?)"
                           " ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
                           [key, now])
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
    if wait > 0:
        return None, wait
    row = db.execute(f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE email = ?",  # nosec B608 # names and ? placeholders come from code; values are bound
                     [email.strip()]).fetchone()
    good = check_password_hash(row[5] if row else _DUMMY_HASH, password)
    if row and good and row[3]:
        with db.conn:
            db.execute("DELETE FROM login_failures WHERE key = ?", [keys[0]])
            db.execute("UPDATE login_failures SET failures = max(failures - 1, 0) WHERE key = ?", [keys[1]])
            db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [_now(), row[0]])
        return _user(row[:5]), 0.0
    return None, throttle_delay(db, keys, now)


def audit(db: sqlite_utils.Database, user: User, action: str, organisation_id: int | None,
          before: dict | None = None, after: dict | None = None) -> None:
    """Record who changed what, with the previous values, so it can be undone."""
    db.execute("INSERT INTO audit_log (at, user_email, organisation_id, action, before, after)"
               " VALUES (?, ?, ?, ?, ?, ?)",
               [_now(), user.email, organisation_id, action,
                json.dumps(before, ensure_ascii=False) if before is not None else None,
                json.dumps(after, ensure_ascii=False) if after is not None else None])


def audit_entry(db: sqlite_utils.Database, entry_id: int) -> dict | None:
    """One audit entry by id."""
    found = audit_entries(db, entry_id=entry_id, limit=1)
    return found[0] if found else None


def audit_entries(db: sqlite_utils.Database, *, organisation_id: int | None = None, entry_id: int | None = None,
                  limit: int = 100) -> list[dict]:
    """The latest audit entries, newest first (for one organisation, or all)."""
    where, params = "", []
    if organisation_id:
        where, params = "WHERE organisation_id = ?", [organisation_id]
    elif entry_id is not None:
        where, params = "WHERE id = ?", [entry_id]
    cursor = db.execute(f"SELECT id, at, user_email, organisation_id, action, before, after FROM audit_log"  # nosec B608 # names and ? placeholders come from code; values are bound
                        f" {where} ORDER BY id DESC LIMIT ?", [*params, limit])
    columns = [d[0] for d in cursor.description]
    out = []
    for r in cursor:
        entry = dict(zip(columns, r))
        entry["before"] = json.loads(entry["before"]) if entry["before"] else None
        entry["after"] = json.loads(entry["after"]) if entry["after"] else None
        out.append(entry)
    return out
