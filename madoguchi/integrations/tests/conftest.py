from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_create_and_submit
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.demo.ward import demo_load
from madoguchi.forms.fields import mynumber_check_digit

MYNUMBER_FIRST11 = "12345678901"
MYNUMBER = MYNUMBER_FIRST11 + str(mynumber_check_digit(MYNUMBER_FIRST11))

PERSON: dict[str, Any] = {
    "name": {"family": "山田", "given": "花子"},
    "name_kana": {"family": "ヤマダ", "given": "ハナコ"},
    "birth_date": "1988-04-12",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央一丁目1番1号",
    "phone": "03-1234-5678",
    "email": "hanako@example.jp",
}

JIDOTEATE: dict[str, Any] = {
    **PERSON,
    "mynumber": MYNUMBER,
    "insurance": "kokuho",
    "children": [
        {
            "name": {"family": "山田", "given": "太郎"},
            "name_kana": {"family": "ヤマダ", "given": "タロウ"},
            "birth_date": "2020-05-05",
            "living": "together",
        },
        {
            "name": {"family": "山田", "given": "次郎"},
            "name_kana": {"family": "ヤマダ", "given": "ジロウ"},
            "birth_date": "2023-01-10",
            "living": "together",
        },
    ],
    "has_spouse": "no",
    "bank": "デモ銀行",
    "branch": "本店",
    "account_type": "futsu",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
    "declaration": True,
}

JUMINHYO: dict[str, Any] = {
    **PERSON,
    "relationship": "self",
    "scope": "all",
    "contents": [],
    "copies": 1,
    "purpose": "employment",
    "delivery": "mail",
    "declaration": True,
}


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.STAFF_REQUIRE_2FA = False
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2
    settings.WEBHOOKS_MAX_ATTEMPTS = 4
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600


@pytest.fixture
def ward(db: Any) -> None:
    demo_load()
    Procedure.objects.filter(code="juminhyo-copy").update(fee_yen=None)


def staff(code: str) -> User:
    return User.objects.get(email=f"{code}@demo-ku.example.jp")


@pytest.fixture
def hanako(ward: None) -> User:
    return User.objects.get(email="hanako@example.jp")


def submit(applicant: User, procedure: str = "jidoteate", data: dict[str, Any] | None = None) -> Application:
    if data is None:
        data = JIDOTEATE if procedure == "jidoteate" else JUMINHYO
    application, _created = application_create_and_submit(
        applicant=applicant, procedure_code=procedure, data=data, submission_key=uuid.uuid4().hex
    )
    return application


def login(client: Client, code: str) -> Client:
    client.force_login(staff(code))
    return client


# -- a real HTTP receiver ---------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server on 127.0.0.1 (random port) that records every POST and
    answers with the next status of ``statuses`` (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def _next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            status = state._next_status()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            try:
                self.wfile.write(b"ok")
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hook"
