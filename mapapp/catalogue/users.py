"""Staff accounts and failed sign-ins: the ``users`` and ``login_failures`` tables."""

from __future__ import annotations

import sqlite_utils

from .base import now, write_transaction

USER_COLUMNS = ("id", "email", "role", "active", "session_version")
_SELECT = ", ".join(USER_COLUMNS)


def insert_user(db: sqlite_utils.Database, email: str, password_hash: str, role: str) -> int:
    """Add a user; return its id."""
    cursor = db.execute("INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                        [email, password_hash, role, now()])
    return cursor.lastrowid


def user_row(db: sqlite_utils.Database, *, email: str | None = None, user_id: int | None = None,
             with_hash: bool = False) -> tuple | None:
    """``USER_COLUMNS`` (and the password hash last, with ``with_hash``) of one user by
    e-mail (any case) or id."""
    columns = _SELECT + (", password_hash" if with_hash else "")
    if email is not None:
        return db.execute(f"SELECT {columns} FROM users WHERE email = ?", [email]).fetchone()  # nosec B608 # column names from code
    return db.execute(f"SELECT {columns} FROM users WHERE id = ?", [user_id]).fetchone()  # nosec B608 # column names from code


def scope(db: sqlite_utils.Database, user_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The countries and projects a user moderates (both empty: everything)."""
    row = db.execute("SELECT scope_countries, scope_projects FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None:
        return (), ()
    return tuple(c for c in row[0].split(",") if c), tuple(p for p in row[1].split(",") if p)


def set_scope(db: sqlite_utils.Database, user_id: int, countries: tuple[str, ...], projects: tuple[str, ...]) -> None:
    """Limit what a user moderates to these countries or projects (none: everything)."""
    db.execute("UPDATE users SET scope_countries = ?, scope_projects = ? WHERE id = ?",
               [",".join(countries), ",".join(projects), user_id])


def list_users(db: sqlite_utils.Database) -> list[dict]:
    """Every user, for the admin page."""
    cursor = db.execute("SELECT id, email, role, active, created_at, last_login_at, scope_countries, scope_projects"
                        " FROM users ORDER BY email")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r)) for r in cursor]


def set_role(db: sqlite_utils.Database, user_id: int, role: str) -> None:
    """Change a user's role; their open sessions end if it changes."""
    db.execute("UPDATE users SET role = ?, session_version = session_version + 1 WHERE id = ? AND role != ?",
               [role, user_id, role])


def set_active(db: sqlite_utils.Database, user_id: int, active: bool) -> None:
    """Deactivate or reactivate a user; their open sessions end."""
    db.execute("UPDATE users SET active = ?, session_version = session_version + 1 WHERE id = ?",
               [int(active), user_id])


def end_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    """Every session opened before now stops working."""
    db.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", [user_id])


def record_login(db: sqlite_utils.Database, user_id: int, account_key: str, address_key: str) -> None:
    """A right password: clear the account's failures, take back the address's reserved one."""
    with db.conn:
        db.execute("DELETE FROM login_failures WHERE key = ?", [account_key])
        db.execute("UPDATE login_failures SET failures = max(failures - 1, 0) WHERE key = ?", [address_key])
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [now(), user_id])


def failures(db: sqlite_utils.Database, keys: list[str]) -> list[tuple[int, float]]:
    """``(failures, time of the last)`` for each of ``keys`` that has any."""
    marks = ", ".join("?" * len(keys))
    return db.execute(f"SELECT failures, last_at FROM login_failures WHERE key IN ({marks})", keys).fetchall()  # nosec B608 # ? placeholders only


def reserve_attempt(db: sqlite_utils.Database, keys: list[str], at: float, delay) -> float:
    """In one write transaction: the wait ``delay(failures)`` still imposes on ``keys``; when
    there is none, count this attempt as a failure of each key (taken back on success).
    Parallel attempts therefore see each other's counts."""
    with write_transaction(db):
        wait = delay(failures(db, keys))
        if wait == 0:
            db.conn.executemany(
                "INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?)"
                " ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
                [(key, at) for key in keys])
    return wait
