"""Forgetting what was never confirmed: contributions and subscriptions whose confirmation
link expired (MAPAPP_CONFIRM_HOURS) hold someone's e-mail address, perhaps given by someone
else, and nothing anybody agreed to keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .. import catalogue
from ..catalogue import contributions, subscriptions


@dataclass(frozen=True)
class Purged:
    """How many of each were deleted."""

    contributions: int
    subscriptions: int


def purge_unconfirmed(db, now: datetime | None = None) -> Purged:
    """Delete the unconfirmed contributions and subscriptions whose link has expired (run by
    ``mapapp purge`` from cron, and on each new contribution or subscription)."""
    at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with catalogue.write_transaction(db):
        return Purged(contributions.purge_unconfirmed(db, at), subscriptions.purge_unconfirmed(db, at))
