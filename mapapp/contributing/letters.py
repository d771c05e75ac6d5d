"""The messages sent to contributors, in their language: plain text and the same as HTML
(every value escaped by the template)."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..config import ROOT
from ..mail import Mail
from ..translate import gettext_in

# The mail folder first; the site-wide partials (the logo) from the templates folder.
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader([ROOT / "templates" / "mail", ROOT / "templates"]),
                                autoescape=True)


@dataclass(frozen=True)
class Action:
    url: str
    label: str


def letter(to: str, lang: str, subject: str, paragraphs: list[str], action: Action | None = None,
           after: tuple[str, ...] = (), footer: str = "", headers: dict[str, str] | None = None,
           logo: str = "") -> Mail:
    """One message: paragraphs, an optional button (and its address written out), more
    paragraphs, a footer; above them the site's logo when ``logo`` (its absolute address, from
    the configured public address: ``brand.logo_address``) is given, ``footer`` its alt text."""
    subject = " ".join(subject.split())  # a name with a line break must not break the header
    text = "\n\n".join(paragraphs)
    if action:
        text += f"\n\n{action.label}:\n{action.url}"
    if after:
        text += "\n\n" + "\n\n".join(after)
    if footer:
        text += f"\n\n-- \n{footer}"
    html = _TEMPLATES.get_template("letter.html").render(lang=lang, subject=subject, paragraphs=paragraphs,
                                                        action=action, after=after, footer=footer,
                                                        logo_src=logo, site_name=footer)
    return Mail(to=to, subject=subject, text=text + "\n", html=html, headers=headers or {})


# Each sentence is whole in the catalogue, one per kind of proposal: languages elide ("d'une
# nouvelle organisation") and decline ("Twojej propozycji") where English puts "of".
def _given_with(kind: str, name: str, site: str, lang: str) -> str:
    if kind == "new":
        return gettext_in(lang, "This address was given on %(site)s with a proposal of a new organisation, “%(name)s”. "
                          "Nothing is published before you confirm it and a moderator checks it.", site=site, name=name)
    if kind == "closed":
        return gettext_in(lang, "This address was given on %(site)s with a report that “%(name)s” has closed. "
                          "Nothing is published before you confirm it and a moderator checks it.", site=site, name=name)
    return gettext_in(lang, "This address was given on %(site)s with a correction to “%(name)s”. "
                      "Nothing is published before you confirm it and a moderator checks it.", site=site, name=name)


def _was_accepted(kind: str, name: str, lang: str) -> str:
    if kind == "new":
        return gettext_in(lang, "Thank you: your proposal of a new organisation, “%(name)s”, was accepted by a moderator.",
                          name=name)
    if kind == "closed":
        return gettext_in(lang, "Thank you: your report that “%(name)s” has closed was accepted by a moderator.", name=name)
    return gettext_in(lang, "Thank you: your correction to “%(name)s” was accepted by a moderator.", name=name)


def _was_rejected(kind: str, name: str, lang: str) -> str:
    if kind == "new":
        return gettext_in(lang, "A moderator did not accept your proposal of a new organisation, “%(name)s”.", name=name)
    if kind == "closed":
        return gettext_in(lang, "A moderator did not accept your report that “%(name)s” has closed.", name=name)
    return gettext_in(lang, "A moderator did not accept your correction to “%(name)s”.", name=name)


def confirm(to: str, lang: str, *, kind: str, name: str, link: str, site: str, logo: str = "", hours: int) -> Mail:
    """The double opt-in: nothing reaches the moderators before this link is followed."""
    return letter(
        to, lang, gettext_in(lang, "Confirm your contribution to %(site)s", site=site),
        [gettext_in(lang, "Hello,"),
         _given_with(kind, name, site, lang)],
        Action(link, gettext_in(lang, "Confirm my contribution")),
        (gettext_in(lang, "The link works once, for %(hours)s hours. If you did not write this, ignore this "
                    "message: nothing will be done with it.", hours=hours),),
        footer=site, logo=logo)


def accepted(to: str, lang: str, *, kind: str, name: str, link: str | None, site: str, logo: str = "") -> Mail:
    """A moderator accepted the contribution."""
    return letter(
        to, lang, gettext_in(lang, "Your contribution to %(site)s was accepted", site=site),
        [gettext_in(lang, "Hello,"),
         _was_accepted(kind, name, lang)],
        Action(link, gettext_in(lang, "See it on the map")) if link else None, footer=site, logo=logo)


def rejected(to: str, lang: str, *, kind: str, name: str, reason: str, site: str, logo: str = "") -> Mail:
    """A moderator did not accept the contribution, and says why."""
    return letter(
        to, lang, gettext_in(lang, "Your contribution to %(site)s was not accepted", site=site),
        [gettext_in(lang, "Hello,"),
         _was_rejected(kind, name, lang),
         gettext_in(lang, "The reason given: %(reason)s", reason=reason)],
        after=(gettext_in(lang, "You may send a new proposal that takes it into account."),), footer=site, logo=logo)


def owner_link(to: str, lang: str, *, name: str, link: str, site: str, logo: str = "", days: int) -> Mail:
    """A link to edit the organisation's own entry, asked for from its page."""
    return letter(
        to, lang, gettext_in(lang, "Edit “%(name)s” on %(site)s", name=name, site=site),
        [gettext_in(lang, "Hello,"),
         gettext_in(lang, "Someone asked, from its page on %(site)s, for a link to edit the entry of “%(name)s”, "
                    "sent to its e-mail address.", site=site, name=name)],
        Action(link, gettext_in(lang, "Edit the entry")),
        (gettext_in(lang, "The link works for %(days)s days; keep it to yourself. If you did not ask for it, "
                    "ignore this message.", days=days),), footer=site, logo=logo)


def check_request(to: str, lang: str, *, name: str, link: str, site: str, logo: str = "", days: int) -> Mail:
    """The site's team asks the owner to check their entry (sent by staff, in bulk)."""
    return _check_entry(to, lang, gettext_in(lang, "Please check “%(name)s” on %(site)s", name=name, site=site),
                        gettext_in(lang, "The team of %(site)s asks you to check the entry of “%(name)s”. With the "
                                   "link below you can say it is still correct in one click, or change what is "
                                   "not.", name=name, site=site), link=link, site=site, logo=logo, days=days)


def reminder(to: str, lang: str, *, name: str, link: str, site: str, logo: str = "", days: int) -> Mail:
    """Is the entry still right? Sent by ``mapapp remind-owners``."""
    return _check_entry(to, lang, gettext_in(lang, "Is “%(name)s” still right on %(site)s?", name=name, site=site),
                        gettext_in(lang, "“%(name)s” has not been checked on %(site)s for a long time. With the "
                                   "link below you can say it is still correct in one click, or change what is "
                                   "not.", name=name, site=site), link=link, site=site, logo=logo, days=days)


def _check_entry(to: str, lang: str, subject: str, why: str, *, link: str, site: str, logo: str = "", days: int) -> Mail:
    """A letter asking an owner to check their entry: ``why`` it is asked, and the link."""
    return letter(to, lang, subject, [gettext_in(lang, "Hello,"), why],
                  Action(link, gettext_in(lang, "Check the entry")),
                  (gettext_in(lang, "The link works for %(days)s days; keep it to yourself.", days=days),), footer=site, logo=logo)


def confirm_subscription(to: str, lang: str, *, site: str, logo: str = "", hours: int, link: str, view: str) -> Mail:
    """The double opt-in of a subscription."""
    return letter(
        to, lang, gettext_in(lang, "Confirm your subscription to %(site)s", site=site),
        [gettext_in(lang, "Hello,"),
         gettext_in(lang, "This address asked to hear of new organisations on this part of the map of %(site)s: "
                    "%(view)s", site=site, view=view)],
        Action(link, gettext_in(lang, "Confirm my subscription")),
        (gettext_in(lang, "The link works once, for %(hours)s hours. If you did not ask for it, ignore this "
                    "message: you will get nothing more.", hours=hours),), footer=site, logo=logo)


def digest(to: str, lang: str, *, site: str, logo: str = "", items: list[tuple[str, str, str]], more: bool, view: str,
           unsubscribe: str) -> Mail:
    """New organisations since the last digest; every message can stop the subscription."""
    lines = [f"{name} ({city}): {url}" if city else f"{name}: {url}" for name, city, url in items]
    if more:
        lines.append(gettext_in(lang, "and more: %(view)s", view=view))
    return letter(
        to, lang, gettext_in(lang, "New on %(site)s", site=site),
        [gettext_in(lang, "New organisations on the part of the map you follow:"), *lines],
        Action(view, gettext_in(lang, "See them on the map")),
        (gettext_in(lang, "To stop these messages: %(link)s", link=unsubscribe),), footer=site, logo=logo,
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
