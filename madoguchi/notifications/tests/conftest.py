"""Fixtures for the notifications tests: a real SMTP server on 127.0.0.1 (aiosmtpd)
that can refuse, block, or be switched off, and Django pointed at it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A port nobody listens on (until someone starts a server on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FlakySMTPHandler:
    """Refuses the first ``refuse`` messages with ``refusal`` (a 4xx reply), then
    accepts and records them. With ``hold`` set, an accepted message waits until
    ``release`` is set (``entered`` tells that one is waiting)."""

    refuse: int = 0
    refusal: str = "451 4.3.0 Service busy, try again later"
    attempts: int = 0
    received: list[Envelope] = field(default_factory=list)
    hold: bool = False
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return self.refusal
        if self.hold:
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        self.received.append(envelope)
        return "250 2.0.0 OK: queued"

    def messages(self) -> list[EmailMessage]:
        result = []
        for envelope in self.received:
            raw = envelope.original_content or envelope.content
            assert isinstance(raw, bytes)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            result.append(parsed)
        return result


@dataclass
class SMTPServer:
    port: int
    handler: FlakySMTPHandler
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_settings(settings: Any) -> Callable[[int], None]:
    def point_at(port: int) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5

    return point_at


@pytest.fixture
def smtp_server(smtp_settings: Callable[[int], None]) -> Iterator[SMTPServer]:
    """A running SMTP server that accepts everything (set ``handler.refuse`` to make it
    refuse the next messages); Django's mail goes to it."""
    server = SMTPServer(port=free_port(), handler=FlakySMTPHandler())
    server.start()
    smtp_settings(server.port)
    yield server
    server.stop()


@pytest.fixture
def smtp_server_down(smtp_settings: Callable[[int], None]) -> Iterator[SMTPServer]:
    """Django's mail goes to a port where nothing listens (connection refused) until
    the test calls ``start()``."""
    server = SMTPServer(port=free_port(), handler=FlakySMTPHandler())
    smtp_settings(server.port)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _notifications_test_settings(settings: Any) -> None:
    # Record enqueued tasks instead of running them; tests that need the worker
    # choose another backend.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.LANGUAGE_CODE = "ja"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 12
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 3600
