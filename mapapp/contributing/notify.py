"""Messages to staff: the moderation digest (new contributions waiting, at most one an hour
per moderator, in their language, within their part of the queue) and the password-reset
link. Both are sent by the job worker (``jobs.queue``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .. import catalogue
from ..catalogue import contributions as store
from ..catalogue import users
from ..mail import Mail, MailError
from ..translate import gettext_in
from .flow import Settings
from .letters import Action, letter

log = logging.getLogger("mapapp.notify")
DIGEST_EVERY = timedelta(hours=1)
# A digest tells of the contributions confirmed before the second it starts in: one confirmed
# in that same second is told of by the next, so that none is told of twice or never. The job
# therefore runs a little after a confirmation.
AFTER_CONFIRMATION = 2.0
LISTED = 20  # contributions named in one digest; the rest are counted


@dataclass
class Sent:
    """What a run of the digests did: how many went, and when the next one falls due for a
    moderator who has news but had a digest less than an hour ago (None: nobody waits)."""

    sent: int = 0
    next_at: datetime | None = None


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def send_digests(db, settings: Settings, now: datetime | None = None) -> Sent:
    """E-mail each moderator who wants it, and had no digest in the last hour, the contributions
    of their part of the queue confirmed since their last digest."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    cutoff = _stamp(now)
    outcome = Sent()
    for moderator in users.moderators(db):
        limited = moderator["role"] != "admin"
        countries = tuple(c for c in moderator["scope_countries"].split(",") if c) if limited else ()
        projects = tuple(p for p in moderator["scope_projects"].split(",") if p) if limited else ()
        last = moderator["last_moderation_digest_at"]
        new = store.confirmed_between(db, since=last, before=cutoff, countries=countries, projects=projects,
                                      limit=LISTED + 1)
        if not new:
            continue
        if last is not None:
            due = datetime.fromisoformat(last) + DIGEST_EVERY
            if due > now:
                outcome.next_at = min(filter(None, (outcome.next_at, due)))
                continue
        with catalogue.write_transaction(db):
            claimed = users.claim_digest(db, moderator["id"], last, cutoff)
        if not claimed:  # another worker sent it meanwhile
            continue
        waiting = store.count_in(db, "pending", countries=countries, projects=projects)
        try:
            settings.mailer.send(digest(moderator["email"], moderator["lang"], site=settings.site, new=_named(db, new),
                                        waiting=waiting, queue=settings.link("moderation.queue",
                                                                             {"lang": moderator["lang"]}),
                                        account=settings.link("auth.account", {"lang": moderator["lang"]})))
        except MailError:
            with catalogue.write_transaction(db):
                users.set_last_digest(db, moderator["id"], last)  # the retry sends it
            raise
        outcome.sent += 1
    return outcome


def _named(db, items: list[dict]) -> list[dict]:
    """Each contribution with ``name``: the one it proposes, else the organisation's."""
    for item in items:
        org = catalogue.organisation_by_id(db, item["organisation_id"]) if item["organisation_id"] else None
        item["name"] = item["proposal"].get("values", {}).get("name") or (org or {}).get("name") or ""
    return items


def _item(item: dict, lang: str) -> str:
    if item["kind"] == "new":
        return gettext_in(lang, "New organisation: %(name)s", name=item["name"])
    if item["kind"] == "closed":
        return gettext_in(lang, "Closed: %(name)s", name=item["name"])
    return gettext_in(lang, "Correction: %(name)s", name=item["name"])


def digest(to: str, lang: str, *, site: str, new: list[dict], waiting: int, queue: str, account: str) -> Mail:
    """New contributions wait for a moderator (every value escaped by the HTML template)."""
    lines = [_item(item, lang) for item in new[:LISTED]]
    if len(new) > LISTED:
        lines.append(gettext_in(lang, "and more"))
    return letter(
        to, lang, gettext_in(lang, "New contributions to moderate on %(site)s", site=site),
        [gettext_in(lang, "New contributions were confirmed by their authors; %(n)s wait for a decision in "
                    "your part of the queue.", n=waiting), *lines],
        Action(queue, gettext_in(lang, "Open the moderation queue")),
        (gettext_in(lang, "You get at most one such message an hour. To stop them, or to change their "
                    "language: %(link)s", link=account),), footer=site)


def reset_link(to: str, lang: str, *, site: str, link: str, minutes: int) -> Mail:
    """The link that sets a new password, asked for on the sign-in page."""
    return letter(
        to, lang, gettext_in(lang, "A new password for %(site)s", site=site),
        [gettext_in(lang, "Hello,"),
         gettext_in(lang, "Someone asked, on the sign-in page of %(site)s, for a new password for the staff "
                    "account of this address.", site=site)],
        Action(link, gettext_in(lang, "Choose a new password")),
        (gettext_in(lang, "The link works once, for %(minutes)s minutes. If you did not ask for it, ignore this "
                    "message: your password stays as it is.", minutes=minutes),), footer=site)
