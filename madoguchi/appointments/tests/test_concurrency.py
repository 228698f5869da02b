"""Concurrent requests never book a slot beyond its capacity, never let one resident
past the booking limit, never call one ticket twice and never repeat a ticket number.

Each request runs in its own thread with its own database connection. PostgreSQL
(CI) makes the losers wait on the row locks; SQLite's in-memory test database
answers a writer that meets another's lock with an error at once instead of waiting,
so a request that gets one is retried, as a browser's user would press again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection

from madoguchi.appointments.models import Appointment, AppointmentSlot, Counter, QueueTicket
from madoguchi.appointments.services import (
    BookingRefused,
    appointment_book,
    ticket_call_next,
    ticket_issue,
)

from .conftest import NOW, jst, make_resident, make_staff, slot_at

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def _race(jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            for _attempt in range(400):
                try:
                    outcome = job()
                except OperationalError:  # SQLite: "database table is locked"; retried
                    time.sleep(0.005)
                    continue
                except BaseException as exc:  # noqa: BLE001 - reported to the main thread
                    outcome = exc
                with lock:
                    results.append(outcome)
                return
            with lock:
                errors.append(RuntimeError("never got through"))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_bookings_never_exceed_capacity(counter: Counter) -> None:
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    residents = [make_resident(f"r{i}@example.jp") for i in range(THREADS)]
    results, errors = _race(
        [lambda r=r: appointment_book(resident=r, slot_id=slot.pk, now=NOW) for r in residents]  # type: ignore[misc]
    )
    assert not errors
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, BookingRefused)]
    assert len(booked) == 2 and len(refused) == THREADS - 2, results
    assert {r.code for r in refused} == {"full"}
    slot.refresh_from_db()
    assert slot.booked == 2 == Appointment.objects.filter(slot=slot).count()


def test_one_resident_racing_cannot_pass_the_booking_limit(counter: Counter, settings: Any) -> None:
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 1
    resident = make_resident("racer@example.jp")
    slots = list(AppointmentSlot.objects.filter(counter=counter, starts_at__gt=NOW).order_by("starts_at")[:THREADS])
    results, errors = _race(
        [lambda s=s: appointment_book(resident=resident, slot_id=s.pk, now=NOW) for s in slots]  # type: ignore[misc]
    )
    assert not errors
    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    assert {r.code for r in results if isinstance(r, BookingRefused)} == {"limit"}
    assert Appointment.objects.filter(resident=resident).count() == 1


def test_concurrent_tickets_get_distinct_numbers_and_desks_call_distinct_tickets(counter: Counter) -> None:
    issued, errors = _race([lambda: ticket_issue(counter=counter, channel="kiosk", now=NOW) for _ in range(THREADS)])
    assert not errors and all(isinstance(t, QueueTicket) for t in issued), issued
    assert sorted(t.number for t in issued) == list(range(1, THREADS + 1))
    staff = make_staff("kumin")
    called, errors = _race(
        [lambda d=d: ticket_call_next(counter=counter, actor=staff, desk=f"{d}番", now=NOW) for d in range(4)]  # type: ignore[misc]
    )
    assert not errors
    assert len({t.pk for t in called}) == 4
    assert QueueTicket.objects.filter(status="called").count() == 4
