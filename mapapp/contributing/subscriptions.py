"""Subscriptions: a visitor asks to hear of new organisations matching the map's filters
and area, confirms by e-mail (double opt-in), and gets a daily or weekly digest, each with
a one-click unsubscribe (List-Unsubscribe, RFC 8058)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl, urlencode

from werkzeug.datastructures import MultiDict

from .. import catalogue, kinds
from ..catalogue import fields as field_store
from ..catalogue import subscriptions as store
from ..errors import BadRequest
from ..filters import Filters
from ..importing.normalise import parse_email
from ..translate import N_, Message
from . import antispam, letters
from .flow import Refused, Settings, logo_of, token_hash, usable_link
from .purge import purge_unconfirmed

log = logging.getLogger(__name__)

FREQUENCIES = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
DIGEST_SIZE = 50


def clean_query(args) -> str:
    """The filters and area of a map view as a query string (checked: a bad one raises
    the same error the map's API gives)."""
    return urlencode(Filters.from_args(args).to_args())


def filters_of(query: str) -> Filters:
    """The filters a subscription's query string holds, without the values staff took away
    since (a retired category, a field's removed choice); ``BadRequest`` when a filter has
    no value left: the view it named is gone, and widening it would send what was not asked for."""
    args = MultiDict(parse_qsl(query))
    for _attempt in range(len(args) + 1):
        try:
            return Filters.from_args(args)
        except BadRequest as e:
            kind = next((k for k in kinds.registry() if k.name == e.parameter), None)
            if kind is None:
                raise
            kept = [v for raw in args.getlist(kind.name) for v in (w.strip() for w in raw.split(","))
                    if v and kind.vocabulary.check(kind.name, kind.vocabulary.canonical(v)) is None]
            if not kept:
                raise
            args.setlist(kind.name, [",".join(kept)])
    return Filters.from_args(args)


def subscribe(db, *, email: str, lang: str, query: str, frequency: str, client: str, proof: str,
              settings: Settings) -> int:
    """Store an unconfirmed subscription and send the link that confirms it."""
    problems = {}
    address, problem = parse_email(email)
    if not address:
        problems["email"] = problem or Message(N_("your e-mail address is needed"))
    if frequency not in FREQUENCIES:
        problems["frequency"] = Message(N_("choose daily or weekly"))
    if not problems:
        proof_problem = antispam.check_proof(db, proof, settings.secret)
        if proof_problem:
            problems["altcha"] = proof_problem
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    if not problems and store.recent(db, client, since) >= settings.per_hour:
        problems[""] = Message(N_("too many subscriptions from your connection in the last hour; try again later"))
    if not problems:
        purge_unconfirmed(db)  # expired requests do not count against the address
        if store.held_by(db, address) >= antispam.SUBSCRIPTIONS_PER_ADDRESS:
            problems["email"] = Message(N_("this address already has %(n)s subscriptions; stop one (each digest "
                                           "has the link) before asking for another"),
                                        n=antispam.SUBSCRIPTIONS_PER_ADDRESS)
    if problems:
        raise Refused(problems)
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(timezone.utc) + timedelta(hours=settings.confirm_hours)).isoformat(timespec="seconds")
    with catalogue.write_transaction(db):
        sid = store.add_subscription(db, email=address, lang=lang, query=query, frequency=frequency,
                                     token_hash=token_hash(token), token_expires_at=expires,
                                     unsubscribe_key=secrets.token_urlsafe(24), client=client)
    settings.mailer.send(letters.confirm_subscription(
        address, lang, site=settings.site, logo=logo_of(db, settings), hours=settings.confirm_hours,
        link=settings.link("subscribe.confirm", {"token": token}),
        view=settings.link("views.index", _args(query))))
    return sid


def _args(query: str) -> dict:
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(query).items()}


def confirm(db, token: str) -> dict:
    """Follow the confirmation link: digests start."""
    found = usable_link(store.by_token(db, token_hash(token)),
                        Message(N_("this confirmation link has expired; subscribe again")))
    with catalogue.write_transaction(db):
        store.activate(db, found["id"])
    return found


def unsubscribe(db, key: str) -> bool:
    """Stop a subscription (True), or say it was already stopped (False)."""
    found = store.by_unsubscribe_key(db, key)
    if found is None:
        return False
    with catalogue.write_transaction(db):
        store.delete(db, found["id"])
    return True


def send_digests(db, settings: Settings, frequency: str, now: datetime | None = None) -> int:
    """Send every due digest of ``frequency`` that has something new; returns how many."""
    with kinds.fields_from(lambda: field_store.filter_kinds(db)):  # a view's f-<slug> filters hold
        return _send_digests(db, settings, frequency, now)


def _send_digests(db, settings: Settings, frequency: str, now: datetime | None) -> int:
    now = now or datetime.now(timezone.utc)
    stamp = now.isoformat(timespec="seconds")
    sent = 0
    logo = logo_of(db, settings)
    for sub in store.due(db, frequency, (now - FREQUENCIES[frequency] + timedelta(minutes=5)).isoformat(timespec="seconds")):
        try:
            filters = filters_of(sub["query"])
        except BadRequest:
            log.warning("subscription %s: its view names nothing the map still has; no digest", sub["id"])
            continue
        new = store.new_since(db, filters, sub["last_sent_at"], DIGEST_SIZE + 1)
        if new:
            unsubscribe_url = settings.link("subscribe.unsubscribe", {"key": sub["unsubscribe_key"]})
            settings.mailer.send(letters.digest(
                sub["email"], sub["lang"], site=settings.site, logo=logo, items=[
                    (o["name"], o["city"], settings.link("views.organisation", {"slug": o["slug"]}))
                    for o in new[:DIGEST_SIZE]], more=len(new) > DIGEST_SIZE,
                view=settings.link("views.index", _args(sub["query"])), unsubscribe=unsubscribe_url))
            sent += 1
        with catalogue.write_transaction(db):
            store.mark_sent(db, sub["id"], stamp)
    return sent
