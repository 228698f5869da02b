from __future__ import annotations

from typing import Any

import pytest

from browser_tests.conftest import assert_accessible

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")


def test_search_finds_juminhyo_typed_in_hiragana(page: Any, demo_ward: None) -> None:
    page.goto("/")
    assert_accessible(page)
    page.get_by_label("手続きを探す").fill("じゅうみんひょう")
    page.get_by_role("button", name="検索").click()
    page.wait_for_url("**/procedures/?q=*")
    assert_accessible(page)
    first = page.locator(".card-list .card h2 a").first
    assert "住民票の写し" in first.inner_text()
    first.click()
    page.wait_for_url("**/procedures/juminhyo-copy/")
    assert "300円" in page.content()
    assert_accessible(page)


def _answer_all(page: Any) -> None:
    """Choose the first option on each question page, by keyboard. With JavaScript the
    wizard is boosted by htmx: no full page load, focus moves to the new heading."""
    for _ in range(10):
        if "/checklist/" in page.url:
            return
        assert_accessible(page)
        heading = page.locator("#main h1").inner_text()
        page.locator("input[type=radio]").first.focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="次へ").press("Enter")
        page.wait_for_function(
            "prev => location.pathname.includes('/checklist/') || "
            "(document.querySelector('#main h1') && document.querySelector('#main h1').innerText !== prev)",
            arg=heading,
        )
        if "/checklist/" not in page.url:
            # Focus follows the swap (after htmx settles).
            page.wait_for_function("document.activeElement && document.activeElement.tagName === 'H1'", timeout=5000)
    raise AssertionError("the guide did not reach the checklist")


def test_moving_in_guide_to_checklist_then_save_and_tick_off(page: Any, demo_ward: None) -> None:
    page.goto("/guide/")
    assert_accessible(page)
    page.get_by_role("link", name="引越し（区外から転入）").click()
    assert_accessible(page)
    page.get_by_role("link", name="はじめる").click()
    assert_accessible(page)
    page.locator("#date").fill("令和8年11月2日")
    page.get_by_role("button", name="次へ").click()
    page.locator("input[type=radio]").first.wait_for()
    _answer_all(page)
    page.wait_for_url("**/guide/moving-in/checklist/?date=*")
    assert "あなたの手続きチェックリスト" in page.content()
    assert "令和8年11月16日" in page.content()  # 転入届 within 14 days
    assert_accessible(page)
    share_url = page.locator("#share-url").input_value()
    assert "/guide/moving-in/checklist/?date=" in share_url

    # Log in and save it.
    page.get_by_role("link", name="ログインすると").click()
    assert_accessible(page)
    page.get_by_role("textbox", name="メールアドレス").fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(RESIDENT[1])
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/guide/moving-in/checklist/**")
    page.get_by_role("button", name="マイページに保存").click()
    page.wait_for_url("**/guide/saved/*/")
    assert_accessible(page)
    page.get_by_role("button", name="「転入届」を済みにする").click()
    page.get_by_role("button", name="「転入届」を未完了に戻す").wait_for()
    # htmx settles the swapped item's attributes a moment after inserting it.
    page.locator("li#item-tennyu.is-done").wait_for()
    page.reload()
    assert page.locator("li#item-tennyu.is-done").count() == 1
    assert_accessible(page)


def test_guide_works_without_javascript(nojs_page: Any, demo_ward: None) -> None:
    page = nojs_page
    page.goto("/guide/birth/ask/")
    page.locator("#date").fill("2026-11-02")
    page.get_by_role("button", name="次へ").click()
    for _ in range(10):
        if "/checklist/" in page.url:
            break
        page.locator("input[type=radio]").first.check()
        page.get_by_role("button", name="次へ").click()
    assert "/guide/birth/checklist/" in page.url
    assert "出生届" in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name="期限をカレンダーに登録（.ics）").click()
    assert download.value.suggested_filename == "checklist-birth.ics"


def test_error_summary_on_bad_date(page: Any, demo_ward: None) -> None:
    page.goto("/guide/moving-in/ask/")
    page.locator("#date").fill("きのう")
    page.get_by_role("button", name="次へ").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    assert "入力内容を確認してください" in summary.inner_text()
    assert page.locator("#date").get_attribute("aria-invalid") == "true"
    assert_accessible(page)


def test_english_pages(page: Any, demo_ward: None) -> None:
    page.goto("/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)
    page.goto("/guide/")
    assert_accessible(page)
