"""E-approval (電子決裁) journey in headless Chromium: a 係長 drafts an internal document
(起案) with an attachment, the 課長 approves it, and the stamps are on the route.
Also the 代決 settings and the report. axe-core runs on every page visited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from browser_tests.conftest import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "demo-shokuin-2026"  # noqa: S105 - the published demo password
KAKARICHO = "kumin-kakaricho@demo-ku.example.jp"
KACHO = "kumin-kacho@demo-ku.example.jp"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _approvals_settings(settings: Any, tmp_path: Any) -> Iterator[None]:
    # Outside production STAFF_REQUIRE_2FA is off; the journey logs in with the password.
    settings.STAFF_REQUIRE_2FA = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    yield
    cache.clear()


def _log_in(page: Any, email: str) -> None:
    page.goto("/accounts/staff/login/")
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="ログアウト").count() == 1


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()


def test_kakaricho_drafts_a_document_and_kacho_approves_it(page: Any, demo_ward: None, tmp_path: Any) -> None:
    attachment = tmp_path / "掲示案.pdf"
    attachment.write_bytes(PDF)

    _log_in(page, KAKARICHO)
    page.goto("/staff/approvals/")
    assert_accessible(page)
    page.get_by_role("link", name="起案する").first.click()
    page.wait_for_url("**/staff/approvals/documents/new/")
    assert_accessible(page)
    page.get_by_role("button", name="起案して決裁に回す").click()  # nothing filled in
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    assert "件名を入力してください" in summary.inner_text()
    assert_accessible(page)

    page.get_by_label("件名", exact=True).fill("区民課窓口の多言語案内表示について")
    page.get_by_label("本文", exact=True).fill("窓口の案内表示に英語・中国語・韓国語・ベトナム語を加えます。")
    page.get_by_label("添付ファイル", exact=True).set_input_files(str(attachment))
    page.get_by_role("button", name="起案して決裁に回す").click()
    page.wait_for_url(re.compile(r".*/staff/approvals/r/[0-9a-f-]+/$"))
    detail_url = page.url
    main = page.locator("main")
    assert "起案しました。" in page.locator(".notice-list").inner_text()
    assert "決裁中" in main.inner_text()
    assert page.get_by_role("img", name=re.compile("^起案印：区民課係長")).count() == 1
    assert "省略" in main.inner_text()  # the 係長 drafted: the 係長 step is skipped
    assert page.get_by_role("link", name=re.compile("添付: 掲示案.pdf")).count() == 1
    assert page.get_by_role("button", name="決裁する").count() == 0  # not the drafter's to approve
    assert_accessible(page)
    _log_out(page)

    _log_in(page, KACHO)
    page.goto("/staff/approvals/")
    assert_accessible(page)
    page.get_by_role("link", name="区民課窓口の多言語案内表示について").click()
    page.wait_for_url(detail_url)
    assert_accessible(page)
    page.get_by_role("radio", name="承認する").check()
    page.get_by_label("コメント", exact=True).fill("承認します。")
    page.get_by_role("button", name="決裁する").click()
    page.wait_for_url(detail_url)
    assert "承認しました。" in page.locator(".notice-list").inner_text()
    assert "決裁済み" in main.inner_text()
    stamp = page.get_by_role("img", name=re.compile("^承認印：区民課 課長 区民課課長"))
    assert stamp.count() == 1 and stamp.is_visible()
    assert "承認します。" in main.inner_text()
    assert "この決裁は終了しているため、変更できません。" in main.inner_text()
    assert page.get_by_role("button", name="決裁する").count() == 0
    assert_accessible(page)

    page.goto("/staff/approvals/")
    page.get_by_role("link", name="決裁の集計").click()
    page.wait_for_url("**/staff/approvals/report/")
    row = page.get_by_role("row", name=re.compile("標準"))
    assert "100%" in row.inner_text()
    assert_accessible(page)


def test_kacho_sets_a_delegate(page: Any, demo_ward: None) -> None:
    _log_in(page, KACHO)
    page.goto("/staff/approvals/delegation/")
    assert_accessible(page)
    page.get_by_label("代決者", exact=True).select_option(label="区民課係長")
    page.get_by_label("理由（任意）").fill("出張")
    page.get_by_role("button", name="代決者を設定する").click()
    page.wait_for_url("**/staff/approvals/delegation/")
    assert "代決者を設定しました。" in page.locator(".notice-list").inner_text()
    assert page.get_by_role("button", name="区民課係長 への代決を取り消す").count() == 1
    assert_accessible(page)
