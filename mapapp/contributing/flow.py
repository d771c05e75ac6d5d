"""A contribution's life: sent in (checked like an import row, anti-spam), confirmed by
the link e-mailed to its author, then accepted (written to the catalogue, audited),
rejected with a reason, or its decision undone. The author is told each time, in the
language they wrote in."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import brand, catalogue, images
from .. import fields as field_rules
from ..catalogue import audit
from ..catalogue import contributions as store
from ..catalogue import fields as field_store
from ..catalogue import images as picture_store
from ..catalogue import site as site_store
from ..importing.importer import category_index
from ..importing.normalise import parse_email
from ..importing.rows import check_record
from ..mail import Mailer, MailError
from ..translate import N_, Message
from . import antispam, letters
from .changes import changed_since, merge_changes, reverted
from .purge import purge_unconfirmed

log = logging.getLogger("mapapp.contributions")
SOURCE = "contributions"  # the source of organisations added through the form
MAX_NOTE = 2000


class Refused(Exception):
    """The contribution is not taken; ``problems`` says what to fix, per form field
    ("" for the form as a whole)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in problems.items()))
        self.problems = problems


class OutOfScope(Refused):
    """The staff member's scope does not cover the organisation, as stored or as the
    decision would leave it."""

    def __init__(self):
        super().__init__({"": Message(N_("this organisation is outside the part of the catalogue you look after"))})


class LinkError(Exception):
    """A confirmation link that cannot be used (unknown, used, expired); the message says so."""


@dataclass
class Submission:
    """What a visitor sent in."""

    kind: str  # new, correction or closed
    raw: dict[str, str]  # import field names → text, as the cells of a row
    contact: str  # the author's e-mail (never shown publicly)
    lang: str
    client: str  # the author's address, hashed (antispam.client_key)
    note: str = ""  # to the moderators
    organisation_id: int | None = None  # the organisation corrected or closed
    project: str | None = None  # the embed's project, for partner moderators
    honeypot: str = ""
    proof: str = ""  # the ALTCHA widget's answer
    fields: dict[str, list[str]] = field(default_factory=dict)  # the network's public fields: slug → values as typed
    # A logo and photos sent with it: (form field, role "logo" or "photo", file bytes, alt text),
    # kept pending with the contribution until a moderator accepts it.
    pictures: tuple[tuple[str, str, bytes, str], ...] = ()
    picture_max_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What the flow needs from the site's configuration."""

    secret: str
    site: str
    per_hour: int
    confirm_hours: int
    mailer: Mailer
    link: Callable[[str, dict], str]  # (endpoint name, values) → absolute URL
    # (values) → (lat, lon, precision, source) or None: places an accepted organisation
    # that came without a pin, or whose address changed without one.
    locate: Callable[[dict], tuple | None] | None = None


def settings_from(config, link: Callable[[str, dict], str], *, site_name: str | None = None) -> Settings:
    """The flow's settings from the site's configuration (``MAPAPP_*``), with ``link``
    making absolute addresses (the web pages' and the command line's own) and the site's
    name as staff set it (``site_name``; the operator's ``MAPAPP_SITE_NAME`` without)."""
    return Settings(secret=config["SECRET_KEY"], site=site_name or config["SITE_NAME"], per_hour=config["CONTRIBUTIONS_PER_HOUR"],
                    confirm_hours=config["CONFIRM_HOURS"], link=link,
                    mailer=Mailer(config["MAIL_FROM"], config["SMTP_URL"], Path(config["OUTBOX_DIR"])))


def logo_of(db, settings: Settings) -> str:
    """The site's logo as e-mails show it: its absolute address on the public address, or ""."""
    return brand.logo_address(site_store.read_file_info(db, brand.LOGO), settings.link)


def token_hash(token: str) -> str:
    """What is stored of a link's token: its hash (a stolen catalogue confirms nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def usable_link(found: dict | None, expired: str) -> dict:
    """The row a confirmation link found, if the link can still be used; else ``LinkError``
    (``expired`` says what to do about an expired one)."""
    if found is None:
        raise LinkError(Message(N_("this confirmation link is not valid, or was already used")))
    if found["token_expires_at"] < datetime.now(timezone.utc).isoformat(timespec="seconds"):
        raise LinkError(expired)
    return found


def submit(db, sub: Submission, settings: Settings) -> int:
    """Check and store a contribution, unconfirmed, and e-mail its author the link that
    confirms it; returns its id. Raises ``Refused`` with what to fix."""
    problems: dict[str, str] = {}
    if sub.honeypot:
        raise Refused({"": Message(N_("this form was filled in by a program, not a person; it was not sent"))})
    contact, problem = parse_email(sub.contact)
    if not contact:
        problems["contact"] = problem or Message(N_("your e-mail address is needed to confirm the contribution"))
    proposal: dict = {"values": {}, "related": {}, "notes": []}
    target = catalogue.organisation_by_id(db, sub.organisation_id) if sub.organisation_id else None
    if sub.kind != "new" and target is None:
        raise Refused({"": Message(N_("the organisation to correct no longer exists"))})
    if sub.kind in ("new", "correction"):
        check = check_record(sub.raw, category_index(db))  # the network's own tree, as imports match it
        problems.update(check.problems)
        proposal = {"values": check.values, "related": check.related, "notes": [str(n) for n in check.notes]}
        # The network's public fields, checked by the rules the staff form and imports use;
        # a correction's themes are the stored ones when it does not change them.
        themes = list(check.related.get("themes") or [])
        if not themes and sub.organisation_id:
            themes = (catalogue.organisation_state(db, sub.organisation_id) or {"related": {}})["related"].get("themes", [])
        values, field_problems = field_rules.check_all(field_store.list_fields(db), sub.fields, themes,
                                                       public_only=True, lang=sub.lang)
        problems.update({f"field-{slug}": problem for slug, problem in field_problems.items()})
        proposal["fields"] = {slug: v for slug, v in values.items() if v or slug in sub.fields}
    if len(sub.note) > MAX_NOTE:
        problems["note"] = Message(N_("the note has %(n)s characters; at most %(max)s"), n=len(sub.note), max=MAX_NOTE)
    if antispam.too_many_links(proposal["values"].get("name", ""), proposal["values"].get("description", ""),
                               sub.note, *proposal["related"].get("descriptions", {}).values()):
        problems["description"] = Message(N_("at most %(n)s web addresses in the name, the description and the note"),
                                          n=antispam.MAX_LINKS)
    pictures = _clean_pictures(sub, problems)
    if not problems and contact:
        limit = antispam.over_limit(db, client=sub.client, email=contact, per_hour=settings.per_hour)
        if limit:
            raise Refused({"": limit})
    if not problems:
        proof_problem = antispam.check_proof(db, sub.proof, settings.secret)
        if proof_problem:
            problems["altcha"] = proof_problem
    if problems:
        raise Refused(problems)
    purge_unconfirmed(db)  # what was never confirmed is not kept past its link (see purge)
    name = proposal["values"].get("name") or (target or {}).get("name", "")
    country = proposal["values"].get("country") or _country_of(db, sub.organisation_id)
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(timezone.utc) + timedelta(hours=settings.confirm_hours)).isoformat(timespec="seconds")
    with catalogue.write_transaction(db):
        contribution_id = store.add_contribution(
            db, kind=sub.kind, organisation_id=sub.organisation_id, proposal=proposal, note=sub.note.strip(),
            email=contact, lang=sub.lang, token_hash=token_hash(token), token_expires_at=expires, client=sub.client,
            country=country, project=sub.project)
        for role, picture, alt in pictures:
            # Their author is the contribution's (whose address its erasure blanks), not copied here.
            picture_store.add_picture(db, picture, role=role, alt=alt, contribution_id=contribution_id,
                                      created_by=f"contribution:{contribution_id}")
    mail = letters.confirm(contact, sub.lang, kind=sub.kind, name=name, site=settings.site,
                           logo=logo_of(db, settings),
                           link=settings.link("contribute.confirm", {"token": token}), hours=settings.confirm_hours)
    try:
        settings.mailer.send(mail)
    except MailError as e:
        with catalogue.write_transaction(db):
            store.forget_contribution(db, contribution_id)
        raise Refused({"": Message(N_("the confirmation e-mail could not be sent (%(error)s); nothing was kept, "
                                      "try again later"), error=str(e))}) from e
    return contribution_id


def _clean_pictures(sub: Submission, problems: dict) -> list[tuple[str, images.Picture, str]]:
    """The pictures sent, cleaned, with their alt text checked; what is wrong with one goes in
    ``problems`` under its form field."""
    cleaned = []
    photos = 0
    for fld, role, data, alt in sub.pictures:
        try:
            alt = picture_store.clean_alt(alt)
            photos += role == "photo"
            if photos > picture_store.MAX_PHOTOS:
                raise picture_store.PictureRefused(Message(N_("an organisation has at most %(n)s photos: remove one "
                                                              "first"), n=picture_store.MAX_PHOTOS))
            cleaned.append((role, images.clean_picture(data, sub.picture_max_bytes), alt))
        except (images.ImageRefused, picture_store.PictureRefused) as e:
            problems[fld] = e.args[0]
    return cleaned


def _country_of(db, org_id: int | None) -> str | None:
    if org_id is None:
        return None
    state = catalogue.organisation_state(db, org_id)
    return state["values"]["country"] if state else None


def confirm(db, token: str) -> dict:
    """Follow a confirmation link: the contribution goes to the moderation queue. Raises
    ``LinkError`` for a link that is unknown, already used or expired."""
    found = usable_link(store.contribution_by_token(db, token_hash(token)),
                        Message(N_("this confirmation link has expired; send the contribution again")))
    with catalogue.write_transaction(db):
        store.confirm_contribution(db, found["id"])
    return store.contribution(db, found["id"])


def merged(db, contribution: dict) -> dict | None:
    """The organisation as it would be once the contribution is accepted (corrections:
    the stored organisation with the proposed fields over it)."""
    proposal = contribution["proposal"]
    if contribution["kind"] == "new":
        project = contribution.get("project")
        return {"values": dict(proposal["values"]), "related": catalogue.related_of(**proposal["related"]),
                "projects": [project] if project and catalogue.project_exists(db, project) else [], "visits": [],
                "fields": dict(proposal.get("fields") or {})}
    current = catalogue.organisation_state(db, contribution["organisation_id"]) if contribution["organisation_id"] else None
    if current is None:
        return None
    if contribution["kind"] == "closed":
        return {**current, "values": {**current["values"], "status": "archived"}}
    return merge_changes(current, proposal["values"], proposal["related"], contribution["lang"],
                         fields=proposal.get("fields"))


ADDRESS = ("street", "postcode", "city", "region", "country")


def _place(db, found: dict, values: dict, settings: Settings) -> None:
    """Locate an accepted organisation that has no pin, or whose address the contribution
    changed without giving one (the stored pin would be in the old place)."""
    proposed = found["proposal"]["values"]
    moved = False
    if found["kind"] == "correction" and "lat" not in proposed:
        stored = (catalogue.organisation_state(db, found["organisation_id"]) or {"values": {}})["values"]
        moved = any(f in proposed and proposed[f] != stored.get(f) for f in ADDRESS)
    if settings.locate is None or not (values.get("lat") is None or moved):
        return
    place = settings.locate(values)
    if place:
        values.update(lat=place[0], lon=place[1], geo_precision=place[2], geo_source=place[3])
    elif moved:
        values.update(lat=None, lon=None, geo_precision=None, geo_source=None)


def _everywhere(state: dict) -> bool:
    return True


def accept(db, contribution_id: int, moderator: str, settings: Settings, *, edits: dict | None = None,
           may_touch: Callable[[dict], bool] = _everywhere) -> int:
    """Write a pending contribution to the catalogue (published; ``edits`` are the
    moderator's changes to the proposed fields), audit it, tell its author. Returns the
    organisation's id. ``may_touch`` says whether the moderator may change an organisation
    in a state: the stored one and the result must both pass (else ``OutOfScope``)."""
    with catalogue.write_transaction(db):
        found = store.contribution(db, contribution_id)
        if found is None or found["state"] != "pending":
            raise Refused({"": Message(N_("this contribution is no longer waiting for a decision"))})
        target = merged(db, found)
        if target is None:
            raise Refused({"": Message(N_("the organisation it corrects no longer exists"))})
        if edits:
            target = merge_changes(target, edits, {}, found["lang"])
        _place(db, found, target["values"], settings)
        before = catalogue.organisation_state(db, found["organisation_id"]) if found["kind"] != "new" else None
        if not all(may_touch(state) for state in (before, target) if state is not None):
            raise OutOfScope()
        if found["kind"] == "new":
            values = {**target["values"], "status": "published", "source": SOURCE, "source_ref": f"c{contribution_id}"}
            related = target["related"]
            saved = catalogue.save_organisation(db, values, themes=related["themes"], needs=related["needs"],
                                                offers=related["offers"], descriptions=related["descriptions"])
            org_id = saved.id
            field_store.set_values(db, org_id, target.get("fields") or {})
            if target["projects"]:
                catalogue.add_to_project(db, catalogue.project_id(db, target["projects"][0]), org_id)
        else:
            org_id = found["organisation_id"]
            catalogue.restore_state(db, org_id, target)
        picture_store.attach_contribution_pictures(db, contribution_id, org_id)
        audit.record(db, moderator, action_of(contribution_id), org_id, before,
                     catalogue.organisation_state(db, org_id))
        store.decide_contribution(db, contribution_id, "accepted", by=moderator, result_organisation_id=org_id)
    org = catalogue.organisation_by_id(db, org_id)
    link = settings.link("views.organisation", {"slug": org["slug"]}) if org and org["status"] == "published" else None
    _tell(settings, letters.accepted(found["email"], found["lang"], kind=found["kind"], name=org["name"] if org else "",
                                     link=link, site=settings.site, logo=logo_of(db, settings)))
    return org_id


def action_of(contribution_id: int) -> str:
    """The audit action of an accepted contribution; looked up exactly, never as a prefix
    (``contribution:4`` must not find ``contribution:40``)."""
    return f"contribution:{contribution_id}"


def reject(db, contribution_id: int, moderator: str, reason: str, settings: Settings, *,
           may_touch: Callable[[dict], bool] = _everywhere) -> None:
    """Refuse a pending contribution with a reason, which its author is told. A correction
    is refused only by someone whose scope covers the organisation (``may_touch``)."""
    reason = reason.strip()
    if not reason:
        raise Refused({"reason": Message(N_("say why, for the person who sent it"))})
    with catalogue.write_transaction(db):
        found = store.contribution(db, contribution_id)
        if found is not None:
            subject = (catalogue.organisation_state(db, found["organisation_id"]) if found["organisation_id"]
                       else merged(db, found))
            if subject is not None and not may_touch(subject):
                raise OutOfScope()
        if found is None or not store.decide_contribution(db, contribution_id, "rejected", by=moderator,
                                                          reason=reason[:MAX_NOTE]):
            raise Refused({"": Message(N_("this contribution is no longer waiting for a decision"))})
        picture_store.delete_contribution_pictures(db, contribution_id)
        audit.record(db, moderator, f"contribution-rejected:{contribution_id}", found["organisation_id"])
    name = found["proposal"]["values"].get("name") or (
        catalogue.organisation_by_id(db, found["organisation_id"]) or {}).get("name", "")
    _tell(settings, letters.rejected(found["email"], found["lang"], kind=found["kind"], name=name,
                                     reason=reason, site=settings.site, logo=logo_of(db, settings)))


@dataclass
class Undone:
    """What undoing an accepted contribution did not take back: ``kept``, the fields
    changed since it was accepted (a correction's undo leaves them); ``lost``, those of an
    organisation it added, deleted with their later changes."""

    kept: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


def _accepted_entry(db, found: dict) -> dict | None:
    """The audit entry of an accepted contribution: its own action, exactly, on the
    organisation it wrote; the latest if it was accepted more than once."""
    return next(iter(audit.entries(db, action=action_of(found["id"]), organisation_id=found["result_organisation_id"],
                                   limit=1)), None)


def undo_preview(db, found: dict) -> Undone:
    """What undoing a decided contribution would keep (changed since) or delete with it,
    for the page that offers the Undo; nothing is written."""
    org_id = found["result_organisation_id"]
    current = catalogue.organisation_state(db, org_id) if found["state"] == "accepted" and org_id else None
    entry = _accepted_entry(db, found) if current is not None else None
    if entry is None:
        return Undone()
    if entry["before"] is None:
        return Undone(lost=changed_since(entry["after"], current))
    return Undone(kept=reverted(entry["before"], entry["after"], current)[1])


def undo(db, contribution_id: int, moderator: str, *,
         may_touch: Callable[[dict], bool] = _everywhere) -> Undone:
    """Take a decision back: an organisation an accepted contribution added is deleted; the
    fields a correction changed get their values back, except those changed again since
    (they are kept, and said). The contribution waits in the queue again."""
    outcome = Undone()
    with catalogue.write_transaction(db):
        found = store.contribution(db, contribution_id)
        if found is None or found["state"] not in ("accepted", "rejected"):
            raise Refused({"": Message(N_("this contribution has no decision to undo"))})
        org_id = found["result_organisation_id"]
        current = catalogue.organisation_state(db, org_id) if org_id else None
        if found["state"] == "accepted" and current is not None:
            entry = _accepted_entry(db, found)
            if entry is None:
                raise Refused({"": Message(N_("the history has no record of what this contribution changed; "
                                              "nothing was undone: edit the organisation instead"))})
            if entry["before"] is None:
                if not may_touch(current):
                    raise OutOfScope()
                outcome.lost = changed_since(entry["after"], current)
                catalogue.delete_organisation(db, org_id)
                after = None
            else:
                target, outcome.kept = reverted(entry["before"], entry["after"], current)
                if not (may_touch(current) and may_touch(target)):
                    raise OutOfScope()
                catalogue.restore_state(db, org_id, target)
                after = catalogue.organisation_state(db, org_id)
            audit.record(db, moderator, f"undo:{entry['id']}", org_id, current, after)
        elif found["state"] == "rejected":
            subject = (catalogue.organisation_state(db, found["organisation_id"]) if found["organisation_id"]
                       else merged(db, found))
            if subject is not None and not may_touch(subject):
                raise OutOfScope()
        store.reopen_contribution(db, contribution_id)
    return outcome


def _tell(settings: Settings, mail) -> None:
    """Tell the author; a mail server that fails does not take the decision back."""
    if not mail.to:  # the author's address was erased (retention, or on request)
        return
    try:
        settings.mailer.send(mail)
    except MailError:
        log.exception("could not tell %s of a decision", mail.to)
