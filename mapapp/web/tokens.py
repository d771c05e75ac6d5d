"""Pages whose address carries a secret token (an owner's edit link, a confirmation link,
an unsubscribe key): never kept by a cache, never sent on as a Referer, never written
whole to an access log."""

from __future__ import annotations

import functools
import logging

from flask import Flask, make_response

from ..mail import without_secrets

# The development server's request log, and gunicorn's access log.
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def carries_token(view):
    """Mark a view's answers as holding a secret: no cache keeps them, no Referer repeats
    the address (a page's own images and scripts would otherwise log it)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


class CutTokens(logging.Filter):
    """Cuts the tokens out of access log lines; the line stays, with the page named."""

    def filter(self, record: logging.LogRecord) -> bool:
        line = record.getMessage()
        cut = without_secrets(line)
        if cut != line:
            record.msg, record.args = cut, None
        return True


def init_app(app: Flask) -> None:
    """Put the filter on the access loggers (once, however many apps a process makes)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, CutTokens) for f in logger.filters):
            logger.addFilter(CutTokens())
