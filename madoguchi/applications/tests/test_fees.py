"""A procedure with a fee (juminhyo-copy, 300円 per copy) through the sandbox payment
page over real HTTP: the sandbox notifies the live server's webhook endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.payments.models import Payment

from .conftest import REQUESTER

pytestmark = pytest.mark.django_db(transaction=True)


class Browser:
    def __init__(self, client: Client, live_server: Any) -> None:
        self.client = client
        self.host = urlsplit(live_server.url).netloc

    def get(self, url: str) -> Any:
        return self.client.get(urlsplit(url).path, HTTP_HOST=self.host)

    def post(self, url: str, data: dict[str, str] | None = None) -> Any:
        return self.client.post(urlsplit(url).path, data or {}, HTTP_HOST=self.host)


@pytest.fixture
def browser(client: Client, live_server: Any, hanako: User) -> Browser:
    client.force_login(hanako)
    return Browser(client, live_server)


def _to_payment(browser: Browser) -> tuple[Application, str]:
    browser.post("/applications/start/juminhyo-copy/")
    application = Application.objects.get()
    base = f"/applications/{application.public_id}/"
    for key, data in [
        ("requester", REQUESTER),
        ("target", {"scope": "all"}),
        ("contents_step", {}),
        ("quantity", {"copies": "2", "purpose": "school"}),
        ("delivery_step", {"delivery": "mail"}),
    ]:
        assert browser.post(f"{base}step/{key}/", data).status_code == 302
    html = browser.get(f"{base}check/").content.decode()
    assert "600円" in html and "支払いへ進む" in html
    key = html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    first = browser.post(f"{base}submit/", {"submission_key": key, "declaration": "on"})
    second = browser.post(f"{base}submit/", {"submission_key": key, "declaration": "on"})
    assert first.status_code == 302 and "/payments/sandbox/pay/" in first["Location"]
    assert second["Location"] == first["Location"]
    assert Payment.objects.count() == 1
    application.refresh_from_db()
    assert application.status == "awaiting_payment" and application.reference_number is None
    return application, first["Location"]


def test_paid_application_is_submitted_once(browser: Browser) -> None:
    application, pay_url = _to_payment(browser)
    payment = Payment.objects.get()
    assert (payment.amount_yen, payment.purpose, payment.object_id) == (600, "application", str(application.public_id))
    answer = browser.post(pay_url, {"choice": "approve"})
    assert answer.status_code == 302
    back = browser.get(answer["Location"])
    assert back.status_code == 302 and back["Location"].endswith(f"/applications/{application.public_id}/done/")
    application.refresh_from_db()
    assert application.status == "submitted" and application.reference_number
    assert application.fee_yen == 600
    assert browser.post(pay_url, {"choice": "approve"}).status_code == 302
    assert OutboxMessage.objects.filter(channel="email").count() == 1
    assert application.reference_number in browser.get(back["Location"]).content.decode()


@pytest.mark.parametrize("choice", ["decline", "cancel"])
def test_declined_or_cancelled_payment_returns_to_the_check_page(browser: Browser, choice: str) -> None:
    application, pay_url = _to_payment(browser)
    answer = browser.post(pay_url, {"choice": choice})
    back = browser.get(answer["Location"])
    assert back.status_code == 302 and back["Location"] == f"/applications/{application.public_id}/check/"
    page = browser.get(back["Location"]).content.decode()
    assert "お支払いが完了しなかったため" in page
    application.refresh_from_db()
    assert application.status == "draft" and application.reference_number is None
    assert OutboxMessage.objects.count() == 0
    # paying again from the check page makes a new payment
    key = page.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    again = browser.post(f"/applications/{application.public_id}/submit/", {"submission_key": key, "declaration": "on"})
    assert "/payments/sandbox/pay/" in again["Location"] and again["Location"] != pay_url
    assert Payment.objects.count() == 2
