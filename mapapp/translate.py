"""Messages in a given language outside a web request: exports, import reports, e-mails.

The web pages translate through Flask-Babel; the working modules never import Flask, so
they mark their messages with ``N_`` (kept as English in stored reports) and translate
them here, from the same catalogues in mapapp/translations, when they are shown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from .vocab import DEFAULT_LANGUAGE, LANGUAGES

DIRECTORY = Path(__file__).parent / "translations"


def N_(message: str) -> str:  # noqa: N802 - the name pybabel extracts
    """Mark ``message`` for translation without translating it now."""
    return message


@cache
def catalogue(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English, the source language, has none)."""
    if lang not in LANGUAGES or lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(DIRECTORY, [lang])


def gettext_in(lang: str, message: str, **params) -> str:
    """``message`` in ``lang``, with ``%(name)s`` placeholders filled from ``params``."""
    text = catalogue(lang).gettext(message)
    return text % params if params else text


class Message(str):
    """A message in English that remembers its template and values, so that it can be
    shown later in another language. It is a ``str``: reports, CSV files and the command
    line use it as the English text."""

    template: str
    params: dict

    def __new__(cls, template: str, **params) -> "Message":
        text = super().__new__(cls, template % params if params else template)
        text.template, text.params = template, params
        return text

    def __reduce__(self):  # copies and pickles keep the template
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict) -> Message:
    return Message(template, **params)


def translated(text: str, lang: str) -> str:
    """``text`` in ``lang`` when it is a ``Message`` (its values translated too), else as it is."""
    if not isinstance(text, Message):
        return text
    params = {k: translated(v, lang) if isinstance(v, str) else v for k, v in text.params.items()}
    template = catalogue(lang).gettext(text.template)
    return template % params if params else template


def to_data(text: str) -> object:
    """``text`` as JSON-ready data that keeps a ``Message``'s template and values."""
    if isinstance(text, Message):
        return {"template": text.template, "params": {k: to_data(v) for k, v in text.params.items()}}
    return text


def from_data(data: object) -> object:
    """The ``Message`` (or plain value) that ``to_data`` wrote."""
    if isinstance(data, dict) and "template" in data:
        return Message(data["template"], **{k: from_data(v) for k, v in (data.get("params") or {}).items()})
    return data
