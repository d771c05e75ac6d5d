"""mapapp: a public, embeddable map and directory of social and solidarity economy actors."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from . import config, secretkey
from .config import ROOT, from_environment

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict | None = None, *, upgrade: bool = True) -> Flask:
    """Create the Flask app: defaults, then ``MAPAPP_*`` settings, then ``test_config``.

    With ``upgrade`` the catalogue's schema and search index are brought up to date now, once
    for the process, so that no request runs a migration. The command line passes False: its
    commands open the catalogue themselves (``mapapp init``), and ``mapapp --help`` touches no file.
    """
    # Imported here: the process reading a large import imports this package, not Flask
    # (0.4 s before its first chunk).
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    if app.testing and "ANSWER_CACHE_MB" not in (test_config or {}):
        # Tests read their edits back at once: a test of the kept answers asks for them.
        app.config["ANSWER_CACHE_MB"] = 0
    if not app.config["SECRET_KEY"]:
        # A key per process would sign out half the visitors of `gunicorn -w 3` and kill every
        # e-mailed link at restart: one key, kept in the data folder. Tests bring their own
        # or get a throwaway one, never touching the checkout's data folder.
        app.config["SECRET_KEY"] = secrets.token_hex(32) if app.testing else secretkey.kept_key(config.VAR_DIR)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        # Only as many forwarded hops as there are proxies: a client cannot forge its address.
        # A proxy that passes on the client's own X-Forwarded-Host would let it choose the
        # site's address: believed only when the operator says every proxy sets it.
        hosts = proxies if app.config["TRUSTED_FORWARDED_HOST"] else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=hosts, x_port=hosts)

    from . import cli
    from .web import (
        admin,
        admin_brand,
        admin_categories,
        admin_edit,
        admin_fields,
        admin_imports,
        admin_pages,
        admin_personal,
        admin_projects,
        admin_settings,
        admin_sources,
        admin_visits,
        answercache,
        api,
        apihttp,
        assets,
        auth,
        commons,
        contribute,
        db,
        embed,
        errors,
        events,
        feeds,
        i18n,
        insights,
        jobqueue,
        mapcontext,
        moderation,
        pagecontext,
        pages,
        pictures,
        security,
        subscribe,
        tokens,
        views,
    )

    security.init_app(app)
    tokens.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    mapcontext.init_app(app)
    db.init_app(app, upgrade=upgrade)
    jobqueue.init_app(app)
    i18n.init_app(app)
    apihttp.init_pages(app)
    pagecontext.init_app(app)
    auth.init_app(app)
    cli.register(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_imports.bp)
    app.register_blueprint(admin_edit.bp)
    app.register_blueprint(admin_sources.bp)
    app.register_blueprint(admin_personal.bp)
    app.register_blueprint(admin_settings.bp)
    app.register_blueprint(contribute.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(subscribe.bp)
    app.register_blueprint(insights.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(commons.bp)
    app.register_blueprint(admin_brand.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(admin_projects.bp)
    app.register_blueprint(admin_visits.bp)
    app.register_blueprint(admin_fields.bp)
    app.register_blueprint(pictures.bp)
    app.register_blueprint(admin_categories.bp)
    app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_MB"] * 1024 * 1024
    # The public JSON API and the embed take no form posts: no session, no CSRF token.
    auth.csrf.exempt(api.bp)
    answercache.init_app(app)  # last: it wraps the whole dispatch, hooks included
    return app
