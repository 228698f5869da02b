from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from browser_tests.conftest import assert_accessible
from madoguchi.core.models import User
from madoguchi.notifications.services import message_deliver, outbox_enqueue

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")


def test_portal_home_inbox_profile_and_consents(page: Any, demo_ward: None) -> None:
    hanako = User.objects.get(email=RESIDENT[0])
    with transaction.atomic():
        message = outbox_enqueue(
            channel="inbox", user=hanako, subject="受付のお知らせ", body_text="申請を受け付けました。"
        )
    message_deliver(message.pk)

    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(RESIDENT[1])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("link", name="マイページ").first.click()
    page.wait_for_url("**/portal/")
    assert "山田" in page.content()
    assert_accessible(page)

    page.goto("/portal/inbox/")
    assert "未読" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="受付のお知らせ").click()
    assert "申請を受け付けました。" in page.content()
    assert_accessible(page)

    page.goto("/portal/profile/")
    assert "ヤマダ" in page.content() and "中央一丁目" in page.content()
    assert_accessible(page)
    phone = page.get_by_label("電話番号")
    phone.fill("abc")
    page.get_by_role("button", name="保存する").click()
    page.locator(".error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("電話番号").fill("09012345678")
    page.get_by_role("button", name="保存する").click()
    page.wait_for_load_state()
    assert "090-1234-5678" in page.content()

    page.goto("/portal/consents/")
    assert_accessible(page)
    page.get_by_role("button", name="同意する").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="同意を撤回する").count() >= 1
    assert_accessible(page)
