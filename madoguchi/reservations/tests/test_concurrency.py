"""Many residents booking the same slot at the same moment: exactly one gets it, the
others get a clear message, and nothing else is saved. Runs on SQLite and on
PostgreSQL (CI), where the slot row lock and the partial unique constraint are what
stop a double booking."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection

from madoguchi.reservations import errors
from madoguchi.reservations.models import Booking, Room, TimeBlock
from madoguchi.reservations.services.bookings import booking_create

from .conftest import NOW, make_facility, make_resident

pytestmark = pytest.mark.django_db(transaction=True)
RESIDENTS = 8


def test_concurrent_requests_for_one_slot_make_exactly_one_booking() -> None:
    facility = make_facility(None)
    room = Room.objects.get(facility=facility, code="room-a")
    block = TimeBlock.objects.get(facility=facility, code="morning")
    users = [make_resident() for _ in range(RESIDENTS)]
    barrier = threading.Barrier(RESIDENTS)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def book(user: Any) -> None:
        try:
            barrier.wait()
            result: Any = booking_create(
                user=user,
                room=room,
                date=dt.date(2030, 6, 5),
                block=block,
                purpose="会議",
                attendees=5,
                now=NOW,
            )
        except errors.SlotTaken as exc:
            result = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=book, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    booked = [o for o in outcomes if isinstance(o, Booking)]
    refused = [o for o in outcomes if isinstance(o, errors.SlotTaken)]
    unexpected = [o for o in outcomes if not isinstance(o, Booking | errors.SlotTaken)]
    assert not unexpected, unexpected
    assert len(booked) == 1
    assert len(refused) == RESIDENTS - 1
    assert all("すでに予約されています" in r.message for r in refused)
    assert Booking.objects.filter(slot__room=room, status__in=Booking.ACTIVE).count() == 1


def test_two_staff_pressing_draw_at_once_draw_once() -> None:
    from madoguchi.reservations.models import LotteryRound, LotteryWin, Slot
    from madoguchi.reservations.services.lottery import lottery_apply, lottery_draw, lottery_round_create

    from .conftest import aware, make_group

    facility = make_facility(None)
    staff = make_resident()
    lottery = lottery_round_create(
        actor=staff,
        facility=facility,
        month=dt.date(2030, 7, 1),
        opens_at=aware(2030, 6, 1),
        closes_at=aware(2030, 6, 10),
        confirm_deadline=aware(2030, 6, 17),
        first_come_opens_at=aware(2030, 6, 20),
    )
    slot = Slot.objects.filter(lottery_round=lottery).first()
    assert slot is not None
    for i in range(5):
        user = make_resident()
        lottery_apply(
            user=user, lottery=lottery, group=make_group(user, name=f"会{i}"), choices=[(slot.pk, None)], now=NOW
        )
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def press() -> None:
        try:
            barrier.wait()
            result: Any = lottery_draw(lottery=lottery, actor=None, now=aware(2030, 6, 11))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drawn = [o for o in outcomes if isinstance(o, LotteryRound)]
    refused = [o for o in outcomes if isinstance(o, errors.AlreadyDrawn)]
    assert (len(drawn), len(refused)) == (1, 1), outcomes
    assert LotteryWin.objects.filter(round=lottery).count() == 1
    assert LotteryRound.objects.get(pk=lottery.pk).result_digest == drawn[0].result_digest


def test_two_refund_retries_at_once_refund_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from madoguchi.payments.models import Payment, Refund
    from madoguchi.reservations.services.bookings import booking_cancel, booking_start_payment
    from madoguchi.reservations.services.refunds import RefundOutcome, booking_refund

    from .test_refunds import pay_at_sandbox

    facility = make_facility(None)
    room = Room.objects.get(facility=facility, code="room-b")  # 1,200円
    block = TimeBlock.objects.get(facility=facility, code="morning")
    user = make_resident()
    booking = booking_create(
        user=user, room=room, date=dt.date(2030, 6, 12), block=block, purpose="会議", attendees=5, now=NOW
    )
    booking_start_payment(booking=booking, user=user, return_url="http://t/b/", cancel_url="http://t/b/", now=NOW)
    payment = Payment.objects.get(object_id=str(booking.public_id))
    pay_at_sandbox(payment, monkeypatch)
    booking_cancel(booking=Booking.objects.get(pk=booking.pk), user=user, now=NOW)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def press() -> None:
        try:
            barrier.wait()
            result: Any = booking_refund(booking_id=booking.pk, actor=None, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)) == sorted([RefundOutcome.REFUNDED, RefundOutcome.NOTHING_DUE]), outcomes
    assert list(Refund.objects.filter(payment=payment).values_list("amount_yen", flat=True)) == [1200]
    assert Booking.objects.get(pk=booking.pk).refund_attempts == 0
