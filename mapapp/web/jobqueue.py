"""The app's job queue (``mapapp.jobs``): made once per app, with what its jobs need from
Flask (the report's template, rendered in the report's language)."""

from __future__ import annotations

from flask import Flask, current_app, render_template

from .. import catalogue, kinds
from ..catalogue import categorytree
from ..jobs.queue import EXTENSION, Hooks, Jobs


def init_app(app: Flask) -> None:
    """Give ``app`` its queue (the web enqueues on it; ``mapapp worker`` consumes it)."""

    def render_report(slug: str, lang: str, statuses: tuple[str, ...]) -> str | None:
        from .. import brand
        from ..catalogue import site as site_store
        from ..insights import report

        db = catalogue.connect(app.config["DATABASE"])
        try:
            with kinds.categories_pinned(categorytree.cached(db)):  # its themes labelled from the tree
                figures = report.project_figures(db, slug, lang, statuses=statuses)
            branding = brand.document_names(site_store.current(db, app.config), site_store.read_file(db, brand.LOGO),
                                            lang)
        finally:
            db.close()
        if figures is None:
            return None
        with app.test_request_context(f"/?lang={lang}"):
            return render_template(report.TEMPLATE, **report.template_values(figures, branding))

    def mail_settings():
        from ..catalogue import site as site_store
        from ..contributing import flow
        from ..mail import message_links

        db = catalogue.connect(app.config["DATABASE"])
        try:  # the name staff gave the site, as the pages show it
            name = site_store.current(db, app.config).name
        finally:
            db.close()
        return flow.settings_from(app.config, message_links(app), site_name=name)

    app.extensions[EXTENSION] = Jobs(app.config, Hooks(render_report=render_report, mail_settings=mail_settings))


def current() -> Jobs:
    """The current app's queue."""
    return current_app.extensions[EXTENSION]
