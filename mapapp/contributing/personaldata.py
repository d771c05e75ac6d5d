"""A person's data, on request (GDPR articles 15 and 17): everything the catalogue holds about
an e-mail address, as a report and as JSON, and its erasure.

An address is matched by the mailbox it reaches (``text.mailbox``: case and a ``+tag`` do not
count), so that ``Ana+map@Example.org`` finds what ``ana@example.org`` sent. Erasure removes
the author's address from contributions (they stay, for the history), deletes subscriptions,
and, only when staff confirm it, empties the e-mail of organisations that publish the address
(public data, published on purpose). Staff accounts are never deleted here: they are
deactivated on the users page. The audit log records each erasure by counts and a keyed hash
of the mailbox, never the address itself."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from .. import catalogue
from ..catalogue import audit, personaldata
from ..text import mailbox

ERASED_ACTION = "personal-data-erased"
EXPORTED_ACTION = "personal-data-exported"
ORGANISATION_ACTION = "personal-data:email-erased"
MAX_ADDRESS = 320  # RFC 5321's longest address


class PersonalDataError(ValueError):
    """An address that cannot be looked up."""


def checked(address: str) -> str:
    """``address`` stripped, or PersonalDataError when it is no e-mail address."""
    address = (address or "").strip()
    if len(address) > MAX_ADDRESS or "@" not in address or any(c in address for c in "\r\n\x00"):
        raise PersonalDataError("give an e-mail address, such as ana@example.org")
    return address


def reference(address: str, secret: str) -> str:
    """A keyed hash of the mailbox: the audit log names an erasure by it (whoever knows the
    address and the site's secret can tell it was erased; the log alone cannot)."""
    return hmac.new(secret.encode(), mailbox(address).encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Held:
    """What the catalogue holds about one mailbox, by kind (see ``catalogue.personaldata.held_about``)."""

    address: str
    found: dict[str, list[dict]]

    @property
    def empty(self) -> bool:
        """Nothing at all is held."""
        return not any(self.found.values())

    def counts(self) -> dict[str, int]:
        """How many of each kind."""
        return {kind: len(rows) for kind, rows in self.found.items()}

    def to_json(self) -> bytes:
        """The access report as JSON (UTF-8), for the person who asked."""
        body = {"address": self.address, "mailbox": mailbox(self.address),
                "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **self.found,
                "not_held": "rate limits count hashed network addresses, never e-mail addresses; owners' "
                            "edit links are not stored"}
        return json.dumps(body, ensure_ascii=False, indent=1, default=str).encode("utf-8")


def find(db, address: str) -> Held:
    """Everything held about ``address``'s mailbox."""
    address = checked(address)
    return Held(address, personaldata.held_about(db, address))


def export(db, address: str, *, by: str, secret: str) -> bytes:
    """The access report as JSON, its download audited (by the mailbox's hash)."""
    held = find(db, address)
    with catalogue.write_transaction(db):
        audit.record(db, by, EXPORTED_ACTION, None, None, {"ref": reference(held.address, secret), **held.counts()})
    return held.to_json()


@dataclass(frozen=True)
class Erased:
    """What an erasure removed."""

    contributions: int
    subscriptions: int
    organisations: int
    traces: int  # failed sign-ins and owners' edits no longer naming the address
    staff_accounts: int  # still there: to deactivate on the users page

    def as_dict(self) -> dict[str, int]:
        """The counts, as the audit log keeps them."""
        return {"contributions": self.contributions, "subscriptions": self.subscriptions,
                "organisations": self.organisations, "traces": self.traces}


def erase(db, address: str, *, by: str, secret: str, organisations: bool = False) -> Erased:
    """Erase what is held about ``address`` (organisations' public e-mails only with
    ``organisations``), in one transaction, audited without the address."""
    address = checked(address)
    with catalogue.write_transaction(db):
        contributions = personaldata.erase_contributions(db, address)
        subscriptions = personaldata.erase_subscriptions(db, address)
        org_ids = personaldata.erase_organisation_emails(db, address) if organisations else []
        for org_id in org_ids:  # an edit of each organisation, in its history; not to be undone
            audit.record(db, by, ORGANISATION_ACTION, org_id, None, {"email": ""})
        traces = personaldata.erase_traces(db, address)
        staff = len(personaldata.held_about(db, address)["staff_accounts"])
        erased = Erased(contributions, subscriptions, len(org_ids), traces, staff)
        audit.record(db, by, ERASED_ACTION, None, None, {"ref": reference(address, secret), **erased.as_dict()})
    return erased
