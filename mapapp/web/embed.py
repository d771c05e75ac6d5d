"""Embedding on partner sites: the framed map, its builder, the resizing script, oEmbed."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from .. import catalogue
from ..errors import BadRequest, NotFound
from ..filters import Filters, parse_lock
from ..params import whole_number
from ..translate import translated
from .db import get_db
from .errors import json_error
from .i18n import current_language
from .mapcontext import EMBED_HEIGHT, current_site, map_context

bp = Blueprint("embed", __name__)
DEFAULT_HEIGHT = EMBED_HEIGHT["default"]


def _pixels(raw: str | None, name: str, default: int = DEFAULT_HEIGHT) -> int:
    return whole_number(raw, name, default=default, low=EMBED_HEIGHT["min"], high=EMBED_HEIGHT["max"],
                        unit="pixels")


def _with_controls(args) -> bool:
    """Whether an embed shows its filter bar (``controls=0`` hides it)."""
    return args.get("controls", "1") != "0"


@bp.get("/embed")
def embed():
    """The map made for an iframe: no site chrome, an optional compact filter bar, locked filters."""
    try:
        filters = Filters.from_args(request.args)
        locked = parse_lock(request.args.get("lock"), filters)
        controls = _with_controls(request.args)
        height = _pixels(request.args.get("height"), "height")
        focus = None
        if request.args.get("focus"):
            org = catalogue.get_organisation(get_db(), request.args["focus"])
            if org is None or org["lat"] is None:
                raise NotFound(_("There is no published organisation at this address."))
            focus = {"slug": org["slug"], "lat": org["lat"], "lon": org["lon"]}
        # Every filter and the search, repeated ones too (country=IT&country=FR), but none of
        # the embed's own options.
        full = [(k, v) for k, v in request.args.items(multi=True) if k not in ("controls", "height", "lock")]
        context = map_context(filters, locked=locked, extra={
            "embed": True, "focus": focus,
            "fullMap": url_for("views.index", _external=False) + ("?" + urlencode(full) if full else ""),
        })
        # A partner's visitors contribute too, with the embed's locked country and project
        # as the form's defaults (the project tells partner moderators it is theirs).
        defaults = {kind: ",".join(getattr(filters, kind)) for kind in ("country", "project")
                    if kind in locked and getattr(filters, kind)}
        context["contribute_url"] = url_for("contribute.new", lang=current_language(), **defaults)
    except (BadRequest, NotFound) as e:
        return render_template("embed_error.html", message=translated(e.message, current_language())), e.status
    except Exception:  # the catalogue is unreachable or broken: say so briefly, in the language
        current_app.logger.exception("embed failed")
        return render_template("embed_error.html", message=_("The map is not available right now.")), 503
    return render_template("embed.html", controls=controls, height=height, locked=locked, **context)


@bp.get("/embed/builder")
def builder():
    """A page where a partner chooses filters and options and copies the snippet."""
    db = get_db()
    names = catalogue.project_and_visit_names(db, current_language())
    countries = sorted({o["country"] for o in catalogue.duplicate_candidates(db) if o["country"]})
    return render_template("builder.html", projects=names["project"], countries=countries,
                           fictional=catalogue.has_fictional(db))


@bp.get("/embed.js")
def script():
    """The script snippet: inserts the iframe and resizes it to its content."""
    body = render_template("embed.js", origin=_site_address())
    return Response(body, mimetype="text/javascript", headers={"Access-Control-Allow-Origin": "*"})


@bp.get("/oembed")
def oembed():
    """oEmbed (type ``rich``) for map, embed and organisation URLs of this site."""
    url = request.args.get("url", "")
    if request.args.get("format", "json") != "json":
        return json_error("format: only json is supported", 501, "format")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise BadRequest(f"url: '{url[:200]}' is not a valid address", parameter="url") from None
    if not url or parts.netloc not in (request.host, urlsplit(_site_address()).netloc) \
            or parts.scheme not in ("http", "https"):
        raise NotFound("url: not an address of this map")
    width = _pixels(request.args.get("maxwidth"), "maxwidth", 800)
    args = MultiDict([(k, v) for k, v in parse_qsl(parts.query) if k not in ("height",)])
    title = current_site().name
    if parts.path.startswith("/organisations/"):
        slug = parts.path.rsplit("/", 1)[-1]
        org = catalogue.get_organisation(get_db(), slug)
        if org is None:
            raise NotFound("url: no published organisation at this address")
        args = MultiDict([("focus", slug)])
        title = org["name"]
    elif parts.path not in ("/", "/embed", "/organisations"):
        raise NotFound("url: not a map or organisation address of this site")
    Filters.from_args(args)  # the same errors as the page would give
    # The frame holds the map and what surrounds it (the builder's snippets are sized so too).
    around = EMBED_HEIGHT["around"]["controls" if _with_controls(args) else "bare"]
    height = min(_pixels(request.args.get("maxheight"), "maxheight", DEFAULT_HEIGHT + around), DEFAULT_HEIGHT + around)
    args["height"] = str(max(EMBED_HEIGHT["min"], height - around))
    src = _site_address() + url_for("embed.embed") + "?" + urlencode(list(args.items(multi=True)))
    iframe = (f'<iframe src="{_attr(src)}" title="{_attr(title)}" width="{width}" height="{height}" '
              'loading="lazy" style="border:0;max-width:100%"></iframe>')
    return jsonify({"version": "1.0", "type": "rich", "provider_name": current_site().name,
                    "provider_url": _site_address() + "/", "title": title, "width": width, "height": height,
                    "html": iframe})


def _site_address() -> str:
    """The site's address in what partner sites keep (the script's origin, an oEmbed frame):
    MAPAPP_PUBLIC_URL when set, never a Host header that a cache in front would keep for
    everyone; the request's own address on a development machine without it."""
    return (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/") or request.host_url.rstrip("/")


def _attr(value: str) -> str:
    return str(escape(value))
