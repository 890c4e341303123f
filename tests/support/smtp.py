"""A real SMTP server for the notification tests: aiosmtpd on 127.0.0.1, on a free port.

It answers DATA with the scripted replies first (``"451 4.3.0 try again later"``, ...),
then ``250``, and keeps every message it accepted (parsed) and every attempt's recipients.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .ports import free_port


class Mailbox:
    """The aiosmtpd handler: scripted replies to DATA, then acceptance."""

    def __init__(self, *replies: str):
        self.replies = list(replies)
        self.messages: list[EmailMessage] = []
        self.attempts: list[list[str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts.append(list(envelope.rcpt_tos))
            if self.replies:
                return self.replies.pop(0)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, *replies: str):
        self.mailbox = Mailbox(*replies)
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}?from=revisit@example.com"

    def close(self) -> None:
        self.controller.stop()


@contextlib.contextmanager
def running_smtp(*replies: str) -> Iterator[SmtpServer]:
    """For a fixture: a running SMTP server, stopped afterwards; tests script more replies
    on ``server.mailbox.replies``."""
    server = SmtpServer(*replies)
    try:
        yield server
    finally:
        server.close()
