"""The same-day queue: tickets, calling order, transfer, wait estimates from actual
service times, the 「まもなく」 message, the display board."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.appointments import selectors
from madoguchi.appointments.models import AppointmentStatus, Counter, QueueTicket, TicketKind, TicketStatus
from madoguchi.appointments.services import (
    IllegalTransition,
    QueueError,
    appointment_book,
    appointment_mark,
    queue_order,
    ticket_call_next,
    ticket_cancel,
    ticket_finish,
    ticket_issue,
    ticket_recall,
    ticket_transfer,
    wait_minutes,
)
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage

from .conftest import NOW, jst, make_counter, make_resident, slot_at

pytestmark = pytest.mark.django_db


def _issue(counter: Counter, at: dt.datetime, user: User | None = None) -> QueueTicket:
    return ticket_issue(counter=counter, channel="kiosk", user=user, now=at)


def test_ticket_numbers_count_per_counter_and_day(counter: Counter) -> None:
    other = make_counter(code="other", prefix="U")
    first = _issue(counter, NOW)
    second = _issue(counter, NOW + dt.timedelta(minutes=1))
    elsewhere = _issue(other, NOW)
    next_day = _issue(counter, jst(2026, 11, 26, 9, 30))
    assert [first.label, second.label, elsewhere.label, next_day.label] == ["T-001", "T-002", "U-001", "T-001"]


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (jst(2026, 11, 23, 10), "closed_day"),  # 勤労感謝の日
        (jst(2026, 11, 28, 10), "closed_day"),  # Saturday
        (jst(2027, 1, 2, 10), "closed_day"),  # 年末年始
        (jst(2026, 11, 25, 8, 0), "outside_hours"),
        (jst(2026, 11, 25, 12, 30), "outside_hours"),  # lunch break
        (jst(2026, 11, 25, 16, 30), "outside_hours"),
    ],
)
def test_no_tickets_on_closed_days_or_outside_hours(counter: Counter, when: dt.datetime, code: str) -> None:
    with pytest.raises(QueueError) as info:
        _issue(counter, when)
    assert info.value.code == code and info.value.message
    assert not QueueTicket.objects.exists()


def test_an_inactive_counter_issues_no_tickets(counter: Counter) -> None:
    counter.active = False
    counter.save()
    with pytest.raises(QueueError):
        _issue(counter, NOW)


def test_walk_ins_are_called_in_order(counter: Counter, kumin_staff: User) -> None:
    tickets = [_issue(counter, NOW + dt.timedelta(minutes=i)) for i in range(3)]
    later = NOW + dt.timedelta(minutes=10)
    called = [ticket_call_next(counter=counter, actor=kumin_staff, desk="1番", now=later) for _ in range(3)]
    assert [t.pk for t in called if t] == [t.pk for t in tickets]
    assert ticket_call_next(counter=counter, actor=kumin_staff, now=later) is None
    assert called[0] is not None and called[0].desk == "1番" and called[0].status == TicketStatus.CALLED


def test_an_arrived_appointment_goes_before_walk_ins_but_not_three_in_a_row(
    counter: Counter, kumin_staff: User
) -> None:
    walk_in = _issue(counter, NOW)
    slot = slot_at(counter, jst(2026, 11, 25, 10))
    appointments = [
        appointment_book(resident=make_resident(f"a{i}@example.jp"), slot_id=slot.pk, now=NOW) for i in range(2)
    ]
    # The slot holds 2: the third appointment is in the next slot.
    later_slot = slot_at(counter, jst(2026, 11, 25, 10, 30))
    third = appointment_book(resident=make_resident("a9@example.jp"), slot_id=later_slot.pk, now=NOW)
    at = jst(2026, 11, 25, 10, 25)  # the walk-in has waited 85 minutes
    for appointment in [*appointments, third]:
        appointment_mark(appointment=appointment, actor=kumin_staff, status=AppointmentStatus.ARRIVED, now=at)
    order = [t.kind for t, _p in queue_order(counter, now=at)]
    assert order == ["appointment", "appointment", "walk_in", "appointment"]
    first = ticket_call_next(counter=counter, actor=kumin_staff, now=at)
    second = ticket_call_next(counter=counter, actor=kumin_staff, now=at)
    third_call = ticket_call_next(counter=counter, actor=kumin_staff, now=at)
    assert first is not None and first.called_with_priority and first.kind == TicketKind.APPOINTMENT
    assert second is not None and second.kind == TicketKind.APPOINTMENT
    assert third_call is not None and third_call.pk == walk_in.pk and not third_call.called_with_priority


def test_serving_an_appointment_ticket_finishes_the_appointment(
    counter: Counter, hanako: User, kumin_staff: User
) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 25, 10)).pk, now=NOW)
    at = jst(2026, 11, 25, 9, 55)
    appointment_mark(appointment=appointment, actor=kumin_staff, status=AppointmentStatus.ARRIVED, now=at)
    ticket = ticket_call_next(counter=counter, actor=kumin_staff, now=at)
    assert ticket is not None and ticket.appointment_id == appointment.pk
    ticket_finish(ticket=ticket, actor=kumin_staff, status=TicketStatus.SERVED, now=at + dt.timedelta(minutes=7))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.DONE


def test_recall_served_and_no_show_follow_the_transitions(counter: Counter, kumin_staff: User) -> None:
    ticket = _issue(counter, NOW)
    with pytest.raises(IllegalTransition):
        ticket_recall(ticket=ticket, actor=kumin_staff, now=NOW)
    with pytest.raises(IllegalTransition):
        ticket_finish(ticket=ticket, actor=kumin_staff, status=TicketStatus.SERVED, now=NOW)
    called = ticket_call_next(counter=counter, actor=kumin_staff, now=NOW)
    assert called is not None
    recalled = ticket_recall(ticket=called, actor=kumin_staff, now=NOW + dt.timedelta(minutes=2))
    assert recalled.call_count == 2 and recalled.last_called_at == NOW + dt.timedelta(minutes=2)
    assert recalled.called_at == NOW
    ticket_finish(ticket=called, actor=kumin_staff, status=TicketStatus.NO_SHOW, now=NOW + dt.timedelta(minutes=5))
    with pytest.raises(IllegalTransition):
        ticket_finish(ticket=called, actor=kumin_staff, status=TicketStatus.SERVED, now=NOW)


def test_transfer_keeps_the_number_and_the_place_by_first_arrival(counter: Counter, kumin_staff: User) -> None:
    other = make_counter(code="other", prefix="U")
    early = _issue(counter, NOW)
    there = _issue(other, NOW + dt.timedelta(minutes=5))
    called = ticket_call_next(counter=counter, actor=kumin_staff, now=NOW + dt.timedelta(minutes=6))
    assert called is not None and called.pk == early.pk
    moved = ticket_transfer(ticket=called, actor=kumin_staff, to_counter=other, now=NOW + dt.timedelta(minutes=8))
    assert moved.label == "T-001" and moved.counter_id == other.pk and moved.status == TicketStatus.WAITING
    assert moved.transferred_from_id == counter.pk
    assert [t.pk for t, _p in queue_order(other, now=NOW + dt.timedelta(minutes=9))] == [early.pk, there.pk]
    with pytest.raises(QueueError):
        ticket_transfer(ticket=moved, actor=kumin_staff, to_counter=other, now=NOW)


def test_the_holder_can_cancel_only_a_waiting_ticket(counter: Counter, kumin_staff: User) -> None:
    ticket = _issue(counter, NOW)
    ticket_cancel(ticket=ticket, now=NOW)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CANCELLED
    with pytest.raises(IllegalTransition):
        ticket_cancel(ticket=ticket, now=NOW)


def test_the_wait_estimate_is_the_moving_average_of_actual_service_times(
    counter: Counter, kumin_staff: User, settings: object
) -> None:
    settings.APPOINTMENTS_WAIT_SAMPLE_SIZE = 3  # type: ignore[attr-defined]
    assert selectors.average_service_time(counter).samples == 0
    assert selectors.average_service_time(counter).seconds == 10 * 60  # the counter's default
    at = NOW
    for minutes in [30, 4, 6, 8]:  # the oldest (30) falls out of the last 3
        ticket = _issue(counter, at)
        called = ticket_call_next(counter=counter, actor=kumin_staff, now=at)
        assert called is not None and called.pk == ticket.pk
        at += dt.timedelta(minutes=minutes)
        ticket_finish(ticket=called, actor=kumin_staff, status=TicketStatus.SERVED, now=at)
    service = selectors.average_service_time(counter)
    assert (service.samples, service.seconds) == (3, 6 * 60)
    waiting = [_issue(counter, at + dt.timedelta(seconds=i)) for i in range(4)]
    state = selectors.queue_state(counter, now=at + dt.timedelta(minutes=1))
    assert [(e.ticket.pk, e.ahead, e.wait_minutes) for e in state.waiting] == [
        (waiting[0].pk, 0, 0),
        (waiting[1].pk, 1, 6),
        (waiting[2].pk, 2, 12),
        (waiting[3].pk, 3, 18),
    ]
    assert state.new_ticket_wait == 24
    counter.desks = 2
    assert wait_minutes(ahead=3, average_seconds=service.seconds, desks=counter.desks) == 9


def test_no_shows_do_not_count_as_service_times(counter: Counter, kumin_staff: User) -> None:
    _issue(counter, NOW)
    called = ticket_call_next(counter=counter, actor=kumin_staff, now=NOW)
    assert called is not None
    ticket_finish(ticket=called, actor=kumin_staff, status=TicketStatus.NO_SHOW, now=NOW + dt.timedelta(minutes=3))
    assert selectors.average_service_time(counter).samples == 0


def test_your_turn_soon_is_sent_once_to_a_logged_in_holder(counter: Counter, hanako: User, kumin_staff: User) -> None:
    [_issue(counter, NOW + dt.timedelta(seconds=i)) for i in range(4)]
    mine = _issue(counter, NOW + dt.timedelta(seconds=10), user=hanako)
    anonymous = _issue(counter, NOW + dt.timedelta(seconds=20))
    ticket_call_next(counter=counter, actor=kumin_staff, now=NOW + dt.timedelta(minutes=1))
    # 3 waiting ahead of hanako now: her message is queued; the one behind her has 4 ahead.
    messages = OutboxMessage.objects.filter(user=hanako)
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "inbox"]
    inbox = messages.get(channel="inbox")
    assert "まもなく順番です" in inbox.subject and mine.label in inbox.subject
    assert inbox.link_url.startswith("/appointments/ticket/")
    mine.refresh_from_db()
    anonymous.refresh_from_db()
    assert mine.soon_notified_at is not None and anonymous.soon_notified_at is None
    ticket_call_next(counter=counter, actor=kumin_staff, now=NOW + dt.timedelta(minutes=2))
    assert OutboxMessage.objects.filter(user=hanako).count() == 2  # not again
    anonymous.refresh_from_db()
    assert anonymous.soon_notified_at is not None  # marked; its page shows the notice


def test_the_display_board_shows_the_latest_calls_first(counter: Counter, kumin_staff: User) -> None:
    other = make_counter(code="other", prefix="U")
    _issue(counter, NOW)
    _issue(other, NOW)
    _issue(counter, NOW)
    first = ticket_call_next(counter=counter, actor=kumin_staff, desk="1番", now=NOW)
    second = ticket_call_next(counter=other, actor=kumin_staff, desk="2番", now=NOW + dt.timedelta(minutes=1))
    assert first is not None and second is not None
    floor = selectors.display_board("9f", now=NOW + dt.timedelta(minutes=2))
    assert [t.label for t in floor.calls] == ["U-001", "T-001"]
    assert floor.latest_text == "U-001 番の方、テスト窓口 other 2番 へお越しください。"
    assert floor.latest_speech.startswith("ユー 1 番の方")
    single = selectors.display_board(counter.code, now=NOW + dt.timedelta(minutes=2))
    assert [t.label for t in single.calls] == ["T-001"] and single.waiting_counts[counter.pk] == 1
    version = floor.version
    ticket_recall(ticket=first, actor=kumin_staff, now=NOW + dt.timedelta(minutes=3))
    again = selectors.display_board("9f", now=NOW + dt.timedelta(minutes=3))
    assert again.version != version and again.calls[0].label == "T-001"
