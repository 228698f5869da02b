"""The whole payment through the sandbox over real HTTP: the sandbox page notifies
the live server's webhook endpoint with ``urllib``, as an outside provider would."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import reverse

from madoguchi.core.models import User
from madoguchi.payments.machine import Status
from madoguchi.payments.models import Payment, PaymentEvent, SandboxCharge
from madoguchi.payments.providers import sandbox
from madoguchi.payments.services import payment_capture, payment_handle_webhook, payment_refund, payment_start

from .conftest import SettledLog, event_body, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


class Browser:
    """The test client, sending every request with the live server's host name, so the
    URLs the app builds (the webhook URL, return_url) point at the live server."""

    def __init__(self, client: Client, live_server: Any) -> None:
        self.client = client
        self.host = urlsplit(live_server.url).netloc
        self.base = live_server.url

    def get(self, url: str) -> Any:
        parts = urlsplit(url)
        assert not parts.netloc or parts.netloc == self.host, url
        return self.client.get(parts.path, HTTP_HOST=self.host)

    def post(self, url: str, data: dict[str, str]) -> Any:
        return self.client.post(urlsplit(url).path, data, HTTP_HOST=self.host)


@pytest.fixture
def browser(client: Client, live_server: Any, resident: User) -> Browser:
    client.force_login(resident)
    return Browser(client, live_server)


def _start(browser: Browser, resident: User) -> tuple[Payment, str]:
    payment = make_payment(resident, start=False)
    back = browser.base + reverse("payments:return", args=[payment.public_id])
    url = payment_start(payment=payment, return_url=back, cancel_url=back + "?cancelled=1", actor=resident)
    return payment, url


def _pay(browser: Browser, resident: User, choice: str) -> tuple[Payment, Any]:
    payment, url = _start(browser, resident)
    page = browser.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "300円" in html and "住民票の写し 1通" in html
    for label in ("承認される（成功）", "カード会社に拒否される", "キャンセル"):
        assert label in html
    assert "<script" not in html.split("<main", 1)[1]
    answer = browser.post(url, {"choice": choice})
    assert answer.status_code == 302
    result = browser.get(answer["Location"])
    assert result.status_code == 200
    payment.refresh_from_db()
    return payment, result


def test_approved_card_authorizes_then_staff_capture_and_refund(
    browser: Browser, resident: User, settled_calls: SettledLog
) -> None:
    payment, result = _pay(browser, resident, "approve")
    assert payment.status == Status.AUTHORIZED
    assert "お支払いが完了しました。" in result.content.decode()
    assert settled_calls.public_ids() == [payment.public_id]
    event = PaymentEvent.objects.get(payment=payment)
    assert (event.type, event.outcome) == ("authorized", PaymentEvent.Outcome.APPLIED)

    payment_capture(payment=payment, actor=None)
    assert SandboxCharge.objects.get().state == SandboxCharge.State.CAPTURED
    payment_refund(payment=payment, amount_yen=300, actor=None, reason="申請取下げ")
    assert (payment.status, payment.refunded_yen) == (Status.REFUNDED, 300)
    assert settled_calls.public_ids() == [payment.public_id]


def test_declined_card_fails_the_payment(browser: Browser, resident: User, settled_calls: SettledLog) -> None:
    payment, result = _pay(browser, resident, "decline")
    assert payment.status == Status.FAILED
    assert "カード会社がお支払いを承認しませんでした。" in result.content.decode()
    assert settled_calls.public_ids() == []


def test_cancel_returns_to_cancel_url(browser: Browser, resident: User, settled_calls: SettledLog) -> None:
    payment, url = _start(browser, resident)
    answer = browser.post(url, {"choice": "cancel"})
    assert answer.status_code == 302
    assert answer["Location"].endswith("?cancelled=1")
    payment.refresh_from_db()
    assert payment.status == Status.CANCELLED
    assert "お支払いをキャンセルしました。" in browser.get(answer["Location"]).content.decode()
    assert settled_calls.public_ids() == []


def test_submitting_the_page_twice_pays_once(browser: Browser, resident: User, settled_calls: SettledLog) -> None:
    payment, url = _start(browser, resident)
    first = browser.post(url, {"choice": "approve"})
    second = browser.post(url, {"choice": "decline"})
    assert first.status_code == second.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Status.AUTHORIZED
    assert PaymentEvent.objects.count() == 1
    assert settled_calls.public_ids() == [payment.public_id]


def test_no_choice_shows_an_error_summary(browser: Browser, resident: User) -> None:
    payment, url = _start(browser, resident)
    page = browser.post(url, {})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="error-summary"' in html and 'href="#id_choice_0"' in html
    assert "テスト用のカードを選んでください。" in html
    assert 'id="id_choice_0"' in html and 'for="id_choice_0"' in html
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_unreachable_webhook_leaves_the_payment_pending_and_can_be_retried(
    browser: Browser, resident: User, settings: Any, settled_calls: SettledLog
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.PAYMENT_SANDBOX_WEBHOOK_URL = f"http://127.0.0.1:{closed_port}/payments/webhook/sandbox/"
    payment, url = _start(browser, resident)
    page = browser.post(url, {"choice": "approve"})
    assert page.status_code == 502
    assert "支払い結果を窓口に通知できませんでした" in page.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert SandboxCharge.objects.get().state == SandboxCharge.State.OPEN

    settings.PAYMENT_SANDBOX_WEBHOOK_URL = ""
    assert browser.post(url, {"choice": "approve"}).status_code == 302
    payment.refresh_from_db()
    assert payment.status == Status.AUTHORIZED
    assert settled_calls.public_ids() == [payment.public_id]


def test_concurrent_duplicate_deliveries_capture_once(resident: User, settled_calls: SettledLog) -> None:
    """Each delivery runs in its own thread with its own database connection (the live
    server cannot show this: with the in-memory test database all its request threads
    share one connection). SQLite answers a writer that meets another's lock with an
    error instead of waiting, so a delivery that fails is retried, as a provider
    retries a webhook answered with an error; PostgreSQL waits on the row lock."""
    payment = make_payment(resident)
    factory = RequestFactory()
    outcomes: list[str] = []
    lock = threading.Lock()

    def deliver_many(body: bytes, times: int) -> None:
        barrier = threading.Barrier(times)

        def one() -> None:
            request = factory.post(
                "/payments/webhook/sandbox/",
                data=body,
                content_type="application/json",
                headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)},
            )
            barrier.wait()
            try:
                for _attempt in range(200):
                    try:
                        result = payment_handle_webhook(provider="sandbox", request=request)
                    except OperationalError:
                        time.sleep(0.01)
                        continue
                    with lock:
                        outcomes.append(result.outcome.value)
                    return
            finally:
                connection.close()

        threads = [threading.Thread(target=one) for _ in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    deliver_many(event_body(payment, "authorized"), 6)
    deliver_many(event_body(payment, "captured"), 6)
    assert sorted(outcomes) == ["applied"] * 2 + ["duplicate"] * 10
    payment.refresh_from_db()
    assert payment.status == Status.CAPTURED
    assert payment.captured_yen == 300
    assert list(PaymentEvent.objects.values_list("type", "outcome")) == [
        ("authorized", "applied"),
        ("captured", "applied"),
    ]
    assert settled_calls.public_ids() == [payment.public_id]
