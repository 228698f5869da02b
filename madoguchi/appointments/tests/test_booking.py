"""Booking, changing and cancelling appointments: every refusal, nothing half-saved,
and the confirmation by e-mail (with .ics) and inbox."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from madoguchi.appointments.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    ClosedDay,
    Counter,
    OpeningHours,
)
from madoguchi.appointments.services import (
    BookingRefused,
    IllegalTransition,
    appointment_book,
    appointment_cancel,
    appointment_change,
    appointment_mark,
)
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db


def _refused(code: str, **kwargs: object) -> BookingRefused:
    with pytest.raises(BookingRefused) as info:
        appointment_book(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == code, info.value.message
    return info.value


def test_booking_takes_a_seat_and_queues_confirmation_with_ics(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    appointment = appointment_book(resident=hanako, slot_id=slot.pk, base_url="https://madoguchi.example", now=NOW)
    slot.refresh_from_db()
    assert slot.booked == 1 and appointment.status == AppointmentStatus.BOOKED
    email = OutboxMessage.objects.get(user=hanako, channel="email")
    inbox = OutboxMessage.objects.get(user=hanako, channel="inbox")
    assert "窓口予約を受け付けました" in email.subject and "2026年11月26日（木） 10:00〜10:30" in email.subject
    assert f"https://madoguchi.example/appointments/{appointment.public_id}/" in email.body_text
    assert "予約番号: " + appointment.reference in email.body_text
    assert "持ち物" in email.body_text
    ics = base64.b64decode(email.attachments[0]["content_base64"]).decode()
    assert email.attachments[0]["filename"] == "appointment.ics"
    assert "DTSTART;TZID=Asia/Tokyo:20261126T100000" in ics
    assert inbox.link_url == f"/appointments/{appointment.public_id}/"
    assert AuditEvent.objects.filter(action="appointments.booked", target_id=str(appointment.pk)).exists()


def _assert_nothing_saved(slot: AppointmentSlot, booked: int = 0) -> None:
    """The refused booking left no seat, appointment, message or audit record."""
    slot.refresh_from_db()
    assert slot.booked == booked
    assert Appointment.objects.count() == booked
    assert OutboxMessage.objects.count() == 2 * booked  # e-mail and inbox of each earlier booking
    assert AuditEvent.objects.filter(action="appointments.booked").count() == booked


def test_a_past_slot_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 24, 10))
    error = _refused("past", resident=hanako, slot_id=slot.pk, now=NOW)
    assert "過去の日時" in error.message
    _assert_nothing_saved(slot)


def test_a_slot_that_has_started_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 25, 9))
    _refused("past", resident=hanako, slot_id=slot.pk, now=NOW)


def test_a_day_closed_after_the_slots_were_made_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 27, 10))
    ClosedDay.objects.create(counter=None, date=dt.date(2026, 11, 27), reason="庁舎点検")
    error = _refused("closed_day", resident=hanako, slot_id=slot.pk, now=NOW)
    assert "2026年11月27日（金）は庁舎点検のため" in error.message
    _assert_nothing_saved(slot)


def test_a_slot_on_a_holiday_is_refused_as_a_closed_day(counter: Counter, hanako: User) -> None:
    slot = AppointmentSlot.objects.create(
        counter=counter,
        procedure=counter.procedures.get(),
        starts_at=jst(2026, 12, 30, 10),
        ends_at=jst(2026, 12, 30, 10, 30),
        capacity=2,
    )
    error = _refused("closed_day", resident=hanako, slot_id=slot.pk, now=NOW)
    assert "閉庁日" in error.message


def test_a_slot_outside_changed_opening_hours_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 15, 30))
    OpeningHours.objects.filter(counter=counter, weekday=3, opens=dt.time(13)).update(closes=dt.time(15))
    error = _refused("outside_hours", resident=hanako, slot_id=slot.pk, now=NOW)
    assert "受付時間外" in error.message


def test_a_full_slot_is_refused(counter: Counter, hanako: User, ichiro: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    AppointmentSlot.objects.filter(pk=slot.pk).update(capacity=1)
    appointment_book(resident=ichiro, slot_id=slot.pk, now=NOW)
    error = _refused("full", resident=hanako, slot_id=slot.pk, now=NOW)
    assert "いっぱい" in error.message
    assert not Appointment.objects.filter(resident=hanako).exists()
    _assert_nothing_saved(slot, booked=1)


def test_more_future_bookings_than_the_limit_are_refused(counter: Counter, hanako: User, settings: object) -> None:
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 2  # type: ignore[attr-defined]
    appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 9)).pk, now=NOW)
    appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    third = slot_at(counter, jst(2026, 11, 26, 11))
    error = _refused("limit", resident=hanako, slot_id=third.pk, now=NOW)
    assert "2件まで" in error.message
    third.refresh_from_db()
    assert third.booked == 0 and Appointment.objects.filter(resident=hanako).count() == 2


def test_cancelled_and_past_bookings_do_not_count_towards_the_limit(
    counter: Counter, hanako: User, settings: object
) -> None:
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 1  # type: ignore[attr-defined]
    first = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 25, 10)).pk, now=NOW)
    # Later that day the first appointment is over: it no longer counts.
    later = jst(2026, 11, 25, 11)
    appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=later)
    assert first.status == AppointmentStatus.BOOKED


def test_booking_the_same_slot_twice_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    appointment_book(resident=hanako, slot_id=slot.pk, now=NOW)
    _refused("duplicate", resident=hanako, slot_id=slot.pk, now=NOW)
    _assert_nothing_saved(slot, booked=1)


def test_an_unknown_slot_is_refused(counter: Counter, hanako: User) -> None:
    _refused("unknown", resident=hanako, slot_id=999999, now=NOW)
    _refused("unknown", resident=hanako, slot_id="abc", now=NOW)


def test_a_procedure_no_longer_offered_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    counter.offers.all().delete()
    _refused("unavailable", resident=hanako, slot_id=slot.pk, now=NOW)


def test_change_moves_the_seat_and_sends_an_updated_calendar(counter: Counter, hanako: User) -> None:
    old = slot_at(counter, jst(2026, 11, 26, 10))
    new = slot_at(counter, jst(2026, 11, 27, 14))
    appointment = appointment_book(resident=hanako, slot_id=old.pk, now=NOW)
    appointment_change(appointment=appointment, resident=hanako, slot_id=new.pk, now=NOW)
    old.refresh_from_db()
    new.refresh_from_db()
    appointment.refresh_from_db()
    assert (old.booked, new.booked) == (0, 1)
    assert appointment.slot_id == new.pk and appointment.sequence == 1
    email = OutboxMessage.objects.get(channel="email", subject__contains="変更しました")
    ics = base64.b64decode(email.attachments[0]["content_base64"]).decode()
    assert "SEQUENCE:1" in ics and "20261127T140000" in ics


def test_change_to_a_full_slot_keeps_the_old_booking(counter: Counter, hanako: User, ichiro: User) -> None:
    old = slot_at(counter, jst(2026, 11, 26, 10))
    full = slot_at(counter, jst(2026, 11, 27, 14))
    AppointmentSlot.objects.filter(pk=full.pk).update(capacity=1)
    appointment_book(resident=ichiro, slot_id=full.pk, now=NOW)
    appointment = appointment_book(resident=hanako, slot_id=old.pk, now=NOW)
    with pytest.raises(BookingRefused) as info:
        appointment_change(appointment=appointment, resident=hanako, slot_id=full.pk, now=NOW)
    assert info.value.code == "full"
    old.refresh_from_db()
    full.refresh_from_db()
    appointment.refresh_from_db()
    assert (old.booked, full.booked, appointment.slot_id, appointment.sequence) == (1, 1, old.pk, 0)


def test_change_to_the_same_slot_or_a_past_one_is_refused(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    appointment = appointment_book(resident=hanako, slot_id=slot.pk, now=NOW)
    with pytest.raises(BookingRefused) as same:
        appointment_change(appointment=appointment, resident=hanako, slot_id=slot.pk, now=NOW)
    with pytest.raises(BookingRefused) as past:
        appointment_change(
            appointment=appointment, resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 24, 10)).pk, now=NOW
        )
    assert (same.value.code, past.value.code) == ("same", "past")


def test_cancel_frees_the_seat_and_sends_a_cancelling_calendar(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    appointment = appointment_book(resident=hanako, slot_id=slot.pk, now=NOW)
    appointment_cancel(appointment=appointment, resident=hanako, now=NOW)
    slot.refresh_from_db()
    appointment.refresh_from_db()
    assert slot.booked == 0 and appointment.status == AppointmentStatus.CANCELLED
    email = OutboxMessage.objects.get(channel="email", subject__contains="取り消しました")
    ics = base64.b64decode(email.attachments[0]["content_base64"]).decode()
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics
    with pytest.raises(BookingRefused):
        appointment_cancel(appointment=appointment, resident=hanako, now=NOW)
    slot.refresh_from_db()
    assert slot.booked == 0


def test_an_appointment_that_has_started_cannot_be_cancelled(counter: Counter, hanako: User) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    appointment = appointment_book(resident=hanako, slot_id=slot.pk, now=NOW)
    with pytest.raises(BookingRefused) as info:
        appointment_cancel(appointment=appointment, resident=hanako, now=jst(2026, 11, 26, 10, 5))
    assert info.value.code == "started"


def test_another_residents_appointment_cannot_be_changed_or_cancelled(
    counter: Counter, hanako: User, ichiro: User
) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    with pytest.raises(Appointment.DoesNotExist):
        appointment_cancel(appointment=appointment, resident=ichiro, now=NOW)
    with pytest.raises(Appointment.DoesNotExist):
        appointment_change(
            appointment=appointment, resident=ichiro, slot_id=slot_at(counter, jst(2026, 11, 27, 10)).pk, now=NOW
        )


def test_staff_status_changes_follow_the_transition_table(counter: Counter, hanako: User, kumin_staff: User) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    with pytest.raises(IllegalTransition):
        appointment_mark(appointment=appointment, actor=kumin_staff, status="done", now=NOW)
    with pytest.raises(IllegalTransition) as not_today:
        appointment_mark(appointment=appointment, actor=kumin_staff, status="arrived", now=NOW)
    assert "当日" in not_today.value.message
    appointment_mark(appointment=appointment, actor=kumin_staff, status="no_show", now=jst(2026, 11, 26, 10, 40))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    with pytest.raises(IllegalTransition):
        appointment_mark(appointment=appointment, actor=kumin_staff, status="arrived", now=jst(2026, 11, 26, 10, 45))
