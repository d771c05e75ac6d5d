"""Personal data the catalogue holds: what it keeps about one e-mail address (found by the
mailbox it reaches, see ``text.mailbox``), erasing it, and the retention limits (authors'
addresses of decided contributions, rate-limit rows and the client hashes they count by).

Each function runs inside the caller's transaction when there is one."""

from __future__ import annotations

import json

import sqlite_utils

from .base import now

# The site setting (``site_settings``) that puts organisations' e-mail and phone in bulk exports.
EXPORT_CONTACTS = "export_contacts"
# An owner's edit is audited as by ``owner:<address>``; once erased, by this.
ERASED_OWNER = "owner:erased"

_SAME = "mapapp_mailbox({column}) = mapapp_mailbox(?)"


def export_contacts(db: sqlite_utils.Database) -> bool:
    """Whether staff chose to put organisations' e-mail and phone in bulk exports (default: no)."""
    row = db.execute("SELECT value FROM site_settings WHERE key = ?", [EXPORT_CONTACTS]).fetchone()
    return bool(row and json.loads(row[0]))


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def held_about(db: sqlite_utils.Database, address: str) -> dict[str, list[dict]]:
    """Everything held about the mailbox of ``address``, by kind: ``contributions`` (as their
    author), ``subscriptions``, ``organisations`` (whose public e-mail it is), ``staff_accounts``,
    ``login_failures`` (failed sign-ins counted under the address), ``owner_edits`` (audit
    entries of edits made through an owner's link sent to it)."""
    same = _SAME.format
    contributions = _dicts(db.execute(
        "SELECT id, kind, state, organisation_id, proposal, note, email, lang, country, project, created_at,"
        f" confirmed_at, decided_at, reason FROM contributions WHERE {same(column='email')} ORDER BY id",  # nosec B608 # clause from code
        [address]))
    for row in contributions:
        row["proposal"] = json.loads(row["proposal"])
        # The pictures sent with it that wait for moderation (accepted ones are the organisation's).
        row["pictures"] = _dicts(db.execute(
            "SELECT id, role, alt, width, height, sha256, created_at FROM organisation_images"
            " WHERE contribution_id = ? ORDER BY id", [row["id"]]))
    return {
        "contributions": contributions,
        "subscriptions": _dicts(db.execute(
            "SELECT id, email, state, frequency, query, lang, created_at, confirmed_at, last_sent_at FROM subscriptions"
            f" WHERE {same(column='email')} ORDER BY id", [address])),  # nosec B608 # clause from code
        "organisations": _dicts(db.execute(
            "SELECT id, slug, name, status, email, phone, country FROM organisations"
            f" WHERE email != '' AND {same(column='email')} ORDER BY sort_key, name, id", [address])),  # nosec B608 # clause from code
        "staff_accounts": _dicts(db.execute(
            "SELECT id, email, role, active, created_at, last_login_at FROM users"
            f" WHERE {same(column='email')} ORDER BY id", [address])),  # nosec B608 # clause from code
        "login_failures": _dicts(db.execute(
            "SELECT failures, datetime(last_at, 'unixepoch') AS last_at FROM login_failures"
            " WHERE key GLOB 'account:*' AND mapapp_mailbox(substr(key, 9)) = mapapp_mailbox(?)", [address])),
        "owner_edits": _dicts(db.execute(
            "SELECT id, at, organisation_id, action FROM audit_log WHERE user_email GLOB 'owner:*'"
            " AND mapapp_mailbox(substr(user_email, 7)) = mapapp_mailbox(?) ORDER BY id", [address])),
    }


def erase_contributions(db: sqlite_utils.Database, address: str) -> int:
    """Forget the author's address on their contributions (those never confirmed are deleted:
    nothing was ever agreed to keep) and delete the pictures still pending with them; how many
    contributions."""
    same = _SAME.format(column="email")
    deleted = db.execute(f"DELETE FROM contributions WHERE state = 'unconfirmed' AND {same}", [address]).rowcount  # nosec B608 # clause from code
    # Pictures they sent that no moderator has accepted yet go too (they may show them).
    db.execute("DELETE FROM organisation_images WHERE contribution_id IN"  # nosec B608 # clause from code
               f" (SELECT id FROM contributions WHERE {same})", [address])
    blanked = db.execute(f"UPDATE contributions SET email = '', client = '' WHERE {same} AND email != ''",  # nosec B608 # clause from code
                         [address]).rowcount
    return deleted + blanked


def erase_subscriptions(db: sqlite_utils.Database, address: str) -> int:
    """Delete the subscriptions of the address; how many."""
    return db.execute(f"DELETE FROM subscriptions WHERE {_SAME.format(column='email')}", [address]).rowcount  # nosec B608 # clause from code


def erase_organisation_emails(db: sqlite_utils.Database, address: str) -> list[int]:
    """Empty the public e-mail of the organisations that show the address, and take it out of
    their history's snapshots (so that no Undo puts it back); their ids."""
    found = db.execute(f"SELECT id, email FROM organisations WHERE email != '' AND {_SAME.format(column='email')}",  # nosec B608 # clause from code
                       [address]).fetchall()
    at = now()
    for org_id, email in found:
        db.execute("UPDATE organisations SET email = '', updated_at = ? WHERE id = ?", [at, org_id])
        literal = json.dumps(email, ensure_ascii=False)  # as the audit log's JSON holds it
        db.execute("UPDATE audit_log SET before = replace(before, ?, '\"\"'), after = replace(after, ?, '\"\"')"
                   " WHERE organisation_id = ? AND (instr(before, ?) OR instr(after, ?))",
                   [literal, literal, org_id, literal, literal])
    return [org_id for org_id, _email in found]


def erase_traces(db: sqlite_utils.Database, address: str) -> int:
    """Forget the failed sign-ins counted under the address and the address naming the author of
    owners' edits in the audit log (the entries stay); how many rows."""
    failures = db.execute("DELETE FROM login_failures WHERE key GLOB 'account:*'"
                          " AND mapapp_mailbox(substr(key, 9)) = mapapp_mailbox(?)", [address]).rowcount
    owners = db.execute("UPDATE audit_log SET user_email = ? WHERE user_email GLOB 'owner:*'"
                        " AND mapapp_mailbox(substr(user_email, 7)) = mapapp_mailbox(?)", [ERASED_OWNER, address]).rowcount
    return failures + owners


# Retention ---------------------------------------------------------------------------------

def forget_decided_authors(db: sqlite_utils.Database, decided_before: str) -> int:
    """Blank the author's address (and client hash) of contributions decided before
    ``decided_before`` (ISO time); the contributions stay, for the history. How many."""
    return db.execute("UPDATE contributions SET email = '', client = '' WHERE state IN ('accepted', 'rejected')"
                      " AND decided_at < ? AND (email != '' OR client != '')", [decided_before]).rowcount


def expire_rate_limits(db: sqlite_utils.Database, *, before: str, before_epoch: float, now_epoch: float) -> dict[str, int]:
    """Delete the rate-limit rows of no more use: older than ``before`` (ISO time; ``before_epoch``
    the same in seconds since the epoch), used proof-of-work answers expired by ``now_epoch``;
    blank the client hashes older contributions and subscriptions were counted by. How many of each."""
    return {
        "login_failures": db.execute("DELETE FROM login_failures WHERE last_at < ?", [before_epoch]).rowcount,
        "used_challenges": db.execute("DELETE FROM used_challenges WHERE expires_at < ?", [int(now_epoch)]).rowcount,
        "owner_link_requests": db.execute("DELETE FROM owner_link_requests WHERE requested_at < ?", [before]).rowcount,
        "client_hashes": db.execute("UPDATE contributions SET client = '' WHERE client != '' AND created_at < ?",
                                    [before]).rowcount
        + db.execute("UPDATE subscriptions SET client = '' WHERE client != '' AND created_at < ?", [before]).rowcount,
    }
