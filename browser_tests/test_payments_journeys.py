from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from browser_tests.conftest import assert_accessible
from madoguchi.core.models import User
from madoguchi.payments.machine import Status
from madoguchi.payments.models import Payment
from madoguchi.payments.services import payment_create, payment_start

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")


def _log_in(page: Any) -> User:
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(RESIDENT[1])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/")
    return User.objects.get(email=RESIDENT[0])


def _payment_page(page: Any, live_server: Any, payer: User, key: str) -> Payment:
    payment = payment_create(
        amount_yen=300,
        description="住民票の写し 1通",
        purpose="browser-test",
        object_id=key,
        payer=payer,
        idempotency_key=key,
    )
    back = live_server.url + reverse("payments:return", args=[payment.public_id])
    url = payment_start(payment=payment, return_url=back, cancel_url=back + "?cancelled=1", actor=payer)
    page.goto(url)
    return payment


def test_pay_a_fee_in_the_sandbox(page: Any, live_server: Any, demo_ward: None) -> None:
    payer = _log_in(page)
    payment = _payment_page(page, live_server, payer, "browser-pay-1")
    assert "300円" in page.content()
    assert_accessible(page)
    # Submitting without a choice shows the error summary.
    page.get_by_role("button", name="次へ進む").click()
    page.locator(".error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("承認される（成功）").check()
    page.get_by_role("button", name="次へ進む").click()
    page.wait_for_url(f"**/payments/return/{payment.public_id}/**")
    assert "お支払いが完了しました。" in page.content()
    assert_accessible(page)
    payment.refresh_from_db()
    assert payment.status == Status.AUTHORIZED


def test_declined_card_takes_no_money(page: Any, live_server: Any, demo_ward: None) -> None:
    payer = _log_in(page)
    payment = _payment_page(page, live_server, payer, "browser-pay-2")
    page.get_by_label("カード会社に拒否される").check()
    page.get_by_role("button", name="次へ進む").click()
    page.wait_for_url(f"**/payments/return/{payment.public_id}/**")
    assert "お金は引き落とされていません" in page.content()
    assert_accessible(page)
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
