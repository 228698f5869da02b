"""Facility lottery in a real browser, axe-core on every page: a resident applies for
the demo gym's lottery as her group's representative, a 係長 of 地域振興課 runs the
draw after the window closes, the resident confirms her win and pays the fee in the
payment sandbox. Also: the facility and availability pages, and an event registration
with its check-in QR code."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from browser_tests.conftest import assert_accessible
from madoguchi.reservations.models import Booking, LotteryApplication, LotteryRound

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")
STAFF = ("chiiki-kakaricho@demo-ku.example.jp", "demo-shokuin-2026")


def _log_in(page: Any, email: str, password: str, *, staff: bool = False) -> None:
    page.goto("/accounts/staff/login/" if staff else "/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()


def test_apply_to_a_lottery_staff_draw_and_the_resident_confirms_and_pays(
    page: Any, browser: Any, live_server: Any, demo_ward: None
) -> None:
    lottery = LotteryRound.objects.get(facility__code="sogo-taiikukan")

    # The resident finds the lottery and applies.
    _log_in(page, *RESIDENT)
    page.goto("/reservations/")
    assert_accessible(page)
    page.get_by_role("link", name=lottery.title).click()
    page.wait_for_url(f"**/reservations/lotteries/{lottery.pk}/")
    assert_accessible(page)
    assert lottery.seed_hash in page.content()
    page.get_by_role("link", name="この抽選に申し込む").click()
    page.wait_for_url("**/apply/")
    assert_accessible(page)

    # Submitting without choices: the error summary links to the field.
    page.get_by_label("申し込む団体").select_option(label="デモ区バドミントンクラブ")
    page.get_by_role("button", name="申し込む").click()
    page.locator(".error-summary").wait_for()
    assert_accessible(page)
    assert "第1希望を1つ以上選んでください。" in page.content()

    first = page.locator("#id_entry_1_first")
    options = first.locator("option")
    # The first real option of 第1競技場 (it has a fee) and a 2nd choice.
    gym_first = [o for o in options.all() if "第1競技場" in o.inner_text()]
    first.select_option(value=gym_first[0].get_attribute("value"))
    page.locator("#id_entry_1_second").select_option(value=gym_first[1].get_attribute("value"))
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url(re.compile(r".*/reservations/applications/[0-9a-f-]{36}/$"))
    assert_accessible(page)
    assert "抽選に申し込みました。" in page.content()
    application = LotteryApplication.objects.get(round=lottery)

    # The window closes; a 係長 of the facility's department runs the draw.
    LotteryRound.objects.filter(pk=lottery.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    staff_context = browser.new_context(base_url=live_server.url, locale="ja-JP")
    staff = staff_context.new_page()
    _log_in(staff, *STAFF, staff=True)
    staff.goto("/reservations/staff/")
    assert_accessible(staff)
    staff.get_by_role("link", name=lottery.title).click()
    staff.wait_for_url(f"**/reservations/staff/lotteries/{lottery.pk}/")
    assert_accessible(staff)
    staff.get_by_role("button", name="抽選を実施する").click()
    staff.wait_for_load_state()
    assert_accessible(staff)
    assert "抽選を実施しました（当選 1 件）" in staff.content()
    lottery.refresh_from_db()
    assert lottery.is_drawn and lottery.seed_revealed
    staff_context.close()

    # The resident sees the result, confirms the win and pays the fee.
    page.goto("/reservations/my/")
    assert_accessible(page)
    page.get_by_role("link", name=lottery.title).click()
    page.wait_for_url(f"**/reservations/applications/{application.public_id}/")
    assert_accessible(page)
    assert "当選" in page.content()
    page.get_by_role("link", name="当選した枠の確定・お支払い").click()
    page.wait_for_url(re.compile(r".*/reservations/bookings/[0-9a-f-]{36}/$"))
    assert_accessible(page)
    page.get_by_role("button", name="利用を確定する").click()
    page.wait_for_load_state()
    assert_accessible(page)
    assert "利用を確定しました。期限までに使用料をお支払いください。" in page.content()
    booking = Booking.objects.get(group__representative__email=RESIDENT[0], source="lottery")
    assert booking.status == Booking.Status.PENDING_PAYMENT
    page.get_by_role("button", name=re.compile("使用料 3,000円 を支払う")).click()
    page.wait_for_url("**/payments/sandbox/pay/**")
    assert_accessible(page)
    page.get_by_label("承認される（成功）").check()
    page.get_by_role("button", name="次へ進む").click()
    page.wait_for_url(f"**/reservations/bookings/{booking.public_id}/")
    assert_accessible(page)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert "予約確定" in page.content()

    # Anyone can see the revealed seed on the round page.
    page.goto(f"/reservations/lotteries/{lottery.pk}/")
    assert_accessible(page)
    assert lottery.seed_revealed in page.content() and lottery.result_digest in page.content()


def test_facility_availability_and_an_event_with_its_check_in_code(page: Any, demo_ward: None) -> None:
    page.goto("/reservations/facilities/chuo-kumin-kaikan/")
    assert_accessible(page)
    day = timezone.localdate() + dt.timedelta(days=7)
    while (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3):
        day += dt.timedelta(days=1)
    page.get_by_label("日付").fill(day.isoformat())
    page.get_by_role("button", name="表示する").click()
    page.wait_for_load_state()
    assert_accessible(page)

    _log_in(page, *RESIDENT)
    page.goto("/reservations/events/")
    assert_accessible(page)
    page.get_by_role("link", name="デモ区防災フェア").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="参加を申し込む").click()
    page.wait_for_url(re.compile(r".*/reservations/registrations/[0-9a-f-]{36}/$"))
    assert_accessible(page)
    assert page.locator("figure svg").count() == 1
    page.goto("/reservations/opendata/")
    assert_accessible(page)
