"""Staff accounts: users with roles, password rules, throttled sign-in, password resets by
e-mail, each one's preferences (language, moderation digest), the audit log.

The rules live here, the SQL in ``catalogue.users`` and ``catalogue.audit``. No Flask:
the CLI, the admin pages and tests call these functions directly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from . import vocab
from .catalogue import audit as audit_log
from .catalogue import reads as catalogue_reads
from .catalogue import users
from .catalogue.base import write_transaction
from .translate import N_, Message
from .vocab import ROLES

MIN_PASSWORD = 12
# After this many failures in a row, each further attempt waits longer (doubling),
# per account and per address; a success clears the account's count.
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 15 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@cache
def _dummy_hash() -> str:
    """A fixed hash to compare against when the account does not exist, so that the answer
    takes as long as for a real one. Made at the first sign-in, not when the module is
    imported (0.1 s of every process that imports it, the job worker's and each test's)."""
    return generate_password_hash("not a real password", method="scrypt")


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
    lang: str = vocab.DEFAULT_LANGUAGE  # the language of their messages
    notify_moderation: bool = True  # whether they get the moderation digest

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row) -> User | None:
    return User(row[0], row[1], row[2], bool(row[3]), row[4], row[5], bool(row[6])) if row else None


def create_user(db: sqlite_utils.Database, email: str, password: str | None, role: str,
                lang: str = vocab.DEFAULT_LANGUAGE) -> tuple[User, str | None]:
    """Create a user (writing to them in ``lang``, the site's language unless said); without a
    password one is generated and returned (shown once)."""
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
    user_id = users.insert_user(db, email, generate_password_hash(password, method="scrypt"), role,
                                lang if lang in vocab.LANGUAGES else vocab.DEFAULT_LANGUAGE)
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
    dummy = _dummy_hash()  # before the look-up: the first sign-in pays for it whether the account exists or not
    row = users.user_row(db, email=email.strip(), with_hash=True)
    good = check_password_hash(row[-1] if row else dummy, password)
    if row and good and row[3]:
        users.record_login(db, row[0], keys[0], keys[1])
        return _user(row[:-1]), 0.0
    return None, throttle_delay(db, keys, now)


# -- one's own account ----------------------------------------------------------------------


def set_preferences(db: sqlite_utils.Database, user: User, *, lang: str, notify_moderation: bool) -> None:
    """The language a staff member is written to in, and whether they get the moderation digest."""
    if lang not in vocab.LANGUAGES:
        raise AccountError(Message(N_("choose one of the languages: %(langs)s"), langs=", ".join(vocab.LANGUAGES)))
    users.set_preferences(db, user.id, lang=lang, notify_moderation=notify_moderation)


def change_password(db: sqlite_utils.Database, user: User, current: str, new: str, repeated: str) -> User:
    """Change one's own password, knowing the current one; every other session ends (the
    account as it is now is returned, to keep this session open)."""
    row = users.user_row(db, user_id=user.id, with_hash=True)
    if row is None or not check_password_hash(row[-1], current):
        raise AccountError(Message(N_("the current password is not right")))
    _set_password(db, user.id, new, repeated)
    return find_user(db, user_id=user.id)


def _set_password(db: sqlite_utils.Database, user_id: int, new: str, repeated: str) -> None:
    if new != repeated:
        raise AccountError(Message(N_("the two new passwords differ")))
    check_password(new)
    users.set_password_hash(db, user_id, generate_password_hash(new, method="scrypt"))


# -- "forgot your password?" -----------------------------------------------------------------

RESET_MINUTES = 60  # a reset link works this long, once
RESETS_PER_HOUR = 5  # requests per client, and per address, in an hour


class ResetRefused(AccountError):
    """Too many reset requests; the message says when to try again."""


def _address_key(email: str, secret: str) -> str:
    return hashlib.sha256(f"{secret}|address|{email.strip().lower()}".encode()).hexdigest()[:32]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def request_reset(db: sqlite_utils.Database, email: str, *, client: str, secret: str) -> int:
    """Record a reset request; its id, for the job that e-mails the link (``issue_reset``).

    The same work whether or not ``email`` is an active account's (no mail leaves here, no
    answer differs): the page says the same either way. Limited to RESETS_PER_HOUR per
    client (hashed address) and per e-mail address, whether it exists or not."""
    now = datetime.now(timezone.utc)
    hour_ago = _stamp(now - timedelta(hours=1))
    address = _address_key(email, secret)
    with write_transaction(db):
        users.forget_resets(db, _stamp(now - timedelta(days=1)))
        if (users.recent_resets(db, since=hour_ago, client=client) >= RESETS_PER_HOUR
                or users.recent_resets(db, since=hour_ago, address=address) >= RESETS_PER_HOUR):
            raise ResetRefused(Message(N_("too many requests for a new password in the last hour; try again in "
                                          "an hour")))
        user = find_user(db, email=email) if _EMAIL.match(email.strip()) else None
        # A placeholder token (never sent): the job makes the link's own, bound to the password.
        return users.add_reset(db, user_id=user.id if user and user.active else None, address=address,
                               client=client, token_hash=secrets.token_hex(32),
                               expires_at=_stamp(now + timedelta(minutes=RESET_MINUTES)))


def _bound(secret: str, password_hash: str) -> str:
    """What is stored of a link: its secret hashed with the account's password hash of the day."""
    return hashlib.sha256(f"{secret}|{password_hash}".encode()).hexdigest()


@dataclass(frozen=True)
class ResetLink:
    """A reset link to send: to whom, in which language, its token (the page's address)."""

    email: str
    lang: str
    token: str


def issue_reset(db: sqlite_utils.Database, reset_id: int) -> ResetLink | None:
    """Make the link of request ``reset_id`` (new each time: an earlier one of the same request
    dies); None when it names no active account, or was used."""
    with write_transaction(db):
        row = users.reset_row(db, reset_id)
        if row is None or not row["active"] or row["used_at"]:
            return None
        secret = secrets.token_urlsafe(32)
        users.issue_reset(db, reset_id, _bound(secret, row["password_hash"]),
                          _stamp(datetime.now(timezone.utc) + timedelta(minutes=RESET_MINUTES)))
    return ResetLink(row["email"], row["lang"], f"{reset_id}.{secret}")


def _reset_of(db: sqlite_utils.Database, token: str) -> tuple[int, dict]:
    number, _sep, secret = token.partition(".")
    row = users.reset_row(db, int(number)) if number.isdigit() and len(number) < 19 and secret else None
    if (row is None or not row["active"] or row["used_at"]
            or row["expires_at"] < _stamp(datetime.now(timezone.utc))
            or not hmac.compare_digest(row["token_hash"], _bound(secret, row["password_hash"]))):
        raise AccountError(Message(N_("this link is not valid: it was used already, has expired, or the password "
                                      "was changed since; ask for a new one")))
    return int(number), row


def reset_account(db: sqlite_utils.Database, token: str) -> User:
    """The account a reset link is for; ``AccountError`` when the link cannot be used."""
    _number, row = _reset_of(db, token)
    return find_user(db, email=row["email"])


def reset_password(db: sqlite_utils.Database, token: str, new: str, repeated: str) -> User:
    """Follow a reset link: the new password (the usual rules), the link used, every session
    of the account ended, its failed sign-ins forgotten."""
    with write_transaction(db):
        number, row = _reset_of(db, token)
        user = find_user(db, email=row["email"])
        _set_password(db, user.id, new, repeated)
        users.use_reset(db, number)
        users.clear_failures(db, f"account:{user.email.lower()}")
    return user


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


def audit_entries_of(db: sqlite_utils.Database, action: str) -> list[dict]:
    """The audit entries of exactly ``action`` (``undo-bulk-status:4``), newest first."""
    return audit_log.entries(db, action=action, limit=100)


def changed_fields(before: dict | None, after: dict | None) -> list[str]:
    """The fields an audit entry changed (``name``, ``themes``…), in a stable order."""
    return audit_log.changed_fields(before, after)
