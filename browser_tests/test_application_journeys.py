"""Apply online for 住民票の写し: prefilled from the resident registry, fee paid in the
sandbox, receipt downloaded, the application on the portal. axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest

from browser_tests.conftest import assert_accessible
from madoguchi.applications.models import Application

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")


def _next(page: Any) -> None:
    page.get_by_role("button", name="次へ").click()
    page.wait_for_load_state()
    assert_accessible(page)


def test_apply_for_juminhyo_with_prefill_and_sandbox_payment(page: Any, demo_ward: None) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(RESIDENT[1])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/")

    page.goto("/procedures/juminhyo-copy/")
    page.get_by_role("link", name="オンラインで申請する").click()
    assert_accessible(page)
    page.get_by_role("button", name="申請を始める").click()
    page.wait_for_url("**/step/requester/")
    assert_accessible(page)

    # Once only: 基本4情報 come from the resident registry, marked with their source.
    assert page.locator("input[value='山田']").count() == 1
    assert page.locator("input[value='ハナコ']").count() == 1
    assert "住民記録から入力しました" in page.content()
    page.get_by_label("日中の連絡先電話番号").fill("03-1234-5678")
    page.get_by_label("本人", exact=True).check()
    _next(page)
    page.get_by_label("世帯全員").check()
    _next(page)
    _next(page)  # 記載事項: the defaults
    page.get_by_label("通数").fill("1")
    page.get_by_label("使いみち", exact=True).select_option("employment")
    _next(page)
    page.get_by_label("住民登録地へ郵送", exact=False).check()
    _next(page)

    assert "入力内容の確認" in page.content() and "山田" in page.content()
    page.locator("input[type=checkbox][name=declaration]").check()
    page.get_by_role("button", name="支払いへ進む").click()
    page.wait_for_url("**/payments/sandbox/pay/**")
    assert "300円" in page.content()
    assert_accessible(page)
    page.get_by_label("承認される（成功）").check()
    page.get_by_role("button", name="次へ進む").click()
    page.wait_for_url("**/done/")
    assert_accessible(page)

    application = Application.objects.get(applicant__email=RESIDENT[0])
    assert application.status == "submitted" and application.reference_number
    assert application.reference_number in page.content()

    receipt_url = page.get_by_role("link", name="受付票（PDF）をダウンロード").get_attribute("href")
    receipt = page.request.get(receipt_url)  # with the resident's session
    assert receipt.ok and receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")

    page.goto("/portal/")
    assert application.reference_number in page.content()
    assert_accessible(page)
