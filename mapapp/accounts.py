"""Staff accounts: users with roles, password rules, throttled sign-in, the audit log.

The rules live here, the SQL in ``catalogue.users`` and ``catalogue.audit``. No Flask:
the CLI, the admin pages and tests call these functions directly.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from . import vocab
from .catalogue import audit as audit_log
from .catalogue import reads as catalogue_reads
from .catalogue import users
from .translate import N_, Message
from .vocab import ROLES

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


def _user(row) -> User | None:
    return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None


def create_user(db: sqlite_utils.Database, email: str, password: str | None, role: str) -> tuple[User, str | None]:
    """Create a user; without a password one is generated and returned (shown once)."""
    email = email.strip()
    if not _EMAIL.match(email):
        raise AccountError(Message(N_("'%(email)s' is not an e-mail address"), email=email))
    if role not in ROLES:
        raise AccountError(Message(N_("role must be one of %(roles)s, not '%(role)s'"), roles=", ".join(ROLES), role=role))
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(15)
    check_password(password)
    if find_user(db, email=email):
        raise AccountError(Message(N_("a user %(email)s already exists"), email=email))
    user_id = users.insert_user(db, email, generate_password_hash(password, method="scrypt"), role)
    return find_user(db, user_id=user_id), generated


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(Message(N_("the password must have at least %(n)s characters"), n=MIN_PASSWORD))


def find_user(db: sqlite_utils.Database, *, email: str | None = None, user_id: int | None = None) -> User | None:
    """A user by e-mail (any case) or id."""
    return _user(users.user_row(db, email=email.strip() if email is not None else None, user_id=user_id))


list_users = users.list_users


def update_user(db: sqlite_utils.Database, user_id: int, *, role: str | None = None,
                active: bool | None = None, acting: User) -> None:
    """Change a user's role or deactivate them (their sessions end); an admin cannot lock
    themselves out."""
    if user_id == acting.id and (active is False or (role and role != "admin")):
        raise AccountError(Message(N_("you cannot remove your own admin rights or deactivate yourself")))
    if role is not None:
        if role not in ROLES:
            raise AccountError(Message(N_("role must be one of %(roles)s"), roles=", ".join(ROLES)))
        users.set_role(db, user_id, role)
    if active is not None:
        users.set_active(db, user_id, active)


end_sessions = users.end_sessions


def moderation_scope(db: sqlite_utils.Database, user: User) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The countries and projects ``user`` moderates; both empty for the whole queue
    (always so for admins)."""
    return ((), ()) if user.is_admin else users.scope(db, user.id)


@dataclass(frozen=True)
class Scope:
    """The part of the catalogue a staff member may change: organisations of ``countries``
    or of ``projects``; both empty for the whole catalogue."""

    countries: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        return bool(self.countries or self.projects)

    def covers(self, state: dict) -> bool:
        """Whether an organisation (as ``organisation_state`` gives it, or as a change would
        leave it) lies in this part: its country is one of ours, or one of its projects is."""
        if not self.limited:
            return True
        return (state["values"].get("country") in self.countries
                or any(p in self.projects for p in state.get("projects") or ()))


def scope_of(db: sqlite_utils.Database, user: User) -> Scope:
    """``user``'s part of the catalogue (the whole of it for admins and unlimited editors)."""
    return Scope(*moderation_scope(db, user))


def may_touch(db: sqlite_utils.Database, user: User, *states: dict | None) -> bool:
    """Whether ``user`` may change an organisation: every one of ``states`` (as it is stored
    and as the change would leave it; None: there is none) lies in their scope. Checking
    both stops a change from carrying an organisation into, or out of, someone's part."""
    scope = scope_of(db, user)
    return all(scope.covers(state) for state in states if state is not None)


def set_moderation_scope(db: sqlite_utils.Database, user_id: int, countries: str, projects: str) -> None:
    """Limit an editor's moderation to countries (ISO codes) or projects (slugs), given as
    comma-separated text; each is checked."""
    codes = tuple(dict.fromkeys(c.strip().upper() for c in countries.split(",") if c.strip()))
    slugs = tuple(dict.fromkeys(p.strip() for p in projects.split(",") if p.strip()))
    for code in codes:
        if not vocab.is_country(code):
            raise AccountError(Message(N_("'%(code)s' is not a country code (FR, IT, PL…)"), code=code))
    for slug in slugs:
        if not catalogue_reads.project_exists(db, slug):
            raise AccountError(Message(N_("there is no project '%(slug)s'"), slug=slug))
    users.set_scope(db, user_id, codes, slugs)


def _delay(rows: list[tuple[int, float]], now: float) -> float:
    """Seconds to wait, given ``(failures, last failure time)`` of each key."""
    wait = 0.0
    for failures, last_at in rows:
        if failures >= FREE_FAILURES:
            delay = min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES + 1))
            wait = max(wait, last_at + delay - now)
    return wait


def throttle_delay(db: sqlite_utils.Database, keys: list[str], now: float | None = None) -> float:
    """Seconds left before another attempt is allowed for any of ``keys`` (0 if none)."""
    return _delay(users.failures(db, keys), time.time() if now is None else now)


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
    wait = users.reserve_attempt(db, keys, now, lambda rows: _delay(rows, now))
    if wait > 0:
        return None, wait
    row = users.user_row(db, email=email.strip(), with_hash=True)
    good = check_password_hash(row[5] if row else _DUMMY_HASH, password)
    if row and good and row[3]:
        users.record_login(db, row[0], keys[0], keys[1])
        return _user(row[:5]), 0.0
    return None, throttle_delay(db, keys, now)


def audit(db: sqlite_utils.Database, user: User, action: str, organisation_id: int | None,
          before: dict | None = None, after: dict | None = None) -> None:
    """Record who changed what, with the previous values, so it can be undone."""
    audit_log.record(db, user.email, action, organisation_id, before, after)


def audit_entry(db: sqlite_utils.Database, entry_id: int) -> dict | None:
    """One audit entry by id."""
    found = audit_log.entries(db, entry_id=entry_id, limit=1)
    return found[0] if found else None


def audit_entries(db: sqlite_utils.Database, *, organisation_id: int | None = None, limit: int = 100,
                  scope: Scope = Scope()) -> list[dict]:
    """The latest audit entries, newest first (for one organisation, or all; only those of
    ``scope``'s organisations when it is limited)."""
    return audit_log.entries(db, organisation_id=organisation_id, limit=limit,
                             scope=(scope.countries, scope.projects))


def changed_fields(before: dict | None, after: dict | None) -> list[str]:
    """The fields an audit entry changed (``name``, ``themes``…), in a stable order."""
    return audit_log.changed_fields(before, after)
