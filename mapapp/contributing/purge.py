"""Retention: what the catalogue keeps about people, and for how long.

Contributions and subscriptions whose confirmation link expired (MAPAPP_CONFIRM_HOURS) hold
someone's e-mail address, perhaps given by someone else, and nothing anybody agreed to keep:
they are deleted. A decided contribution stays, for the history, but its author's address goes
after MAPAPP_RETENTION_DAYS. Rate-limit rows (failed sign-ins, edit links asked for, used
proof-of-work answers) and the hashed client addresses rows were counted by go once no limit
counts them any more. ``enforce_retention`` does all of it: the job worker runs it every hour,
``mapapp purge`` on demand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .. import catalogue
from ..catalogue import contributions, personaldata, subscriptions

# Every rate limit counts the last hour (the owners' links per client, the contributions per
# connection), and failed sign-ins wait at most 15 minutes: a day is plenty.
RATE_LIMITS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    """How many of each were deleted."""

    contributions: int
    subscriptions: int


@dataclass(frozen=True)
class Retention:
    """What one run of ``enforce_retention`` removed."""

    unconfirmed: Purged
    authors_forgotten: int  # decided contributions whose author's address was blanked
    rate_limits: dict[str, int]  # table (or ``client_hashes``) → rows removed or blanked

    def summary(self) -> str:
        """One line for the command line and the job's state."""
        limits = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in self.rate_limits.items())
        return (f"{self.unconfirmed.contributions} unconfirmed contribution(s) and {self.unconfirmed.subscriptions} "
                f"unconfirmed subscription(s) deleted; the author's e-mail removed from {self.authors_forgotten} "
                f"decided contribution(s); rate-limit rows expired: {limits}")


def purge_unconfirmed(db, now: datetime | None = None) -> Purged:
    """Delete the unconfirmed contributions and subscriptions whose link has expired (part of
    ``enforce_retention``, and run on each new contribution or subscription)."""
    at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with catalogue.write_transaction(db):
        return Purged(contributions.purge_unconfirmed(db, at), subscriptions.purge_unconfirmed(db, at))


def enforce_retention(db, *, retention_days: int, now: datetime | None = None) -> Retention:
    """Apply every retention limit (see the module's docstring) as of ``now``; what was removed."""
    now = now or datetime.now(timezone.utc)
    unconfirmed = purge_unconfirmed(db, now)
    decided_before = (now - timedelta(days=retention_days)).isoformat(timespec="seconds")
    limit_start = now - RATE_LIMITS_KEPT
    with catalogue.write_transaction(db):
        forgotten = personaldata.forget_decided_authors(db, decided_before)
        limits = personaldata.expire_rate_limits(db, before=limit_start.isoformat(timespec="seconds"),
                                                 before_epoch=limit_start.timestamp(), now_epoch=now.timestamp())
    return Retention(unconfirmed, forgotten, limits)
