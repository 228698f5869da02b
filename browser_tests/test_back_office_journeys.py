"""The back office end to end: a resident applies online (犬の死亡届), a member of
staff asks for a correction (補正), the resident fixes it, staff propose the decision,
the 係長 and the 課長 approve it (電子決裁), and the resident finds the decision notice.
axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest

from browser_tests.conftest import assert_accessible
from madoguchi.applications.models import Application
from madoguchi.cases.models import Case

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")
STAFF_PASSWORD = "demo-shokuin-2026"  # noqa: S105 - demo account


def _log_in(page: Any, email: str, password: str, *, staff: bool = False) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/staff/login/" if staff else "/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()


def _next(page: Any) -> None:
    page.get_by_role("button", name="次へ").click()
    page.wait_for_load_state()
    assert_accessible(page)


def _approve(page: Any, email: str, reference: str) -> None:
    _log_in(page, email, STAFF_PASSWORD, staff=True)
    page.goto("/staff/approvals/")
    assert_accessible(page)
    page.get_by_role("link", name=reference, exact=False).first.click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("radio", name="承認する").check()
    page.get_by_role("button", name="決裁する").click()
    page.wait_for_load_state()
    assert_accessible(page)


def test_apply_correct_decide_approve_and_receive_the_notice(page: Any, demo_ward: None) -> None:
    # The resident applies online.
    _log_in(page, *RESIDENT)
    page.goto("/applications/start/inu-shibo/")
    page.get_by_role("button", name="申請を始める").click()
    page.wait_for_url("**/step/applicant/")
    assert_accessible(page)
    page.get_by_label("日中の連絡先電話番号").fill("03-1234-5678")
    _next(page)
    page.get_by_label("登録番号（鑑札の番号）").fill("R6-1234")
    page.get_by_label("犬の名前").fill("ぽち")
    page.get_by_label("死亡した日").fill("2026-11-01")
    page.get_by_label("郵送で返却する").check()
    _next(page)
    assert "入力内容の確認" in page.content(), page.locator("main").inner_text()
    page.locator("input[type=checkbox][name=declaration]").check()
    page.get_by_role("button", name="申請する").click()
    page.wait_for_url("**/done/")
    assert_accessible(page)
    application = Application.objects.get(applicant__email=RESIDENT[0], procedure__code="inu-shibo")
    reference = application.reference_number
    assert reference

    # A member of 生活衛生課 starts the review and asks for a correction of the dog's name.
    _log_in(page, "seikatsu-eisei-tanto@demo-ku.example.jp", STAFF_PASSWORD, staff=True)
    page.goto("/staff/cases/")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="審査を開始する").click()
    page.wait_for_load_state()
    assert "審査中" in page.content()
    assert_accessible(page)
    page.locator("summary", has_text="補正を依頼する").click()
    page.get_by_label("犬の名前：ぽち").check()
    page.get_by_label("犬の名前 の補正内容").fill("登録されている犬の名前と違います。鑑札の登録名を入力してください。")
    page.get_by_role("button", name="補正を依頼する").click()
    page.wait_for_load_state()
    assert "補正依頼中" in page.content()
    assert_accessible(page)

    # The resident sees the request, corrects only that answer and resubmits.
    _log_in(page, *RESIDENT)
    page.goto(f"/applications/{application.public_id}/")
    assert "補正" in page.content() and "鑑札の登録名" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="内容を修正して再提出する").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("犬の名前").fill("ポチ丸")
    page.get_by_role("button", name="修正して再提出する").click()
    page.wait_for_load_state()
    assert_accessible(page)

    # Staff see the difference and send the decision to approval.
    _log_in(page, "seikatsu-eisei-tanto@demo-ku.example.jp", STAFF_PASSWORD, staff=True)
    page.goto(f"/staff/cases/{reference}/")
    content = page.content()
    assert "ぽち" in content and "ポチ丸" in content and "審査中" in content
    assert_accessible(page)
    page.get_by_label("承認・交付").check()
    page.get_by_role("button", name="決裁に回す").click()
    page.wait_for_load_state()
    assert "決裁中" in page.content()

    # 係長, then 課長 approve; their stamps are on the route.
    _approve(page, "seikatsu-eisei-kakaricho@demo-ku.example.jp", reference)
    _approve(page, "seikatsu-eisei-kacho@demo-ku.example.jp", reference)
    case = Case.objects.get(reference_number=reference)
    assert case.status == "decided" and case.notice_file

    # The resident sees the decision and downloads the notice.
    _log_in(page, *RESIDENT)
    page.goto(f"/applications/{application.public_id}/")
    assert "決定" in page.content()
    assert_accessible(page)
    notice_url = page.get_by_role("link", name="決定通知書（PDF）").get_attribute("href")
    notice = page.request.get(notice_url)
    assert notice.ok and notice.body().startswith(b"%PDF")


def test_counter_assistance_with_the_second_screen(page: Any, browser: Any, live_server: Any, demo_ward: None) -> None:
    """書かない窓口: staff find 山田 花子, start 住民票の写し prefilled from the record,
    complete it, and she checks and signs on the tablet; the application is received
    with the channel 窓口."""
    _log_in(page, "kumin-tanto@demo-ku.example.jp", STAFF_PASSWORD, staff=True)
    page.goto("/staff/counter/")
    assert_accessible(page)
    page.get_by_label("フリガナ（氏・名）").fill("やまだ はなこ")
    page.get_by_role("button", name="住民を探す").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="山田 花子 さんの手続きを始める").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("住民票の写しの交付（区民課）", exact=False).check()
    page.get_by_role("button", name="手続きを追加").click()
    page.wait_for_load_state()
    assert "住民記録から入力済み" in page.content()
    assert_accessible(page)

    # Staff complete what the record does not hold, on the ordinary pages.
    page.get_by_role("link", name="の内容を確認・入力", exact=False).first.click()
    page.wait_for_load_state()
    assert_accessible(page)
    draft = Application.objects.get(procedure__code="juminhyo-copy", channel="counter")
    page.goto(f"/applications/{draft.public_id}/step/requester/")
    assert page.locator("input[value='山田']").count() == 1
    page.get_by_label("日中の連絡先電話番号").fill("03-1234-5678")
    page.get_by_label("本人", exact=True).check()
    _next(page)
    page.get_by_label("世帯全員").check()
    _next(page)
    _next(page)
    page.get_by_label("通数").fill("1")
    page.get_by_label("使いみち", exact=True).select_option("employment")
    _next(page)
    page.get_by_label("住民登録地へ郵送", exact=False).check()
    _next(page)
    assert "窓口で作成中の申請です" in page.content()
    page.get_by_role("link", name="書かない窓口の画面へ戻る").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="山田 花子", exact=False).first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name="確認画面に表示する").click()
    page.wait_for_load_state()
    assert_accessible(page)
    code = page.locator(".pairing-code").inner_text().strip()
    assert len(code) == 6

    # The second screen: a tablet at the counter, no login.
    tablet_context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", viewport={"width": 800, "height": 1200}
    )
    tablet = tablet_context.new_page()
    tablet.goto("/counter/screen/")
    assert_accessible(tablet)
    tablet.get_by_label("職員の画面に表示された6桁の番号").fill(code)
    tablet.get_by_role("button", name="表示する").click()
    tablet.wait_for_url("**/counter/screen/review/")
    assert "山田" in tablet.content() and "住民票" in tablet.content()
    assert_accessible(tablet)
    tablet.get_by_role("button", name="この内容で申請する").click()  # without signing: refused
    tablet.wait_for_load_state()
    assert "error-summary" in tablet.content()
    assert_accessible(tablet)
    canvas = tablet.locator("canvas")
    box = canvas.bounding_box()
    tablet.mouse.move(box["x"] + 20, box["y"] + 30)
    tablet.mouse.down()
    for step in range(1, 12):
        tablet.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 15)
    tablet.mouse.up()
    tablet.get_by_label("内容を確認しました。記載した内容は事実と相違ありません。").check()
    tablet.get_by_role("button", name="この内容で申請する").click()
    tablet.wait_for_load_state()
    assert tablet.url.endswith("/counter/screen/done/"), tablet.locator("main").inner_text()
    assert_accessible(tablet)
    tablet_context.close()

    application = Application.objects.get(procedure__code="juminhyo-copy", channel="counter")
    assert application.status == "submitted" and application.reference_number
    assert application.counter_visits.get().signature.startswith("M ")
    page.reload()
    assert "申請を受け付けました" in page.content()
    assert_accessible(page)
