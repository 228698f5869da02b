"""First-come booking: the rules of a facility and every refusal, payment, cancellation
and the lapse of unpaid bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.accounts.tests.factories import UserFactory
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.payments.machine import Status as PaymentStatus
from madoguchi.payments.models import Payment
from madoguchi.payments.providers.base import EventType, WebhookEvent
from madoguchi.payments.services import payment_apply_event
from madoguchi.reservations import errors
from madoguchi.reservations.models import Booking, Facility, FacilityClosure, Group, Room, TimeBlock
from madoguchi.reservations.services.bookings import (
    booking_cancel,
    booking_create,
    booking_start_payment,
    bookings_lapse_due,
)

from .conftest import NOW, aware, make_facility, make_group

pytestmark = pytest.mark.django_db
WEDNESDAY = dt.date(2030, 6, 12)


def book(user: User, room: Room, block: TimeBlock, date: dt.date = WEDNESDAY, **kwargs: Any) -> Booking:
    values: dict[str, Any] = {"purpose": "自治会の定例会", "attendees": 10, "now": NOW}
    values.update(kwargs)
    return booking_create(user=user, room=room, date=date, block=block, **values)


def test_a_free_room_is_confirmed_at_once_with_audit_and_messages(
    resident: User, free_room: Room, morning: TimeBlock
) -> None:
    booking = book(resident, free_room, morning)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.eligibility == Booking.Eligibility.RESIDENT
    assert AuditEvent.objects.filter(action="reservations.booking.create", target_id=str(booking.pk)).exists()
    channels = set(OutboxMessage.objects.filter(user=resident).values_list("channel", flat=True))
    assert channels == {"email", "inbox"}


def test_a_second_booking_of_the_same_slot_is_refused(
    resident: User, other_resident: User, free_room: Room, morning: TimeBlock
) -> None:
    book(resident, free_room, morning)
    with pytest.raises(errors.SlotTaken, match="すでに予約されています"):
        book(other_resident, free_room, morning)
    assert Booking.objects.count() == 1


def test_the_database_refuses_two_active_bookings_of_one_slot(
    resident: User, other_resident: User, free_room: Room, morning: TimeBlock
) -> None:
    from django.db import IntegrityError, transaction

    first = book(resident, free_room, morning)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            facility=first.facility,
            slot=first.slot,
            user=other_resident,
            eligibility="resident",
            purpose="x",
            status=Booking.Status.CONFIRMED,
        )


def test_a_cancelled_slot_can_be_booked_again(
    resident: User, other_resident: User, free_room: Room, morning: TimeBlock
) -> None:
    first = book(resident, free_room, morning)
    booking_cancel(booking=first, user=resident, now=NOW)
    again = book(other_resident, free_room, morning)
    assert again.status == Booking.Status.CONFIRMED


def test_a_closed_day_is_refused(resident: User, facility: Facility, free_room: Room, morning: TimeBlock) -> None:
    FacilityClosure.objects.create(facility=facility, start_date=WEDNESDAY, end_date=WEDNESDAY, reason="設備点検")
    with pytest.raises(errors.ClosedDay, match="設備点検"):
        book(resident, free_room, morning)


def test_the_year_end_closure_is_refused(resident: User, free_room: Room, morning: TimeBlock) -> None:
    with pytest.raises(errors.ClosedDay, match="年末年始"):
        book(resident, free_room, morning, date=dt.date(2030, 12, 30), now=aware(2030, 11, 20))


def test_a_facility_on_the_office_calendar_is_closed_on_holidays(department: Any, resident: User) -> None:
    facility = make_facility(department, code="office-hall", calendar=Facility.Calendar.OFFICE)
    room = facility.rooms.get(code="room-a")
    block = facility.time_blocks.get(code="morning")
    with pytest.raises(errors.ClosedDay):
        book(resident, room, block, date=dt.date(2030, 7, 15), now=aware(2030, 7, 1))  # 海の日
    with pytest.raises(errors.ClosedDay):
        book(resident, room, block, date=dt.date(2030, 6, 8))  # a Saturday


def test_a_weekly_closing_day_is_refused(department: Any, resident: User) -> None:
    facility = make_facility(department, code="monday-closed", closed_weekdays="0")
    room = facility.rooms.get(code="room-a")
    with pytest.raises(errors.ClosedDay, match="定休日"):
        book(resident, room, facility.time_blocks.get(code="morning"), date=dt.date(2030, 6, 10))


def test_a_time_block_of_another_facility_is_outside_the_opening_hours(
    department: Any, resident: User, free_room: Room
) -> None:
    other = make_facility(department, code="other-hall")
    with pytest.raises(errors.OutsideHours, match="開館時間外"):
        book(resident, free_room, other.time_blocks.get(code="morning"))


def test_a_slot_that_has_started_is_refused(resident: User, free_room: Room, morning: TimeBlock) -> None:
    with pytest.raises(errors.PastSlot):
        book(resident, free_room, morning, date=dt.date(2030, 6, 3))  # NOW is 10:00, the block began at 9:00


def test_a_slot_too_far_ahead_is_refused_with_the_date_it_opens(
    resident: User, free_room: Room, morning: TimeBlock
) -> None:
    with pytest.raises(errors.NotBookableYet, match="2030-08-04"):
        book(resident, free_room, morning, date=dt.date(2030, 10, 3))


def test_the_monthly_limit_counts_active_bookings_of_the_booker(
    resident: User, facility: Facility, free_room: Room
) -> None:
    blocks = list(facility.time_blocks.all())
    book(resident, free_room, blocks[0])
    second = book(resident, free_room, blocks[1])
    with pytest.raises(errors.MonthlyLimit, match="2枠まで"):
        book(resident, free_room, blocks[2])
    booking_cancel(booking=second, user=resident, now=NOW)
    assert book(resident, free_room, blocks[2]).status == Booking.Status.CONFIRMED
    # Another month has its own limit.
    assert book(resident, free_room, blocks[0], date=dt.date(2030, 7, 3)).status == Booking.Status.CONFIRMED


def test_a_group_limit_is_separate_from_the_representatives_own(
    resident: User, group: Group, facility: Facility, free_room: Room
) -> None:
    blocks = list(facility.time_blocks.all())
    book(resident, free_room, blocks[0], group=group)
    book(resident, free_room, blocks[1], group=group)
    with pytest.raises(errors.MonthlyLimit):
        book(resident, free_room, blocks[2], group=group)
    assert book(resident, free_room, blocks[2]).group is None


def test_a_groups_only_facility_refuses_individuals(department: Any, resident: User) -> None:
    facility = make_facility(department, code="gym", eligibility=Facility.Eligibility.GROUPS)
    with pytest.raises(errors.NotEligible, match="登録団体だけ"):
        book(resident, facility.rooms.get(code="room-a"), facility.time_blocks.get(code="morning"))


def test_only_the_representative_of_an_approved_group_books_for_it(
    resident: User, other_resident: User, free_room: Room, morning: TimeBlock
) -> None:
    with pytest.raises(errors.NotEligible, match="代表者"):
        book(other_resident, free_room, morning, group=make_group(resident))
    with pytest.raises(errors.NotEligible, match="承認されていません"):
        book(other_resident, free_room, morning, group=make_group(other_resident, approved=False, name="審査中の会"))


def test_an_account_without_a_resident_record_books_as_a_ward_worker(free_room: Room, morning: TimeBlock) -> None:
    outsider = UserFactory()
    with pytest.raises(errors.NotEligible, match="勤務先"):
        book(outsider, free_room, morning)
    booking = book(outsider, free_room, morning, workplace="デモ区立中央小学校")
    assert booking.eligibility == Booking.Eligibility.WORKER


def test_attendees_over_the_room_capacity_are_refused(resident: User, free_room: Room, morning: TimeBlock) -> None:
    with pytest.raises(errors.Refused, match="定員は30人"):
        book(resident, free_room, morning, attendees=31)


def test_a_room_with_a_fee_waits_for_payment_and_the_payment_confirms_it(
    resident: User, paid_room: Room, morning: TimeBlock
) -> None:
    booking = book(resident, paid_room, morning)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.fee_yen == 1200
    assert booking.deadline == NOW + dt.timedelta(days=3)
    url = booking_start_payment(booking=booking, user=resident, return_url="/back/", cancel_url="/back/", now=NOW)
    assert "/payments/sandbox/pay/" in url
    payment = Payment.objects.get(object_id=str(booking.public_id))
    assert (payment.purpose, payment.amount_yen) == ("reservation", 1200)
    payment_apply_event(
        provider="sandbox",
        event=WebhookEvent(
            event_id="evt-1",
            type=EventType.AUTHORIZED,
            provider_reference=payment.provider_reference,
            amount=1200,
            payload={},
        ),
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_an_unpaid_booking_lapses_after_its_deadline_and_frees_the_slot(
    resident: User, other_resident: User, paid_room: Room, morning: TimeBlock
) -> None:
    booking = book(resident, paid_room, morning)
    booking_start_payment(booking=booking, user=resident, return_url="/b/", cancel_url="/b/", now=NOW)
    assert bookings_lapse_due(now=NOW + dt.timedelta(days=1)) == 0
    assert bookings_lapse_due(now=NOW + dt.timedelta(days=3, minutes=1)) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.LAPSED
    assert Payment.objects.get(object_id=str(booking.public_id)).status == PaymentStatus.CANCELLED
    later = NOW + dt.timedelta(days=3, minutes=2)
    assert book(other_resident, paid_room, morning, now=later).status == Booking.Status.PENDING_PAYMENT


def test_a_payment_after_the_lapse_marks_the_booking_for_a_refund(
    resident: User, paid_room: Room, morning: TimeBlock
) -> None:
    booking = book(resident, paid_room, morning)
    booking_start_payment(booking=booking, user=resident, return_url="/b/", cancel_url="/b/", now=NOW)
    payment = Payment.objects.get(object_id=str(booking.public_id))
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.LAPSED)
    payment_apply_event(
        provider="sandbox",
        event=WebhookEvent(
            event_id="evt-late",
            type=EventType.AUTHORIZED,
            provider_reference=payment.provider_reference,
            amount=1200,
            payload={},
        ),
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.LAPSED
    assert booking.refund_due


def test_paying_after_the_deadline_is_refused(resident: User, paid_room: Room, morning: TimeBlock) -> None:
    booking = book(resident, paid_room, morning)
    with pytest.raises(errors.DeadlinePassed):
        booking_start_payment(
            booking=booking, user=resident, return_url="/b/", cancel_url="/b/", now=NOW + dt.timedelta(days=4)
        )


def test_cancelling_after_the_cancellation_deadline_is_refused(
    resident: User, free_room: Room, morning: TimeBlock
) -> None:
    booking = book(resident, free_room, morning)  # 2030-06-12, 3 days before: until the end of 06-09
    with pytest.raises(errors.DeadlinePassed, match="取消しの期限"):
        booking_cancel(booking=booking, user=resident, now=aware(2030, 6, 10, 0, 1))


def test_only_the_booker_can_cancel(resident: User, other_resident: User, free_room: Room, morning: TimeBlock) -> None:
    booking = book(resident, free_room, morning)
    with pytest.raises(errors.NotEligible):
        booking_cancel(booking=booking, user=other_resident, now=NOW)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
