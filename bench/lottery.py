"""Benchmark: a lottery draw of 100,000 applications over 20,000 slots.

Seeds one facility whose month has about ``--slots`` slots (rooms × days × 4 time
blocks), ``--applications`` registered groups each applying with 1–3 entries (a 1st
and usually a 2nd choice; evenings and weekends are wanted more), then measures:

* loading the draw's inputs from the database (``draw_inputs``: four queries),
* the draw itself (``draw.run_draw``, pure Python over the loaded data): the target,
  under 2 seconds,
* the whole ``lottery_draw`` service: load, draw, bulk-insert the wins and the
  offered bookings, reveal the seed, audit, in one transaction,
* ``lottery_verify``: re-running the draw and comparing digests.

    ./run bench lottery [--applications 100000] [--slots 20000] [--seed 1]
    DATABASE_URL=postgres://.../bench_lottery ./run bench lottery
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from _django import setup, table

BLOCKS = [("am", "午前", 9, 12), ("pm", "午後", 13, 17), ("ev", "夕方", 17, 19), ("nt", "夜間", 19, 21)]
MONTH = dt.date(2031, 6, 1)  # 30 days, no year-end closure


def seed(applications: int, slots: int, rng: random.Random) -> int:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from madoguchi.core.models import User
    from madoguchi.reservations.models import (
        Facility,
        Group,
        LotteryApplication,
        LotteryEntry,
        Room,
        Slot,
        TimeBlock,
    )
    from madoguchi.reservations.services.lottery import lottery_round_create

    days = 30
    rooms_needed = max(1, round(slots / (days * len(BLOCKS))))
    with transaction.atomic():
        facility = Facility.objects.create(code="bench-sports-park", name="ベンチマーク運動公園", eligibility="groups")
        for order, (code, name, start, end) in enumerate(BLOCKS):
            TimeBlock.objects.create(
                facility=facility,
                code=code,
                name=name,
                start_time=dt.time(start),
                end_time=dt.time(end),
                sort_order=order,
            )
        Room.objects.bulk_create(
            [
                Room(facility=facility, code=f"court-{i:03d}", name=f"コート{i}", capacity=20)
                for i in range(rooms_needed)
            ]
        )
        staff = User.objects.create(username="bench-staff", email="bench-staff@example.jp", kind="staff")
        now = timezone.now()
        lottery = lottery_round_create(
            actor=staff,
            facility=facility,
            month=MONTH,
            opens_at=now - dt.timedelta(days=20),
            closes_at=now - dt.timedelta(days=1),
            confirm_deadline=now + dt.timedelta(days=7),
            first_come_opens_at=now + dt.timedelta(days=10),
            max_entries=3,
            max_wins=2,
        )
    slot_ids: list[int] = []
    weights: list[float] = []
    for pk, date, block in Slot.objects.filter(lottery_round=lottery).values_list("pk", "date", "block__code"):
        slot_ids.append(pk)
        weekend = date.weekday() >= 5
        weights.append((3.0 if weekend else 1.0) * (2.0 if block in ("ev", "nt") else 1.0))
    password = make_password(None)
    batch = 5000
    for start in range(0, applications, batch):
        with transaction.atomic():
            size = min(batch, applications - start)
            users = User.objects.bulk_create(
                [
                    User(username=f"bench-{i}", email=f"bench-{i}@example.jp", password=password)
                    for i in range(start, start + size)
                ]
            )
            groups = Group.objects.bulk_create(
                [
                    Group(
                        name=f"団体{i}",
                        name_kana="ダンタイ",
                        activity="練習",
                        member_count=10,
                        representative=user,
                        rep_name=f"代表{i}",
                        rep_birth_date=dt.date(1980, 1, 1),
                        rep_address=f"デモ区{i}",
                        person_key=f"{i:064d}",
                        status="approved",
                        card_number=f"B{i:07d}",
                    )
                    for i, user in zip(range(start, start + size), users, strict=True)
                ]
            )
            apps = LotteryApplication.objects.bulk_create(
                [
                    LotteryApplication(
                        round=lottery, group=g, submitted_by_id=g.representative_id, person_key=g.person_key
                    )
                    for g in groups
                ]
            )
            entries = []
            for app in apps:
                count = rng.choice((1, 2, 2, 3))
                picked = rng.choices(slot_ids, weights=weights, k=count * 2)
                unique = list(dict.fromkeys(picked))
                for position in range(1, count + 1):
                    if not unique:
                        break
                    first = unique.pop(0)
                    second = unique.pop(0) if unique and rng.random() < 0.8 else None
                    entries.append(
                        LotteryEntry(application=app, position=position, first_slot_id=first, second_slot_id=second)
                    )
            LotteryEntry.objects.bulk_create(entries, batch_size=10000)
    return lottery.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.db import connection

    from madoguchi.reservations import draw
    from madoguchi.reservations.models import LotteryEntry, LotteryRound
    from madoguchi.reservations.services.lottery import draw_inputs, lottery_draw, lottery_seed, lottery_verify

    started = time.perf_counter()
    round_id = seed(args.applications, args.slots, random.Random(args.seed))
    seeded = time.perf_counter() - started
    lottery = LotteryRound.objects.get(pk=round_id)

    started = time.perf_counter()
    inputs = draw_inputs(lottery)
    load = time.perf_counter() - started
    seed_bytes = lottery_seed(lottery)
    started = time.perf_counter()
    wins = draw.run_draw(
        seed=seed_bytes, applications=inputs.applications, capacity=inputs.capacity, max_wins=lottery.max_wins
    )
    pure = time.perf_counter() - started

    started = time.perf_counter()
    drawn = lottery_draw(lottery=lottery, actor=None)
    service = time.perf_counter() - started
    started = time.perf_counter()
    verification = lottery_verify(drawn)
    verify = time.perf_counter() - started

    entries = LotteryEntry.objects.filter(application__round=drawn).count()
    table(
        f"Lottery draw ({connection.vendor})",
        [
            ("applications", f"{drawn.application_count:,}"),
            ("entries (1st + 2nd choices)", f"{entries:,}"),
            ("slots", f"{len(inputs.capacity):,}"),
            ("wins", f"{drawn.win_count:,}"),
            ("seeding the data", f"{seeded:.1f} s"),
            ("load inputs (4 queries)", f"{load * 1000:.0f} ms"),
            ("draw (pure Python)", f"{pure * 1000:.0f} ms"),
            ("target for the draw", "< 2000 ms"),
            ("lottery_draw service", f"{service * 1000:.0f} ms"),
            ("  of which the draw", f"{drawn.draw_ms} ms"),
            ("lottery_verify", f"{verify * 1000:.0f} ms"),
            ("verified", "yes" if verification.ok else "NO"),
            ("same result as the timed draw", "yes" if draw.result_digest(wins) == drawn.result_digest else "NO"),
        ],
    )
    if pure >= 2.0:
        print("\nThe draw took longer than the 2-second target.")


if __name__ == "__main__":
    main()
