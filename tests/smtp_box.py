"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the tests
that follow the links of the messages the site sends."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait(self, count: int, seconds: float = 10) -> list[email.message.EmailMessage]:
        deadline = time.time() + seconds
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} message(s) received, {count} expected"
        return self.messages


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", text_of(message))


class SMTPServer:
    """``with SMTPServer() as server``: ``server.url`` for MAPAPP_SMTP_URL, ``server.box``."""

    def __enter__(self):
        self.box = Mailbox()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.controller = Controller(self.box, hostname="127.0.0.1", port=port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.controller.port}"
        return self

    def __exit__(self, *exc):
        self.controller.stop()
