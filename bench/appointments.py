"""Benchmark: a booking rush on counter appointments, and a busy queue.

1. Booking rush: ``--residents`` residents (default 200), ``--threads`` at a time
   (default 8), each books one of ``--slots`` slots (default 20, capacity 2) through
   ``services.appointment_book``, most of them aiming at the same few popular slots.
   Prints bookings per second and the latency percentiles, and checks that no slot
   holds more than its capacity (the run fails otherwise).
2. Busy queue: ``--waiting`` tickets (default 300; every fifth one, while the rush's
   bookings last, an appointment's) waiting at one counter; times ``selectors.queue_state`` (the fair
   rule applied to the whole line, positions and waits), which every ticket page and
   the staff console compute.

    ./run bench appointments [--residents 200] [--threads 8] [--waiting 300]
    DATABASE_URL=postgres://.../bench_appointments ./run bench appointments
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import threading
import time
import zoneinfo

from _django import setup, table

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=JST)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=300)
    args = parser.parse_args()
    setup()

    from django.conf import settings
    from django.db import OperationalError, connection
    from django.db.models import F

    from madoguchi.appointments import selectors
    from madoguchi.appointments.models import (
        Appointment,
        AppointmentSlot,
        Counter,
        CounterProcedure,
        OpeningHours,
        QueueTicket,
    )
    from madoguchi.appointments.services import BookingRefused, appointment_book, slots_generate
    from madoguchi.catalog.importer import catalog_import
    from madoguchi.catalog.models import Procedure
    from madoguchi.core.models import Department, User

    catalog_import(directory=settings.CATALOG_DIR)
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 3
    counter, _ = Counter.objects.get_or_create(
        code="bench",
        defaults={"department": Department.objects.get(code="kumin"), "name": "ベンチ窓口", "ticket_prefix": "Z"},
    )
    for weekday in range(5):
        OpeningHours.objects.get_or_create(
            counter=counter, weekday=weekday, opens=dt.time(8, 30), defaults={"closes": dt.time(17)}
        )
    CounterProcedure.objects.get_or_create(
        counter=counter, procedure=Procedure.objects.get(code="tenkyo"), defaults={"slot_minutes": 15, "capacity": 2}
    )
    slots_generate(counter=counter, start=NOW.date(), end=NOW.date() + dt.timedelta(days=7), audit=False)
    slots = list(AppointmentSlot.objects.filter(counter=counter, starts_at__gt=NOW).order_by("starts_at")[: args.slots])
    run = int(time.time())
    residents = [
        User.objects.create_user(username=f"b{run}-{i}@example.jp", email=f"b{run}-{i}@example.jp", password=None)
        for i in range(args.residents)
    ]
    rng = random.Random(20261125)
    # Most residents want one of the first three slots (a popular morning).
    wanted = [slots[rng.randrange(3)] if rng.random() < 0.7 else rng.choice(slots) for _ in residents]
    latencies: list[float] = []
    outcome = {"booked": 0, "refused": 0, "retried": 0}
    lock = threading.Lock()
    queue = list(zip(residents, wanted, strict=True))

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    resident, slot = queue.pop()
                started = time.perf_counter()
                while True:
                    try:
                        appointment_book(resident=resident, slot_id=slot.pk, now=NOW)
                        key = "booked"
                    except BookingRefused:
                        key = "refused"
                    except OperationalError:  # busy beyond SQLite's busy_timeout
                        with lock:
                            outcome["retried"] += 1
                        continue
                    break
                with lock:
                    outcome[key] += 1
                    latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    over = AppointmentSlot.objects.filter(booked__gt=F("capacity")).count()
    table(
        f"booking rush: {args.residents} residents, {args.threads} threads, {connection.vendor}",
        [
            ("bookings + refusals / s", f"{len(latencies) / elapsed:.0f}"),
            ("booked", str(outcome["booked"])),
            ("refused (full)", str(outcome["refused"])),
            ("retried (lock)", str(outcome["retried"])),
            ("p50 ms", f"{statistics.median(latencies) * 1000:.1f}"),
            ("p95 ms", f"{pct(latencies, 0.95) * 1000:.1f}"),
            ("p99 ms", f"{pct(latencies, 0.99) * 1000:.1f}"),
            ("slots over capacity", str(over)),
        ],
    )
    if over:
        raise SystemExit("a slot holds more than its capacity")

    day = NOW.date()
    QueueTicket.objects.filter(counter=counter).delete()
    base = NOW.replace(hour=9)
    booked = list(Appointment.objects.filter(slot__counter=counter, status="booked")[: args.waiting // 5])
    tickets = []
    for i in range(args.waiting):
        appointment = booked[i // 5] if i % 5 == 0 and i // 5 < len(booked) else None
        tickets.append(
            QueueTicket(
                counter=counter,
                issued_counter=counter,
                service_date=day,
                number=i + 1,
                kind="appointment" if appointment else "walk_in",
                appointment=appointment,
                channel="staff" if appointment else "kiosk",
                issued_at=base + dt.timedelta(seconds=20 * i),
                queued_at=base + dt.timedelta(seconds=20 * i),
            )
        )
    QueueTicket.objects.bulk_create(tickets)
    at = base + dt.timedelta(hours=2)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        state = selectors.queue_state(counter, now=at)
        times.append(time.perf_counter() - t0)
    table(
        f"queue state with {len(state.waiting)} waiting",
        [("p50 ms", f"{statistics.median(times) * 1000:.1f}"), ("p95 ms", f"{pct(times, 0.95) * 1000:.1f}")],
    )


if __name__ == "__main__":
    main()
