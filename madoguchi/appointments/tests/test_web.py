"""The resident's pages without JavaScript: book, see, change, cancel; errors at the
field; the link from the procedure page; the kiosk, phone and ticket pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client

from madoguchi.appointments.models import Appointment, AppointmentSlot, AppointmentStatus, Counter, QueueTicket
from madoguchi.appointments.services import ticket_call_next
from madoguchi.appointments.tokens import ticket_token
from madoguchi.core.models import User

from .conftest import jst, slot_at

pytestmark = pytest.mark.django_db


def test_the_procedure_page_links_to_booking(client: Client, counter: Counter) -> None:
    page = client.get("/procedures/tenkyo/").content.decode()
    assert "窓口の来庁予約をする" in page and "/appointments/book/tenkyo/" in page
    assert "/appointments/book/" not in client.get("/procedures/inkan-haishi/").content.decode()


def test_book_page_shows_days_times_and_the_procedure_checklist(
    hanako_client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    response = hanako_client.get("/appointments/book/tenkyo/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/procedures/tenkyo/"' in page and "持ち物" in page
    assert "2026年11月25日（水）" in page and "2026年11月23日" not in page  # a holiday: no day
    # the first day is chosen; slots of 09:00 have started already
    assert "09:30〜10:00" in page and ">\n          09:00〜09:30" not in page
    chosen = hanako_client.get("/appointments/book/tenkyo/?date=2026-11-26").content.decode()
    assert 'aria-current="date"' in chosen and "2026年11月26日（木）の空いている時間" in chosen


def test_booking_by_form_post_redirects_to_the_appointment(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    response = hanako_client.post("/appointments/book/tenkyo/", {"slot": slot.pk, "date": "2026-11-26"})
    appointment = Appointment.objects.get(resident=hanako)
    assert response.status_code == 302 and response["Location"] == f"/appointments/{appointment.public_id}/"
    page = hanako_client.get(response["Location"]).content.decode()
    assert "予約しました" in page and appointment.reference in page and "2026年11月26日（木） 10:00〜10:30" in page
    assert f"/appointments/{appointment.public_id}/appointment.ics" in page
    ics = hanako_client.get(f"/appointments/{appointment.public_id}/appointment.ics")
    assert ics["Content-Type"].startswith("text/calendar") and b"BEGIN:VCALENDAR" in ics.content
    assert "転居届" in hanako_client.get("/appointments/").content.decode()


def test_a_refusal_is_shown_in_the_error_summary_and_at_the_field(
    hanako_client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    AppointmentSlot.objects.filter(pk=slot.pk).update(booked=2)  # full
    response = hanako_client.post("/appointments/book/tenkyo/", {"slot": slot.pk, "date": "2026-11-26"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in page and "いっぱい" in page
    target = re.search(r'<a href="#([^"]+)">[^<]*いっぱい', page)
    assert target is not None and f'id="{target.group(1)}"' in page
    assert 'id="slot-error"' in page and 'aria-describedby="slot-hint slot-error"' in page
    assert not Appointment.objects.exists()
    empty = hanako_client.post("/appointments/book/tenkyo/", {"date": "2026-11-26"})
    assert empty.status_code == 400 and "予約する時間を選んでください" in empty.content.decode()


def test_change_and_cancel_by_form(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    hanako_client.post("/appointments/book/tenkyo/", {"slot": slot_at(counter, jst(2026, 11, 26, 10)).pk})
    appointment = Appointment.objects.get(resident=hanako)
    new = slot_at(counter, jst(2026, 11, 27, 13))
    change = hanako_client.get(f"/appointments/{appointment.public_id}/change/?date=2026-11-27")
    assert "予約の日時を変更" in change.content.decode()
    hanako_client.post(f"/appointments/{appointment.public_id}/change/", {"slot": new.pk})
    appointment.refresh_from_db()
    assert appointment.slot_id == new.pk
    confirm = hanako_client.get(f"/appointments/{appointment.public_id}/cancel/")
    assert "予約を取り消しますか" in confirm.content.decode()
    done = hanako_client.post(f"/appointments/{appointment.public_id}/cancel/")
    appointment.refresh_from_db()
    assert done.status_code == 302 and appointment.status == AppointmentStatus.CANCELLED
    assert "予約を取り消しました" in hanako_client.get(done["Location"]).content.decode()


def test_kiosk_issues_a_ticket_and_shows_it_with_a_qr_code(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    page = client.get(f"/appointments/kiosk/{counter.code}/").content.decode()
    assert "整理券を受け取る" in page and "お待ちの方" in page
    response = client.post(f"/appointments/kiosk/{counter.code}/")
    ticket = QueueTicket.objects.get()
    assert response.status_code == 302 and ticket.channel == "kiosk"
    shown = client.get(response["Location"]).content.decode()
    assert "T-001" in shown and "<svg" in shown and 'role="img"' in shown


def test_kiosk_on_a_closed_day_explains_and_issues_nothing(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 23, 10))  # 勤労感謝の日
    page = client.get(f"/appointments/kiosk/{counter.code}/").content.decode()
    assert "本日は閉庁日のため" in page and "整理券を受け取る</button>" not in page
    refused = client.post(f"/appointments/kiosk/{counter.code}/")
    assert refused.status_code == 400 and "閉庁日" in refused.content.decode()
    assert not QueueTicket.objects.exists()


def test_phone_path_remembers_the_ticket_instead_of_taking_another(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    first = client.post(f"/appointments/take/{counter.code}/")
    second = client.post(f"/appointments/take/{counter.code}/")
    assert QueueTicket.objects.count() == 1 and first["Location"] == second["Location"]
    assert "この窓口の整理券 T-001 をお持ちです" in client.get(f"/appointments/take/{counter.code}/").content.decode()


def test_a_logged_in_resident_s_phone_ticket_is_tied_to_the_account(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    assert "受信箱とメールでお知らせします" in hanako_client.get(f"/appointments/take/{counter.code}/").content.decode()
    hanako_client.post(f"/appointments/take/{counter.code}/")
    assert QueueTicket.objects.get().user_id == hanako.pk


def test_the_ticket_page_shows_position_wait_and_the_soon_notice(
    client: Client, counter: Counter, kumin_staff: User, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(5):
        client.post(f"/appointments/kiosk/{counter.code}/")
    last = QueueTicket.objects.order_by("-number").first()
    assert last is not None
    url = f"/appointments/ticket/{ticket_token(last.public_id)}/"
    page = client.get(url).content.decode()
    assert "T-005" in page and "あなたの前に" in page and "4人" in page and "約40分" in page
    assert "まもなく順番です" not in page
    assert "1人あたり約10分として計算しています" in page
    ticket_call_next(counter=counter, actor=kumin_staff)
    page = client.get(url).content.decode()
    assert "3人" in page and "まもなく順番です" in page


def test_the_ticket_page_polls_with_htmx_and_gets_204_when_nothing_changed(
    client: Client, counter: Counter, kumin_staff: User, frozen: Callable[[dt.datetime], None]
) -> None:
    client.post(f"/appointments/kiosk/{counter.code}/")
    ticket = QueueTicket.objects.get()
    url = f"/appointments/ticket/{ticket_token(ticket.public_id)}/"
    page = client.get(url).content.decode()
    version = re.search(r'\?v=([0-9a-f]+)"', page)
    assert version is not None and 'hx-trigger="every 15s"' in page
    assert client.get(url, {"v": version.group(1)}, HTTP_HX_REQUEST="true").status_code == 204
    ticket_call_next(counter=counter, actor=kumin_staff, desk="3番")
    partial = client.get(url, {"v": version.group(1)}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and "お呼びしています" in text and "3番" in text
    assert 'id="ticket-announce" hx-swap-oob="innerHTML"' in text and "<html" not in text


def test_a_forged_or_altered_ticket_link_gets_a_clear_message(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.post(f"/appointments/kiosk/{counter.code}/")
    ticket = QueueTicket.objects.get()
    token = ticket_token(ticket.public_id)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, str(ticket.public_id), "nonsense"):
        response = client.get(f"/appointments/ticket/{bad}/")
        assert response.status_code == 400 and "この整理券のURLは正しくありません" in response.content.decode()
        assert client.post(f"/appointments/ticket/{bad}/cancel/").status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    client.post(f"/appointments/ticket/{token}/cancel/")
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"


def test_display_board_page_and_its_polling(
    client: Client, counter: Counter, kumin_staff: User, frozen: Callable[[dt.datetime], None]
) -> None:
    client.post(f"/appointments/kiosk/{counter.code}/")
    page = client.get(f"/appointments/display/{counter.code}/").content.decode()
    assert "呼出表示" in page and 'aria-live="polite"' in page and "現在お呼びしている番号はありません" in page
    assert '<noscript><meta http-equiv="refresh" content="20"></noscript>' in page and "display.js" in page
    version = re.search(r"\?v=([0-9a-f]+)&amp;k=", page)
    assert version is not None
    assert (
        client.get(
            f"/appointments/display/{counter.code}/", {"v": version.group(1), "k": ""}, HTTP_HX_REQUEST="1"
        ).status_code
        == 204
    )
    ticket_call_next(counter=counter, actor=kumin_staff, desk="3番")
    partial = client.get(
        f"/appointments/display/{counter.code}/", {"v": version.group(1), "k": ""}, HTTP_HX_REQUEST="1"
    )
    text = partial.content.decode()
    assert "T-001" in text and 'hx-swap-oob="innerHTML"' in text and "T-001 番の方" in text
    assert 'data-latest-speech="ティー 1 番の方' in text
    assert client.get("/appointments/display/9f/").status_code == 200  # the floor
    assert client.get("/appointments/display/nowhere/").status_code == 404


def test_the_qr_code_leads_to_the_phone_page(client: Client, counter: Counter) -> None:
    response = client.get(f"/appointments/qr/{counter.code}.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in response.content
