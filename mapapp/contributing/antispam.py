"""Anti-spam without third parties: an ALTCHA proof-of-work (each answer good for one
form), a honeypot field, rate limits per connection and per recipient's mailbox, and few links."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from datetime import datetime, timedelta, timezone

import altcha

from ..catalogue import contributions as store
from ..text import mailbox
from ..translate import N_, Message

ALGORITHM = "PBKDF2/SHA-256"
CHALLENGE_MINUTES = 20
MAX_LINKS = 2  # web addresses the name, description and note may hold together
# Subscriptions (active or waiting for confirmation) one mailbox may have: each asks for a
# confirmation e-mail, so without a cap anyone could flood someone else's mailbox.
SUBSCRIPTIONS_PER_ADDRESS = 5
_LINK = re.compile(r"(https?://|www\.)", re.I)
HONEYPOT = "homepage"  # a field people never see nor fill


def challenge(secret: str, cost: int) -> dict:
    """A signed challenge for the widget, valid CHALLENGE_MINUTES."""
    expires = int(time.time()) + CHALLENGE_MINUTES * 60
    return altcha.create_challenge(ALGORITHM, cost, expires_at=expires, hmac_secret=secret).to_dict()


def check_proof(db, payload: str, secret: str) -> str | None:
    """What is wrong with the widget's answer, or None when it is a fresh, correct one."""
    if not payload:
        return Message(N_("the anti-spam check did not run: wait until it says it is done (it needs JavaScript), "
                          "then send again"))
    try:
        result = altcha.verify_solution(payload, secret)
        signature = altcha.Payload.from_base64(payload).challenge.signature or ""
    except (ValueError, KeyError, TypeError):
        return Message(N_("the anti-spam answer could not be read; reload the page and send again"))
    if result.expired:
        return Message(N_("the anti-spam check expired; reload the page and send again"))
    if not result.verified:
        return Message(N_("the anti-spam answer is wrong; reload the page and send again"))
    now = int(time.time())
    if not store.use_challenge(db, signature, now + CHALLENGE_MINUTES * 60, now):
        return Message(N_("this anti-spam answer was already used; reload the page and send again"))
    return None


def client_key(address: str, secret: str) -> str:
    """The client's address, hashed with the site's secret (kept for rate limits, not as is).
    An IPv6 address counts as its /64: one connection is given a whole /64 to pick from."""
    return hashlib.sha256(f"{secret}|{client_network(address)}".encode()).hexdigest()[:32]


def client_network(address: str) -> str:
    """What rate limits count as one client: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def over_limit(db, *, client: str, email: str, per_hour: int) -> str | None:
    """Why one more contribution is refused now, or None."""
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    if store.recent_contributions(db, since=since, client=client) >= per_hour:
        return Message(N_("too many contributions from your connection in the last hour (%(n)s); "
                          "try again in an hour"), n=per_hour)
    if store.recent_contributions(db, since=since, email=mailbox(email)) >= per_hour:
        return Message(N_("too many contributions from this e-mail address in the last hour (%(n)s); "
                          "try again in an hour"), n=per_hour)
    return None


def too_many_links(*texts: str) -> bool:
    """Whether the texts (name, description, note…) hold more web addresses than MAX_LINKS together."""
    return sum(len(_LINK.findall(t or "")) for t in texts) > MAX_LINKS
