"""Pages in the staff area (``/admin/pages``): write the about page, the legal notice, the
privacy policy and others, per language in Markdown, preview, save (audited as ``page:<id>``).

Who may edit: admins every page; editors whose part of the catalogue is the whole of it the
"about" and "other" pages. The legal notice and the privacy policy are the publisher's legal
statements: admins only. A partner editor (limited to countries or projects) edits no page: a
page speaks for the whole site.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import accounts, pages
from ..catalogue import audit
from ..catalogue import pages as stored_pages
from ..vocab import LANGUAGES
from . import pagecontext
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin_pages", __name__, url_prefix="/admin/pages")

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
ADMIN_KINDS = ("legal", "privacy")
TEMPLATE_SLUGS = {"privacy": "privacy", "legal": "legal-notice"}


def may_edit(kind: str) -> bool:
    """Whether the signed-in staff member may write pages of ``kind`` (see the module's note)."""
    if current_user.is_admin:
        return True
    if kind in ADMIN_KINDS:
        return False
    return not accounts.scope_of(get_db(), current_user.user).limited


def _kind_names() -> dict[str, str]:
    return {"about": _("About"), "legal": _("Legal notice"), "privacy": _("Privacy policy"), "other": _("Other page")}


def _position(value: str | None) -> int:
    try:
        return max(-1000, min(1000, int(value or 0)))
    except ValueError:
        return 0


@bp.route("", methods=["GET", "POST"])
@role_required("admin", "editor")
def index():
    """The pages, in which languages each is written, a new page, and the ready-made texts."""
    db = get_db()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "create":
            slug = request.form.get("slug", "").strip().lower()
            kind = request.form.get("kind", "other")
            if kind not in stored_pages.KINDS:
                abort(400)
            if not may_edit(kind):
                abort(403)
            if not SLUG.fullmatch(slug):
                error = _("The address may hold only lower-case letters, digits and hyphens (up to 80), "
                          "starting with a letter or a digit: for example about-us.")
            else:
                try:
                    page_id = stored_pages.create_page(db, slug=slug, kind=kind, user_email=current_user.email,
                                                       in_footer=bool(request.form.get("in_footer")),
                                                       position=_position(request.form.get("position")))
                except stored_pages.PageError:
                    error = _("There is already a page at /pages/%(slug)s: choose another address.", slug=slug)
                else:
                    return redirect(url_for("admin_pages.edit", page_id=page_id, language=current_language()))
        elif action == "template":
            kind, lang = request.form.get("kind", ""), request.form.get("lang", "")
            if kind not in pages.TEMPLATE_KINDS or lang not in LANGUAGES:
                abort(400)
            if not may_edit(kind):
                abort(403)
            page_id = _from_template(kind, lang)
            flash(_("Made from the template: fill in the parts marked ⟦ ⟧, check every sentence, then save."))
            return redirect(url_for("admin_pages.edit", page_id=page_id, language=lang))
    listed = stored_pages.all_pages(db)
    offers = [(kind, [lang for lang in LANGUAGES if not any(p["kind"] == kind and lang in p["texts"] for p in listed)])
              for kind in pages.TEMPLATE_KINDS if may_edit(kind)]
    return render_template("admin/pages.html", pages=listed, kind_names=_kind_names(), may_edit=may_edit,
                           offers=[(kind, langs) for kind, langs in offers if langs], error=error,
                           creatable=[k for k in stored_pages.KINDS if may_edit(k)]), 400 if error else 200


def _from_template(kind: str, lang: str) -> int:
    """The page of ``kind`` (made now if there is none) with the template's text in ``lang``
    when it has none yet; its id."""
    db = get_db()
    existing = [p for p in stored_pages.all_pages(db) if p["kind"] == kind]
    if existing:
        page = existing[0]
    else:
        slug = TEMPLATE_SLUGS[kind]
        taken = {p["slug"] for p in stored_pages.all_pages(db)}
        number = 2
        while slug in taken:
            slug, number = f"{TEMPLATE_SLUGS[kind]}-{number}", number + 1
        page = {"id": stored_pages.create_page(db, slug=slug, kind=kind, user_email=current_user.email), "texts": {}}
    if lang not in page["texts"]:
        title, body = pages.template(kind, lang)
        stored_pages.save_text(db, page["id"], lang, title=title, body_markdown=body, user_email=current_user.email)
    return page["id"]


@bp.route("/<int:page_id>/<language>", methods=["GET", "POST"])
@role_required("admin", "editor")
def edit(page_id: int, language: str):
    """One page's text in one language: edit, preview, save; where it shows; remove. (Not
    ``lang``: that parameter is the staff member's own language, as on every page.)"""
    lang = language
    db = get_db()
    page = stored_pages.get_page(db, page_id=page_id)
    if page is None or lang not in LANGUAGES:
        abort(404)
    if not may_edit(page["kind"]):
        abort(403)
    text = page["texts"].get(lang) or {"title": "", "body_markdown": ""}
    title, body = text["title"], text["body_markdown"]
    problems, preview = {}, None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "delete-page":
            stored_pages.delete_page(db, page_id, user_email=current_user.email)
            flash(_("Page /pages/%(slug)s removed (its texts are kept in the audit log).", slug=page["slug"]))
            return redirect(url_for("admin_pages.index"))
        if action == "delete-text":
            stored_pages.delete_text(db, page_id, lang, user_email=current_user.email)
            flash(_("This language's text removed: visitors reading it now see another language."))
            return redirect(url_for("admin_pages.index"))
        if action == "settings":
            stored_pages.update_page(db, page_id, in_footer=bool(request.form.get("in_footer")),
                                     position=_position(request.form.get("position")), user_email=current_user.email)
            flash(_("Saved."))
            return redirect(url_for("admin_pages.edit", page_id=page_id, language=lang))
        # Line ends as typed in any browser, and no character a text file may not hold.
        title = _clean(request.form.get("title", "")).replace("\n", " ").strip()
        body = _clean(request.form.get("body", ""))
        if not title:
            problems["title"] = _("Give the page a title.")
        elif len(title) > pages.TITLE_MAX:
            problems["title"] = _("The title is too long (at most %(n)s characters).", n=pages.TITLE_MAX)
        if len(body) > pages.BODY_MAX:
            problems["body"] = _("The text is too long (at most %(n)s characters).", n=pages.BODY_MAX)
        if action == "save" and not problems:
            changed = stored_pages.save_text(db, page_id, lang, title=title, body_markdown=body,
                                             user_email=current_user.email)
            flash(_("Saved.") if changed else _("Nothing changed."))
            return redirect(url_for("admin_pages.edit", page_id=page_id, language=lang))
        # A preview, or a form to fix: the text as visitors would see it, nothing saved.
        preview = Markup(pages.render(body, pagecontext.placeholder_values()))  # nosec B704 # sanitised by nh3
    history = audit.entries(db, action=f"page:{page_id}", limit=20)
    return render_template("admin/pages_edit.html", page=page, lang=lang, title=title, body=body, preview=preview,
                           problems=problems, to_fill=pages.to_fill(body), history=history,
                           kind_names=_kind_names(), placeholders=pages.PLACEHOLDERS), 400 if problems else 200


def _clean(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c in "\n\t" or (c >= " " and c not in "\ufffe\uffff" and c != "\x7f"))
