"""Counter appointments and the same-day queue in a real browser, axe-core on every page:
(a) a resident books a counter appointment from the procedure page and cancels it;
(b) a visitor takes a ticket at the kiosk, staff call it, the display board shows it,
announces it in its aria-live region and reads it aloud (Web Speech API, stubbed to
record what would be spoken); (c) a resident checks in on arrival (「到着しました」) from
the entrance QR code's page, and staff register the kiosk tablet."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest

from browser_tests.conftest import assert_accessible
from madoguchi.appointments import clock
from madoguchi.appointments.models import Appointment, QueueTicket
from madoguchi.appointments.tokens import ticket_token

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")
STAFF = ("kumin-tanto@demo-ku.example.jp", "demo-shokuin-2026")
#: The queue journey runs on Wednesday 25 November 2026 at 10:00 in Tokyo, an open day.
QUEUE_NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))

SPEECH_STUB = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (u) { window.__spoken.push({text: u.text, lang: u.lang}); },
  cancel: function () {}, getVoices: function () { return []; }
}});
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; };
"""


def _log_in(page: Any, email: str, password: str, *, staff: bool = False) -> None:
    page.goto("/accounts/staff/login/" if staff else "/accounts/login/")
    page.get_by_role("textbox", name="メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()


def test_resident_books_an_appointment_and_cancels_it(page: Any, demo_ward: None) -> None:
    _log_in(page, *RESIDENT)
    page.goto("/procedures/tennyu/")
    page.get_by_role("link", name="窓口の来庁予約をする").click()
    page.wait_for_url("**/appointments/book/tennyu/")
    assert_accessible(page)
    assert page.get_by_role("link", name=re.compile("説明と持ち物のチェックリスト")).count() == 1

    # Another day than the one offered first, then the first free time on it.
    days = page.locator(".day-list a")
    assert days.count() >= 2
    days.nth(1).click()
    page.wait_for_load_state()
    assert_accessible(page)
    legend = page.locator("legend").inner_text()
    page.locator("input[name=slot]").first.check()
    page.get_by_role("button", name="この時間で予約する").click()
    page.wait_for_url(re.compile(r".*/appointments/[0-9a-f-]{36}/$"))
    assert_accessible(page)
    assert "予約しました" in page.content()
    appointment = Appointment.objects.get(resident__email=RESIDENT[0])
    assert appointment.status == "booked" and appointment.reference in page.content()
    assert legend.startswith(appointment.slot.starts_at.astimezone(clock.local_tz()).strftime("%Y年%-m月%-d日"))

    page.get_by_role("link", name="予約を取り消す").click()
    page.wait_for_url("**/cancel/")
    assert_accessible(page)
    page.get_by_role("button", name="予約を取り消す").click()
    page.wait_for_url(re.compile(r".*/appointments/[0-9a-f-]{36}/$"))
    assert_accessible(page)
    assert "予約を取り消しました" in page.content()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    appointment.slot.refresh_from_db()
    assert appointment.slot.booked == 0

    page.goto("/appointments/")
    assert_accessible(page)
    assert "これからの予約はありません。" in page.content()


def test_kiosk_ticket_is_called_and_shown_on_the_display_board(
    page: Any, browser: Any, live_server: Any, demo_ward: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: QUEUE_NOW)  # the live server runs in this process

    # The display board, with speech turned on.
    board_context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 800}
    )
    board_context.add_init_script(SPEECH_STUB)
    board = board_context.new_page()
    board.goto("/appointments/display/kumin-ido/")
    assert_accessible(board)
    assert "現在お呼びしている番号はありません。" in board.content()
    board.get_by_role("button", name="音声で読み上げる").click()
    assert board.get_by_role("button", name="音声の読み上げを止める").get_attribute("aria-pressed") == "true"

    # The kiosk.
    page.goto("/appointments/kiosk/kumin-ido/")
    assert_accessible(page)
    page.get_by_role("button", name="整理券を受け取る").click()
    page.wait_for_url("**/ticket/**")
    assert_accessible(page)
    assert "A-001" in page.content()
    assert page.get_by_role("img", name=re.compile("整理券 A-001 の状況")).count() == 1  # the QR code
    ticket = QueueTicket.objects.get()
    assert ticket.label == "A-001" and ticket.status == "waiting"

    # The resident follows the ticket on a phone (the QR code's link).
    phone = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 375, "height": 740})
    follow = phone.new_page()
    follow.goto(f"/appointments/ticket/{ticket_token(ticket.public_id)}/")
    assert_accessible(follow)
    assert "まもなくお呼びします" in follow.content() and "まもなく順番です" in follow.content()

    # Staff call the next ticket from the console.
    staff_context = browser.new_context(base_url=live_server.url, locale="ja-JP")
    staff = staff_context.new_page()
    _log_in(staff, *STAFF, staff=True)
    staff.goto("/appointments/staff/")
    assert_accessible(staff)
    staff.get_by_role("link", name="呼出操作（区民課 住民異動窓口）").click()
    staff.wait_for_url("**/queue/")
    assert_accessible(staff)
    staff.get_by_label("窓口番号（呼出表示に出ます）").fill("3番")
    staff.get_by_role("button", name="次の方を呼ぶ").click()
    staff.wait_for_load_state()
    assert_accessible(staff)
    assert "A-001 を呼び出しました" in staff.content()

    # The board updates itself, announces the call and reads it aloud.
    board.locator(".board-call__number", has_text="A-001").wait_for(timeout=15000)
    board.wait_for_function("document.getElementById('board-announce').textContent.includes('A-001')")
    assert "区民課 住民異動窓口 3番" in board.locator("#board-announce").inner_text()
    board.wait_for_function("window.__spoken.length >= 2")
    spoken = board.evaluate("window.__spoken")
    assert spoken[-1] == {"text": "エー 1 番の方、区民課 住民異動窓口 3番 へお越しください。", "lang": "ja-JP"}
    assert_accessible(board)

    # The resident's page shows the call after its next refresh.
    follow.locator(".ticket-called").wait_for(timeout=20000)
    assert "お呼びしています" in follow.content()
    assert_accessible(follow)

    # Served: the board empties.
    staff.get_by_role("button", name="対応完了 A-001").click()
    staff.wait_for_load_state()
    assert_accessible(staff)
    board.get_by_text("現在お呼びしている番号はありません。").wait_for(timeout=15000)
    ticket.refresh_from_db()
    assert ticket.status == "served"
    for context in (board_context, phone, staff_context):
        context.close()


def test_day_list_poster_phone_and_bad_ticket_pages(
    page: Any, browser: Any, live_server: Any, demo_ward: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remaining pages, each checked with axe-core: a phone takes a ticket from the
    entrance QR code's page, a forged ticket link is explained, staff mark a booked
    resident as arrived on the day's list and print the entrance poster."""
    from madoguchi.appointments.models import AppointmentSlot, Counter
    from madoguchi.appointments.services import appointment_book, slots_generate
    from madoguchi.core.models import User

    monkeypatch.setattr(clock, "now", lambda: QUEUE_NOW)
    # The demo's slots start on the real today; make sure the journey's day has them.
    slots_generate(counter=Counter.objects.get(code="kumin-ido"), start=QUEUE_NOW.date(), end=QUEUE_NOW.date())
    slot = AppointmentSlot.objects.get(counter__code="kumin-ido", starts_at=QUEUE_NOW, procedure__code="tennyu")
    booked_at = QUEUE_NOW - dt.timedelta(days=2)
    appointment = appointment_book(resident=User.objects.get(email=RESIDENT[0]), slot_id=slot.pk, now=booked_at)

    page.goto("/appointments/take/kumin-ido/")
    assert_accessible(page)
    page.get_by_role("button", name="整理券を受け取る").click()
    page.wait_for_url("**/appointments/ticket/**")
    assert_accessible(page)
    assert "A-001" in page.content()
    page.goto(page.url.replace("/ticket/", "/ticket/x").rstrip("/") + "/")
    assert_accessible(page)
    assert "この整理券のURLは正しくありません" in page.content()

    staff = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    _log_in(staff, *STAFF, staff=True)
    staff.goto("/appointments/staff/kumin-ido/day/")
    assert_accessible(staff)
    assert appointment.reference in staff.content()
    staff.get_by_role("button", name=f"来庁 {appointment.reference}").click()
    staff.wait_for_load_state()
    assert_accessible(staff)
    assert "来庁済みにしました" in staff.content()
    appointment.refresh_from_db()
    assert appointment.status == "arrived" and appointment.ticket.label == "A-002"
    staff.goto("/appointments/staff/kumin-ido/poster/")
    assert_accessible(staff)
    assert staff.get_by_role("img", name=re.compile("整理券を受け取るページ")).count() == 1
    staff.goto("/appointments/staff/kumin-ido/queue/")
    assert_accessible(staff)
    assert "優先" in staff.content()  # the arrived appointment, within its slot, goes first


def test_resident_checks_in_on_arrival_and_staff_pair_the_kiosk(
    page: Any, browser: Any, live_server: Any, demo_ward: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(c) A resident with an appointment today opens the entrance QR code's page,
    presses 「到着しました」 and gets a priority queue ticket; My page lists the
    appointment; staff register the kiosk tablet."""
    from madoguchi.appointments.models import AppointmentSlot, Counter
    from madoguchi.appointments.services import appointment_book, slots_generate
    from madoguchi.core.models import User

    slots_generate(counter=Counter.objects.get(code="kumin-ido"), start=QUEUE_NOW.date(), end=QUEUE_NOW.date())
    slot = AppointmentSlot.objects.get(counter__code="kumin-ido", starts_at=QUEUE_NOW, procedure__code="tennyu")
    appointment = appointment_book(
        resident=User.objects.get(email=RESIDENT[0]), slot_id=slot.pk, now=QUEUE_NOW - dt.timedelta(days=2)
    )
    monkeypatch.setattr(clock, "now", lambda: QUEUE_NOW - dt.timedelta(minutes=15))

    _log_in(page, *RESIDENT)
    page.goto("/portal/")
    assert_accessible(page)
    assert appointment.reference in page.content()

    page.goto("/appointments/take/kumin-ido/")
    assert_accessible(page)
    page.get_by_role("button", name=f"到着しました {appointment.reference}").click()
    page.wait_for_url("**/appointments/ticket/**")
    assert_accessible(page)
    assert "到着を受け付けました。整理券は A-001 です。" in page.content()
    appointment.refresh_from_db()
    assert appointment.status == "arrived" and appointment.ticket.channel == "checkin"

    page.goto(f"/appointments/{appointment.public_id}/")
    assert_accessible(page)
    assert "到着の受付は済んでいます。整理券は A-001 です。" in page.content()

    staff = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    _log_in(staff, *STAFF, staff=True)
    monkeypatch.setattr(clock, "now", lambda: QUEUE_NOW)  # the slot's start
    staff.goto("/appointments/staff/kumin-ido/queue/")
    assert "優先" in staff.content()  # on time: the checked-in appointment goes first
    staff.goto("/appointments/staff/")
    staff.get_by_role("link", name="発券機の登録（区民課 住民異動窓口）").click()
    staff.wait_for_url("**/kiosk/")
    assert_accessible(staff)
    staff.get_by_role("button", name="この端末を発券機として登録する").click()
    staff.wait_for_load_state()
    assert_accessible(staff)
    assert "この窓口の発券機として登録されています" in staff.content()
