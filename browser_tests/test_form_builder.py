"""The no-code form builder in headless Chromium: a 係長 of 区民課 makes a new version
of the 住民票の写し form, adds a field, sees it in the live preview and publishes.
Once with JavaScript (htmx swaps the editor after each edit), with axe-core on every
page visited, and once without JavaScript (where axe-core cannot run)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from browser_tests.conftest import assert_accessible
from madoguchi.forms.selectors import form_get_current

pytestmark = pytest.mark.browser

KAKARICHO = "kumin-kakaricho@demo-ku.example.jp"
PASSWORD = "demo-shokuin-2026"  # noqa: S105 - the published demo password
FORM = "juminhyo-copy"


@pytest.fixture(autouse=True)
def _builder_settings(settings: Any) -> Iterator[None]:
    settings.STAFF_REQUIRE_2FA = False  # the journey logs in with the password
    cache.clear()
    yield
    cache.clear()


def _log_in(page: Any) -> None:
    page.goto("/accounts/staff/login/")
    page.get_by_label("メールアドレス", exact=True).fill(KAKARICHO)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="ログアウト").count() == 1


def _build_and_publish(page: Any, check: Callable[[Any], None]) -> None:
    _log_in(page)
    page.goto("/staff/forms/?department=kumin&with_forms=1")
    check(page)
    row = page.locator("tr", has=page.locator(f"code:text-is('{FORM}')"))
    row.get_by_role("button", name="新しい版を作る").click()
    page.wait_for_url(f"**/staff/forms/{FORM}/v2/")
    assert "第2版の下書きを作りました" in page.content()
    assert "問題はありません。公開できます。" in page.content()
    check(page)

    # add a field to the first step
    step = page.locator("#b-step-0")
    step.get_by_label("追加する項目の種類").select_option("text")
    step.get_by_label("項目名", exact=True).fill("勤務先の名称")
    step.get_by_role("button", name="項目を追加").click()
    page.wait_for_load_state()
    page.locator(".notice-list", has_text="項目「勤務先の名称」を追加しました").wait_for()
    check(page)

    # it is in the live preview, as the resident would see it
    preview = page.locator("#b-preview")
    assert preview.get_by_label("勤務先の名称").count() == 1

    # make it required on its own page
    page.locator("#b-step-0").get_by_role("link", name=re.compile("詳しく設定.*勤務先の名称")).click()
    page.wait_for_url("**/fields/0/8/")
    check(page)
    page.get_by_label("必須にする").check()
    page.get_by_role("button", name="この項目を保存").click()
    page.wait_for_url(f"**/staff/forms/{FORM}/v2/**")
    check(page)

    # try it in the step-by-step preview: the new field is required
    page.get_by_role("link", name="プレビューで入力を試す").click()
    page.wait_for_url("**/preview/")
    check(page)
    page.get_by_role("button", name="次へ").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").count() == 1
    check(page)
    page.get_by_role("link", name="フォームの編集へ戻る").click()
    page.wait_for_url(f"**/staff/forms/{FORM}/v2/")

    page.get_by_role("button", name="この版を公開する").click()
    page.wait_for_url("**/staff/forms/")
    assert "第2版を公開しました" in page.content()
    check(page)

    current = form_get_current(FORM)
    assert current is not None and current.version == 2
    field = current.definition["steps"][0]["fields"][-1]
    assert field["label"] == "勤務先の名称" and field["required"] is True


def test_kakaricho_builds_a_new_version_previews_and_publishes(page: Any, demo_ward: None) -> None:
    _build_and_publish(page, assert_accessible)


def test_the_same_journey_works_without_javascript(nojs_page: Any, demo_ward: None) -> None:
    _build_and_publish(nojs_page, lambda page: None)
