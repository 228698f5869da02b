"""Apply online for 住民票の写し: prefilled from the resident registry, fee paid in the
sandbox, receipt downloaded, the application on the portal. axe-core on every page."""

from __future__ import annotations

import re
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


def _login(page: Any) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(RESIDENT[1])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/")


def _gomi_items_and_date(page: Any) -> None:
    """The items page with 「もう1件追加」/「削除」 (no JavaScript needed), then the date page."""
    import datetime as dt

    page.get_by_label("ソファ", exact=True).first.check()
    page.get_by_label("品名・大きさ").first.fill("3人掛けソファ")
    page.get_by_label("数量").first.fill("1")
    from playwright.sync_api import expect

    page.get_by_role("button", name="もう1件追加").click()
    expect(page.locator("fieldset.group-item")).to_have_count(2)
    assert page.locator(".error-summary").count() == 0
    assert page.get_by_label("品名・大きさ").first.input_value() == "3人掛けソファ"
    assert_accessible(page)
    page.get_by_label("品名・大きさ").nth(1).fill("いす")
    page.get_by_role("button", name=re.compile(r"削除\s*（品目 2）")).click()
    expect(page.locator("fieldset.group-item")).to_have_count(1)
    _next(page)
    from django.utils import timezone

    collection = timezone.localdate() + dt.timedelta(days=10)
    page.get_by_label("希望する収集日").fill(collection.isoformat())
    page.get_by_label("自宅の前").check()
    _next(page)


def test_correction_request_answered_by_the_resident(page: Any, demo_ward: None) -> None:
    """A resident applies (粗大ごみ), staff ask for a correction of the phone number, the
    resident sees it on the application's page, changes only that answer and resubmits;
    the timeline shows every step; then the resident withdraws the application."""
    from madoguchi.applications.services import application_request_correction
    from madoguchi.core.models import Resident, User

    _login(page)
    page.goto("/applications/start/sodai-gomi/")
    assert_accessible(page)
    page.get_by_role("button", name="申請を始める").click()
    page.wait_for_url("**/step/applicant/")
    assert_accessible(page)
    page.get_by_label("日中の連絡先電話番号").fill("03-9999-0000")
    _next(page)
    _gomi_items_and_date(page)

    assert "入力内容の確認" in page.content()
    page.get_by_label("変更した連絡先をマイページの登録情報にも保存する").check()
    page.locator("input[type=checkbox][name=declaration]").check()
    page.get_by_role("button", name="申請する").click()
    page.wait_for_url("**/done/")
    assert_accessible(page)
    hanako = User.objects.get(email=RESIDENT[0])
    assert Resident.objects.get(pk=hanako.resident_id).phone == "03-9999-0000"

    application = Application.objects.get(applicant=hanako, procedure__code="sodai-gomi")
    staff = User.objects.filter(email__endswith="-tanto@demo-ku.example.jp").first()
    application_request_correction(
        application=application,
        items={"phone": "この番号につながりませんでした。携帯電話の番号を入力してください。"},
        note="お手数ですが、連絡先を直してください。",
        actor=staff,
    )

    page.goto("/portal/")
    page.get_by_role("link", name="粗大ごみの収集申込").first.click()
    page.wait_for_url(f"**/applications/{application.public_id}/")
    assert "申請内容の補正（修正）をお願いします" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="内容を修正して再提出する").click()
    page.wait_for_url("**/correction/")
    assert_accessible(page)
    assert page.locator("input[name='name.family']").count() == 0  # only the marked answer is editable
    page.get_by_label("日中の連絡先電話番号").fill("でんわ")
    page.get_by_role("button", name="修正して再提出する").click()
    page.locator(".error-summary").wait_for()
    assert_accessible(page)
    page.get_by_label("日中の連絡先電話番号").fill("090-8888-7777")
    page.get_by_role("button", name="修正して再提出する").click()
    page.wait_for_url(f"**/applications/{application.public_id}/")
    assert_accessible(page)
    timeline = page.locator("ol.timeline").inner_text()
    assert "受付済み" in timeline and "補正依頼中" in timeline and "審査中" in timeline
    assert "お手数ですが、連絡先を直してください。" in timeline
    application.refresh_from_db()
    assert application.status == "in_review"

    page.get_by_role("link", name="取り下げる").click()
    page.wait_for_url("**/withdraw/")
    assert_accessible(page)
    page.get_by_role("button", name="申請を取り下げる").click()
    page.wait_for_url(f"**/applications/{application.public_id}/")
    assert "取下げ" in page.locator("ol.timeline").inner_text()
    assert_accessible(page)


def test_apply_without_an_account_and_resume_by_link(
    page: Any, browser: Any, live_server: Any, demo_ward: None
) -> None:
    from madoguchi.notifications.models import OutboxMessage

    page.goto("/applications/start/sodai-gomi/")
    assert_accessible(page)
    page.get_by_label("メールアドレス").fill("visitor@example.net")
    page.get_by_role("button", name="アカウントなしで申請を始める").click()
    page.wait_for_url("**/step/applicant/")
    assert_accessible(page)
    page.get_by_label("氏", exact=True).fill("鈴木")
    page.get_by_label("名", exact=True).fill("一郎")
    page.get_by_label("セイ", exact=True).fill("スズキ")
    page.get_by_label("メイ", exact=True).fill("イチロウ")
    page.get_by_label("生年月日").fill("1975-02-03")
    page.get_by_label("郵便番号").fill("100-0001")
    page.get_by_label("住所（丁目・番地・建物名）").fill("東京都デモ区中央二丁目2番2号")
    page.get_by_label("日中の連絡先電話番号").fill("090-1234-0000")
    _next(page)

    # Another browser opens the mailed link and carries on from the saved page.
    link = OutboxMessage.objects.get(to_address="visitor@example.net").link_url
    other = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 375, "height": 740})
    resumed = other.new_page()
    resumed.goto(link)
    resumed.wait_for_url("**/step/items_step/")
    assert_accessible(resumed)
    _gomi_items_and_date(resumed)
    resumed.locator("input[type=checkbox][name=declaration]").check()
    resumed.get_by_role("button", name="申請する").click()
    resumed.wait_for_url("**/done/")
    assert_accessible(resumed)
    application = Application.objects.get(applicant_email="visitor@example.net")
    assert application.status == "submitted" and application.reference_number in resumed.content()
    other.close()

    resumed_tampered = page
    resumed_tampered.goto(link[:-4] + "xxx/")
    assert "リンクが正しくありません" in resumed_tampered.content()
    assert_accessible(resumed_tampered)
