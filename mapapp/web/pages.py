"""Blueprint: the pages staff write (about, legal notice, privacy policy…) at ``/pages/<slug>``,
in the visitor's language, or in another one with a note saying so."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from .. import pages
from ..catalogue import pages as stored_pages
from ..errors import NotFound
from ..vocab import LANGUAGE_NAMES
from . import pagecontext
from .db import get_db
from .i18n import current_language

bp = Blueprint("pages", __name__, url_prefix="/pages")


@bp.get("/<slug>")
def show(slug: str):
    """One page, its Markdown made into sanitised HTML."""
    page = stored_pages.get_page(get_db(), slug=slug)
    chosen = pages.choose(page["texts"], current_language()) if page else None
    if chosen is None:
        raise NotFound(_("There is no page at this address."))
    shown_lang, text = chosen
    note = None
    if shown_lang != current_language():
        note = _("This page is not available in %(wanted)s; shown in %(shown)s.",
                 wanted=LANGUAGE_NAMES[current_language()], shown=LANGUAGE_NAMES.get(shown_lang, shown_lang))
    # pages.render sanitises (nh3): the HTML is safe as it is, and never read as a template.
    body = Markup(pages.render(text["body_markdown"], pagecontext.placeholder_values()))  # nosec B704
    return render_template("page.html", page=page, title=text["title"], body=body, shown_lang=shown_lang,
                           note=note, updated_at=text["updated_at"])
