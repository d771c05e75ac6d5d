"""Owners keep their own entry alive: a signed, expiring link sent to the organisation's
e-mail lets whoever reads it edit the entry without an account (published at once or
moderated, per MAPAPP_OWNER_EDITS), or say it is still correct; staff can revoke every
link of an organisation; ``mapapp remind-owners`` asks owners of stale entries to check."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import catalogue, vocab
from ..catalogue import audit, owners
from ..catalogue import contributions as store
from ..importing.importer import category_index
from ..importing.rows import check_record
from ..mail import MailError
from ..translate import N_, Message
from . import letters
from .changes import merge_changes
from .flow import LinkError, Refused, Settings, logo_of

SALT = "mapapp-owner-link"
LINK_INTERVAL_MINUTES = 15  # one edit link per organisation in this time, however asked for


class TooSoon(Refused):
    """An edit link went to this organisation minutes ago, or too many were asked for from
    this client, or the whole site, in the last hour."""


@dataclass(frozen=True)
class AskedFromPage:
    """Who asked for an edit link from an organisation's page, and how many such links one
    client and the whole site may have sent per hour (MAPAPP_OWNER_LINKS_PER_CLIENT, _PER_HOUR)."""

    client: str  # antispam.client_key
    per_client: int
    per_hour: int


_TOO_MANY = {
    "organisation": N_("an edit link was sent to this organisation's e-mail less than %(minutes)s minutes ago; "
                       "look for it in that mailbox (and its spam folder)"),
    "client": N_("too many edit links were asked for from your connection in the last hour (%(n)s); "
                 "try again in an hour"),
    "site": N_("too many edit links were asked for on this site in the last hour; try again in an hour"),
}


def _too_many(refusal: str, asked: AskedFromPage | None) -> Message:
    """Why ``reserve_link`` refused, for the person who asked."""
    if refusal == "organisation":
        return Message(_TOO_MANY[refusal], minutes=LINK_INTERVAL_MINUTES)
    if refusal == "client":
        return Message(_TOO_MANY[refusal], n=asked.per_client if asked else 0)
    return Message(_TOO_MANY[refusal])


def days_ago(days: int) -> str:
    """The catalogue's timestamp of ``days`` days ago."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")


def stale_before(days: int) -> str | None:
    """Entries last checked before this are stale (they fade on the map); None when
    ``days`` is 0 (MAPAPP_STALE_AFTER_DAYS: never)."""
    return days_ago(days) if days > 0 else None


def is_stale(checked: str | None, days: int) -> bool:
    """True when an entry last checked at ``checked`` is stale."""
    cutoff = stale_before(days)
    return bool(cutoff and checked and checked < cutoff)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def _binding(db, secret: str, org_id: int) -> str | None:
    """What a link is bound to, keyed with the secret (the token is signed, not hidden):
    the address it was sent to, so that a changed e-mail makes old links useless, and the
    organisation's creation time, which a later organisation never shares."""
    found = owners.link_binding(db, org_id)
    if found is None:
        return None
    email, created_at = found
    message = f"{org_id}|{created_at}|{email.strip().casefold()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def link_token(db, secret: str, org_id: int) -> str:
    """A token for this organisation's current links, to its current e-mail."""
    return _serializer(secret).dumps({"o": org_id, "v": owners.link_version(db, org_id),
                                      "b": _binding(db, secret, org_id)})


def organisation_of(db, secret: str, token: str, days: int) -> int:
    """The organisation a link lets its holder edit; ``LinkError`` when it is forged,
    expired or revoked."""
    try:
        data = _serializer(secret).loads(token, max_age=days * 86400)
    except SignatureExpired:
        raise LinkError(Message(N_("this edit link has expired; ask for a new one from the organisation's page"))) from None
    except BadSignature:
        raise LinkError(Message(N_("this edit link is not valid"))) from None
    org_id = data.get("o") if isinstance(data, dict) else None
    if not isinstance(org_id, int) or catalogue.organisation_by_id(db, org_id) is None:
        raise LinkError(Message(N_("the organisation of this edit link no longer exists")))
    if data.get("v") != owners.link_version(db, org_id):
        raise LinkError(Message(N_("this edit link was withdrawn; ask for a new one from the organisation's page")))
    binding = data.get("b")
    if not isinstance(binding, str) or not hmac.compare_digest(binding, _binding(db, secret, org_id) or ""):
        raise LinkError(Message(N_("this edit link was sent to an e-mail address the organisation no longer has; "
                                   "ask for a new one from the organisation's page")))
    return org_id


def send_link(db, org_id: int, lang: str, settings: Settings, days: int, *, make=letters.owner_link,
              asked: AskedFromPage | None = None) -> str:
    """E-mail the organisation's own address an edit link in the letter ``make`` writes (asked
    for from its page, a reminder, staff asking); returns that address. ``TooSoon`` when a
    link went there minutes ago, or when the page's asker (``asked``) or the whole site
    asked for too many in the last hour."""
    state = catalogue.organisation_state(db, org_id)
    email = state["values"]["email"] if state else ""
    if not email:
        raise Refused({"": Message(N_("this organisation has no e-mail address to send a link to; "
                                      "suggest a correction instead"))})
    now = datetime.now(timezone.utc)
    with catalogue.write_transaction(db):
        sent_at = owners.link_sent_at(db, org_id)
        refusal, request_id = owners.reserve_link(
            db, org_id, not_since=(now - timedelta(minutes=LINK_INTERVAL_MINUTES)).isoformat(timespec="seconds"),
            client=asked.client if asked else None, hour_ago=(now - timedelta(hours=1)).isoformat(timespec="seconds"),
            per_client=asked.per_client if asked else 0, per_hour=asked.per_hour if asked else 0)
    if refusal:
        raise TooSoon({"": _too_many(refusal, asked)})
    try:
        settings.mailer.send(make(email, lang, name=state["values"]["name"], site=settings.site, days=days,
                                  logo=logo_of(db, settings),
                                  link=settings.link("contribute.owner", {"token": link_token(db, settings.secret,
                                                                                               org_id)})))
    except Exception as e:
        with catalogue.write_transaction(db):  # it never left: asking again is no flood
            owners.release_link(db, org_id, sent_at, request_id)
        if isinstance(e, MailError):
            raise Refused({"": Message(N_("the e-mail could not be sent (%(error)s); try again later"),
                                       error=str(e))}) from e
        raise
    return email


def edit(db, org_id: int, raw: dict[str, str], *, publish: bool, lang: str) -> str:
    """The owner's changes: published at once ("published") or put in the moderation queue
    ("pending"). Raises ``Refused`` with what to fix."""
    check = check_record(raw, category_index(db))
    if check.problems:
        raise Refused(check.problems)
    with catalogue.write_transaction(db):
        current = catalogue.organisation_state(db, org_id)
        email = current["values"]["email"]
        if publish:
            target = merge_changes(current, check.values, check.related, lang)
            catalogue.restore_state(db, org_id, target)
            audit.record(db, f"owner:{email}", "edit", org_id, current, catalogue.organisation_state(db, org_id))
            owners.mark_checked(db, org_id)
            return "published"
        proposal = {"values": check.values, "related": check.related, "notes": [str(n) for n in check.notes]}
        cid = store.add_contribution(db, kind="correction", organisation_id=org_id, proposal=proposal,
                                     note="", email=email, lang=lang, token_hash=None, token_expires_at=None,
                                     client="owner", country=current["values"]["country"], project=None)
        store.confirm_contribution(db, cid)  # the link proved the address: no second e-mail
        owners.mark_checked(db, org_id)
        return "pending"


def still_correct(db, org_id: int) -> None:
    """The owner confirms the entry as it is."""
    with catalogue.write_transaction(db):
        owners.mark_checked(db, org_id)


def remind(db, settings: Settings, *, after_days: int, link_days: int, lang: str, limit: int = 1000) -> list[str]:
    """E-mail the owners of published entries not confirmed for ``after_days`` (and not
    reminded since); returns the addresses written to."""
    sent = []
    for org in owners.due_for_reminder(db, days_ago(after_days), limit):
        try:
            sent.append(send_link(db, org["id"], vocab.language_of_country(org["country"], lang), settings,
                                  link_days, make=letters.reminder))
        except TooSoon:
            continue  # a link went there minutes ago: the next run reminds them
        with catalogue.write_transaction(db):
            owners.mark_reminded(db, [org["id"]])
    return sent


@dataclass
class BulkLinks:
    """What sending edit links to many organisations did (ids), and the mail server's
    refusal that stopped it, if one did."""

    sent: list[int] = field(default_factory=list)
    no_email: list[int] = field(default_factory=list)
    recent: list[int] = field(default_factory=list)
    failed: Message | None = None


def send_links(db, org_ids: list[int], settings: Settings, days: int, *, lang: str) -> BulkLinks:
    """Staff send edit links to many organisations at once, each in its country's language
    (else ``lang``); a mail server that fails stops the run (those sent stay sent)."""
    out = BulkLinks()
    for org_id in org_ids:
        state = catalogue.organisation_state(db, org_id)
        if state is None or not state["values"]["email"]:
            out.no_email.append(org_id)
            continue
        try:
            send_link(db, org_id, vocab.language_of_country(state["values"]["country"] or "", lang), settings, days,
                      make=letters.check_request)
        except TooSoon:
            out.recent.append(org_id)
            continue
        except Refused as refused:
            out.failed = refused.problems[""]
            break
        out.sent.append(org_id)
    return out
