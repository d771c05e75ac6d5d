"""Staff accounts, failed sign-ins and password resets: the ``users``, ``login_failures`` and
``password_resets`` tables."""

from __future__ import annotations

import sqlite_utils

from .base import now, write_transaction

USER_COLUMNS = ("id", "email", "role", "active", "session_version", "lang", "notify_moderation")
_SELECT = ", ".join(USER_COLUMNS)


def insert_user(db: sqlite_utils.Database, email: str, password_hash: str, role: str, lang: str = "en") -> int:
    """Add a user; return its id."""
    cursor = db.execute("INSERT INTO users (email, password_hash, role, lang, created_at) VALUES (?, ?, ?, ?, ?)",
                        [email, password_hash, role, lang, now()])
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


def set_preferences(db: sqlite_utils.Database, user_id: int, *, lang: str, notify_moderation: bool) -> None:
    """A staff member's language and whether they want the moderation digest."""
    db.execute("UPDATE users SET lang = ?, notify_moderation = ? WHERE id = ?", [lang, int(notify_moderation), user_id])


def set_password_hash(db: sqlite_utils.Database, user_id: int, password_hash: str) -> None:
    """A new password: every open session ends, every reset link dies (see ``reset_row``)."""
    db.execute("UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
               [password_hash, user_id])
    db.execute("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", [now(), user_id])


def clear_failures(db: sqlite_utils.Database, account_key: str) -> None:
    """Forget an account's failed sign-ins (its password was just reset)."""
    db.execute("DELETE FROM login_failures WHERE key = ?", [account_key])


# -- moderators ------------------------------------------------------------------------------


def moderators(db: sqlite_utils.Database) -> list[dict]:
    """Active staff who want the moderation digest: id, email, role, lang, scope, last digest."""
    cursor = db.execute("SELECT id, email, role, lang, scope_countries, scope_projects, last_moderation_digest_at"
                        " FROM users WHERE active = 1 AND notify_moderation = 1 ORDER BY id")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r)) for r in cursor]


def claim_digest(db: sqlite_utils.Database, user_id: int, previous: str | None, at: str) -> bool:
    """Note a digest sent at ``at``, unless another one was noted since ``previous`` was read
    (two workers never send the same digest twice)."""
    return db.execute("UPDATE users SET last_moderation_digest_at = ? WHERE id = ?"
                      " AND last_moderation_digest_at IS ?", [at, user_id, previous]).rowcount == 1


def set_last_digest(db: sqlite_utils.Database, user_id: int, at: str | None) -> None:
    """Put back the time of the last digest (one that could not be sent)."""
    db.execute("UPDATE users SET last_moderation_digest_at = ? WHERE id = ?", [at, user_id])


# -- password resets -------------------------------------------------------------------------


def add_reset(db: sqlite_utils.Database, *, user_id: int | None, address: str, client: str, token_hash: str,
              expires_at: str) -> int:
    """Record a "forgot your password?" request (``user_id`` None: no active account); its id."""
    return db.execute("INSERT INTO password_resets (user_id, address, token_hash, expires_at, client, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)", [user_id, address, token_hash, expires_at, client, now()]).lastrowid


def recent_resets(db: sqlite_utils.Database, *, since: str, client: str | None = None,
                  address: str | None = None) -> int:
    """How many requests came from ``client``, or named ``address``, since ``since``."""
    if client is not None:
        return db.execute("SELECT count(*) FROM password_resets WHERE client = ? AND created_at >= ?",
                          [client, since]).fetchone()[0]
    return db.execute("SELECT count(*) FROM password_resets WHERE address = ? AND created_at >= ?",
                      [address, since]).fetchone()[0]


def forget_resets(db: sqlite_utils.Database, before: str) -> None:
    """Requests made before ``before`` no longer count nor work: deleted."""
    db.execute("DELETE FROM password_resets WHERE created_at < ?", [before])


def reset_row(db: sqlite_utils.Database, reset_id: int) -> dict | None:
    """A request with its account: user_id, token_hash, expires_at, used_at, the account's
    email, lang, active and password hash (None for a request without an account)."""
    cursor = db.execute("SELECT r.user_id, r.token_hash, r.expires_at, r.used_at, u.email, u.lang, u.active,"
                        " u.password_hash FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.id = ?",
                        [reset_id])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def issue_reset(db: sqlite_utils.Database, reset_id: int, token_hash: str, expires_at: str) -> None:
    """The link of a request is made: its token's hash and its end."""
    db.execute("UPDATE password_resets SET token_hash = ?, expires_at = ? WHERE id = ? AND used_at IS NULL",
               [token_hash, expires_at, reset_id])


def use_reset(db: sqlite_utils.Database, reset_id: int) -> bool:
    """A link works once: False if it was used already."""
    return db.execute("UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL",
                      [now(), reset_id]).rowcount == 1
