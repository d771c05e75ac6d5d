"""E-mail: multipart messages (plain text and HTML) sent over SMTP, or written to an
outbox folder as ``.eml`` files when no server is configured (a laptop, ``make run``).

Built on the standard library's ``email`` and ``smtplib``: ``MAPAPP_SMTP_URL`` is
``smtp://user:password@host:587`` (STARTTLS, required before any password is sent to a
host other than this machine) or ``smtps://user:password@host:465`` (TLS from the start).
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import ServiceUnavailable
from .translate import N_, Message

log = logging.getLogger("mapapp.mail")
_LINK = re.compile(r"https?://\S+")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# The site's pages whose address carries a secret (an edit link's token, a confirmation's,
# an unsubscribe key): shown with the secret cut short wherever it is printed or logged.
_SECRET_IN_PATH = re.compile(r"(/(?:owner|contribute/confirm|subscribe/confirm|unsubscribe|login/reset)/)([^/\s?#\"']{4})"
                             r"[^/\s?#\"']*")
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # nosec B104 # listening everywhere: links go to this machine


def without_secrets(text: str) -> str:
    """``text`` with the tokens in the site's secret-bearing addresses cut to their first
    characters (for consoles and logs; the message itself keeps the whole link)."""
    return _SECRET_IN_PATH.sub(r"\1\2…", text)


class MailError(Exception):
    """A message could not be sent; the message says what to check."""


class NoPublicAddress(ServiceUnavailable):
    """Real mail is refused while MAPAPP_PUBLIC_URL is unset (HTTP 503)."""


def public_address(config) -> str:
    """The address every link in a message starts with: MAPAPP_PUBLIC_URL.

    Never the address a request came to: its Host header is the client's to choose, and a
    link to the client's host hands it the token. Without MAPAPP_PUBLIC_URL, only messages
    that stay with the operator (the outbox, or debug mode) are written, linking to
    MAPAPP_HOST:MAPAPP_PORT; real mail raises ``NoPublicAddress``."""
    public = (config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if public:
        return public
    if config.get("SMTP_URL") and not config.get("DEBUG"):
        raise NoPublicAddress(Message(N_("this site cannot send e-mail until its address is configured: its team "
                                         "must set MAPAPP_PUBLIC_URL to the site's address, e.g. "
                                         "https://map.example.org")))
    host = str(config.get("HOST") or "")
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    fallback = f"http://{f'[{host}]' if ':' in host else host}:{config.get('PORT') or 5000}"
    log.warning("MAPAPP_PUBLIC_URL is not set: links in messages point at %s, which is fine for the outbox or "
                "debug mode only; set MAPAPP_PUBLIC_URL to the site's address, e.g. https://map.example.org, "
                "before sending real mail", fallback)
    return fallback


def message_links(app) -> Callable[[str, dict], str]:
    """(endpoint, values) → the absolute address of that page on the site's public address.

    ``app`` is the Flask app (this module does not import Flask: the command line and the pages
    both call it).

    Built from the app's URL map bound to that address, not from a request: the same links
    whether a visitor's request or cron sends the message. Raises ``mail.NoPublicAddress``
    when real mail would go out with no address configured."""
    base = urlsplit(public_address(app.config))
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)

    def link(endpoint: str, values: dict) -> str:
        values = dict(values)
        app.inject_url_defaults(endpoint, values)
        return adapter.build(endpoint, values, force_external=True)

    return link


@dataclass(frozen=True)
class Mail:
    """One message to one person, in their language."""

    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe

    def links(self) -> list[str]:
        """The web addresses in the text part (what the console shows for an outbox message)."""
        return _LINK.findall(self.text)


@dataclass(frozen=True)
class Mailer:
    """Sends ``Mail`` through the configured SMTP server, or into ``outbox``."""

    sender: str
    smtp_url: str = ""
    outbox: Path | None = None
    timeout: float = 15.0

    def message(self, mail: Mail) -> EmailMessage:
        """The MIME message: text first, HTML as the alternative. Header values with line
        breaks are refused by the policy (no header injection through a subject or address)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or "localhost")
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in mail.headers.items():
            msg[name] = value
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        return msg

    def send(self, mail: Mail) -> str:
        """Send one message; returns where it went ("smtp" or the outbox file's path)."""
        msg = self.message(mail)
        if not self.smtp_url:
            return str(self._to_outbox(msg, mail))
        self._smtp(msg)
        return "smtp"

    def _to_outbox(self, msg: EmailMessage, mail: Mail) -> Path:
        if self.outbox is None:
            raise MailError("no SMTP server (MAPAPP_SMTP_URL) and no outbox folder: set one of them")
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
        path.write_bytes(msg.as_bytes())
        log.warning("mail to %s written to %s (no MAPAPP_SMTP_URL); its links (tokens cut short, the file has "
                    "them whole): %s", mail.to, path, without_secrets(" ".join(mail.links())) or "none")
        return path

    def _smtp(self, msg: EmailMessage) -> None:
        url = urlsplit(self.smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise MailError(f"MAPAPP_SMTP_URL must look like smtp://user:password@host:587 or "
                            f"smtps://user:password@host:465, not {url.scheme or '(no scheme)'}://…")
        user, password = unquote(url.username or ""), unquote(url.password or "")
        context = ssl.create_default_context()
        try:
            if url.scheme == "smtps":
                server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=self.timeout,
                                                        context=context)
            else:
                server = smtplib.SMTP(url.hostname, url.port or 587, timeout=self.timeout)
            with server:
                if url.scheme == "smtp":
                    server.ehlo()
                    if server.has_extn("starttls"):
                        server.starttls(context=context)
                        server.ehlo()
                    elif user and url.hostname not in _LOOPBACK:
                        raise MailError(f"the SMTP server {url.hostname} offers no STARTTLS: the password "
                                        "would travel in clear; use smtps:// or a server with STARTTLS")
                if user:
                    server.login(user, password)
                server.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            raise MailError(f"the SMTP server {url.hostname}:{url.port or ''} refused or did not answer: {e}; "
                            "check MAPAPP_SMTP_URL") from e
