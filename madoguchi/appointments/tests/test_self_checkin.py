"""A resident checks in on arrival (「到着しました」) from the appointment's page or the
entrance QR code's page, without JavaScript: the appointment is arrived and joins the
queue by the fair rule (priority when on time). Refusals are clear and write nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from madoguchi.appointments import selectors
from madoguchi.appointments.models import Appointment, AppointmentStatus, Counter, QueueTicket
from madoguchi.appointments.services import appointment_book, appointment_cancel, ticket_call_next, ticket_issue
from madoguchi.appointments.tokens import ticket_token
from madoguchi.core.models import AuditEvent, User

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db

#: Booked two days before, for 10:00–10:30 on NOW's day (Wednesday 25 November 2026).
BOOKED_AT = NOW - dt.timedelta(days=2)


@pytest.fixture
def today(counter: Counter, hanako: User) -> Appointment:
    return appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 25, 10)).pk, now=BOOKED_AT)


def _url(appointment: Appointment) -> str:
    return f"/appointments/{appointment.public_id}/checkin/"


def _follow_message(client: Client, response: object) -> str:
    location = response["Location"]  # type: ignore[index]
    return client.get(location).content.decode()


def test_checking_in_on_time_gives_a_priority_ticket(
    hanako_client: Client,
    hanako: User,
    kumin_staff: User,
    counter: Counter,
    today: Appointment,
    frozen: Callable[[dt.datetime], None],
) -> None:
    frozen(jst(2026, 11, 25, 9, 40))
    walk_in = ticket_issue(counter=counter, channel="kiosk", now=jst(2026, 11, 25, 9, 30))
    response = hanako_client.post(_url(today))
    ticket = QueueTicket.objects.get(appointment=today)
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/ticket/{ticket_token(ticket.public_id)}/"
    page = _follow_message(hanako_client, response)
    assert "到着を受け付けました。整理券は T-002 です。" in page
    today.refresh_from_db()
    assert today.status == AppointmentStatus.ARRIVED and today.arrived_at == jst(2026, 11, 25, 9, 40)
    assert (ticket.kind, ticket.channel, ticket.user_id, ticket.status) == (
        "appointment",
        "checkin",
        hanako.pk,
        "waiting",
    )
    assert AuditEvent.objects.filter(action="appointments.checked_in", actor=hanako, target_id=str(today.pk)).exists()
    # The fair rule: on time (its slot starts within 10 minutes), it goes before the
    # walk-in who came earlier.
    state = selectors.queue_state(counter, now=jst(2026, 11, 25, 9, 55))
    assert [(e.ticket.pk, e.priority) for e in state.waiting] == [(ticket.pk, True), (walk_in.pk, False)]
    called = ticket_call_next(counter=counter, actor=kumin_staff, now=jst(2026, 11, 25, 9, 55))
    assert called is not None and called.pk == ticket.pk


def test_the_entrance_page_offers_arrival_for_todays_appointment(
    hanako_client: Client, counter: Counter, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 25, 9, 30))
    page = hanako_client.get(f"/appointments/take/{counter.code}/").content.decode()
    assert "本日の予約" in page and today.reference in page
    assert f'action="{_url(today)}"' in page and "到着しました" in page
    assert f'name="from_counter" value="{counter.code}"' in page
    response = hanako_client.post(_url(today), {"from_counter": counter.code})
    assert response.status_code == 302 and "/appointments/ticket/" in response["Location"]
    # Afterwards the entrance page shows the ticket instead of the button.
    page = hanako_client.get(f"/appointments/take/{counter.code}/").content.decode()
    assert "到着の受付は済んでいます。整理券は T-001 です。" in page and f'action="{_url(today)}"' not in page


def test_the_entrance_page_asks_visitors_to_log_in_to_check_in(
    client: Client, counter: Counter, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    page = client.get(f"/appointments/take/{counter.code}/").content.decode()
    assert "ログインして到着の受付をする" in page and today.reference not in page


def test_the_appointment_page_offers_arrival_only_on_the_day_and_in_time(
    hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    detail = f"/appointments/{today.public_id}/"
    frozen(jst(2026, 11, 24, 9, 30))
    page = hanako_client.get(detail).content.decode()
    assert _url(today) not in page and "60分前から" in page
    frozen(jst(2026, 11, 25, 8, 30))
    page = hanako_client.get(detail).content.decode()
    assert _url(today) not in page and "09:00から、ここで到着の受付ができます。" in page
    frozen(jst(2026, 11, 25, 9, 0))
    page = hanako_client.get(detail).content.decode()
    assert f'action="{_url(today)}"' in page and "到着しました" in page


def test_too_early_is_refused_with_the_time_it_opens(
    hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 25, 8, 59))
    response = hanako_client.post(_url(today))
    assert response["Location"] == f"/appointments/{today.public_id}/"
    assert "到着の受付は、予約の時間の60分前（09:00）からできます。" in _follow_message(hanako_client, response)
    today.refresh_from_db()
    assert today.status == AppointmentStatus.BOOKED and not QueueTicket.objects.exists()


def test_the_early_window_is_a_setting(
    settings: object, hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    settings.APPOINTMENTS_CHECKIN_EARLY_MINUTES = 15  # type: ignore[attr-defined]
    frozen(jst(2026, 11, 25, 9, 40))
    hanako_client.post(_url(today))
    assert not QueueTicket.objects.exists()
    frozen(jst(2026, 11, 25, 9, 45))
    hanako_client.post(_url(today))
    assert QueueTicket.objects.filter(appointment=today).exists()


def test_another_day_is_refused(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    tomorrow = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    frozen(jst(2026, 11, 25, 10, 0))
    response = hanako_client.post(_url(tomorrow), {"from_counter": counter.code})
    assert response["Location"] == f"/appointments/take/{counter.code}/"  # back where the button was
    page = _follow_message(hanako_client, response)
    assert "到着の受付は予約の当日だけできます。この予約は2026年11月26日（木）です。" in page
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.BOOKED and not QueueTicket.objects.exists()


def test_checking_in_twice_shows_the_existing_ticket(
    hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 25, 9, 50))
    first = hanako_client.post(_url(today))
    second = hanako_client.post(_url(today))
    assert second["Location"] == first["Location"]
    assert "到着の受付はすでに済んでいます（整理券 T-001）。" in _follow_message(hanako_client, second)
    assert QueueTicket.objects.count() == 1
    assert AuditEvent.objects.filter(action="appointments.checked_in").count() == 1


def test_a_cancelled_appointment_is_refused(
    hanako_client: Client, hanako: User, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    appointment_cancel(appointment=today, resident=hanako, now=BOOKED_AT)
    frozen(jst(2026, 11, 25, 9, 50))
    response = hanako_client.post(_url(today))
    assert "この予約は取り消されているため、到着の受付はできません。" in _follow_message(hanako_client, response)
    today.refresh_from_db()
    assert today.status == AppointmentStatus.CANCELLED and not QueueTicket.objects.exists()


def test_arriving_after_the_slot_still_checks_in_but_without_priority(
    hanako_client: Client, counter: Counter, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 25, 10, 45))
    walk_in = ticket_issue(counter=counter, channel="kiosk", now=jst(2026, 11, 25, 10, 40))
    hanako_client.post(_url(today))
    ticket = QueueTicket.objects.get(appointment=today)
    state = selectors.queue_state(counter, now=jst(2026, 11, 25, 10, 50))
    assert [(e.ticket.pk, e.priority) for e in state.waiting] == [(walk_in.pk, False), (ticket.pk, False)]


def test_after_the_counter_closed_for_the_day_is_refused(
    hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    frozen(jst(2026, 11, 25, 16, 5))
    response = hanako_client.post(_url(today))
    assert "本日の窓口の受付は終わりました。" in _follow_message(hanako_client, response)
    assert not QueueTicket.objects.exists()


def test_another_resident_gets_404_staff_403_and_visitors_the_login(
    client: Client,
    ichiro: User,
    kumin_staff: User,
    today: Appointment,
    frozen: Callable[[dt.datetime], None],
) -> None:
    frozen(jst(2026, 11, 25, 9, 50))
    assert client.post(_url(today)).status_code == 302
    assert "/accounts/login/" in client.post(_url(today))["Location"]
    client.force_login(ichiro)
    assert client.post(_url(today)).status_code == 404
    assert client.get(_url(today)).status_code == 404
    client.force_login(kumin_staff)
    assert client.post(_url(today)).status_code == 403
    today.refresh_from_db()
    assert today.status == AppointmentStatus.BOOKED and not QueueTicket.objects.exists()


def test_get_shows_the_appointment_page(
    hanako_client: Client, today: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    response = hanako_client.get(_url(today))
    assert response.status_code == 302 and response["Location"] == f"/appointments/{today.public_id}/"
    assert not QueueTicket.objects.exists()
