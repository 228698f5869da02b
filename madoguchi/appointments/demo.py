"""The counters of the demo ward (デモ区) that take appointments and queue tickets.

``appointments_demo_load`` is called by ``demo.ward.demo_load``: it creates the
counters of 区民課, 戸籍住民課 and 保険年金課 with their opening hours (weekdays
8:30–12:00 and 13:00–17:00), the procedures that can be booked there, two ward-wide
closed days, and the slots of the coming ``DEMO_DAYS`` days. Running it again
changes nothing (on the same day; on a later day it adds the new days' slots).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from madoguchi.appointments import clock
from madoguchi.appointments.models import ClosedDay, Counter, CounterProcedure, OpeningHours
from madoguchi.appointments.services import slots_generate
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Department

DEMO_DAYS = 14
HOURS = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0))]

# code, department, name, name_en, location, location_en, prefix, desks, default minutes,
# [(procedure, slot minutes, capacity)]
COUNTERS: list[tuple[str, str, str, str, str, str, str, int, int, list[tuple[str, int, int]]]] = [
    (
        "kumin-ido",
        "kumin",
        "区民課 住民異動窓口",
        "Residents Division: moving in and out",
        "本庁舎2階 3番窓口",
        "Main building 2F, counter 3",
        "A",
        2,
        12,
        [("tennyu", 30, 2), ("tenshutsu", 15, 2), ("tenkyo", 15, 2), ("mynumber-shinsei", 15, 1)],
    ),
    (
        "koseki-todoke",
        "koseki",
        "戸籍住民課 戸籍届出窓口",
        "Family Register Division: notifications",
        "本庁舎2階 5番窓口",
        "Main building 2F, counter 5",
        "B",
        1,
        15,
        [("konin", 30, 1), ("shussei", 30, 1)],
    ),
    (
        "hoken-nenkin",
        "hoken-nenkin",
        "保険年金課 国保・年金窓口",
        "Health Insurance and Pension Division",
        "本庁舎2階 7番窓口",
        "Main building 2F, counter 7",
        "C",
        2,
        10,
        [("kokuho-kanyu", 15, 2), ("kokumin-nenkin", 15, 1)],
    ),
]

CLOSED_DAYS = [
    (dt.date(2027, 2, 15), "庁舎設備点検"),
    (dt.date(2027, 8, 16), "庁舎電気設備点検"),
]


@dataclass
class AppointmentsDemoReport:
    counters: int
    slots_created: int


def appointments_demo_load(*, today: dt.date | None = None) -> AppointmentsDemoReport:
    """Create the demo counters, hours, bookable procedures, closed days and slots.
    Call inside the demo loader's transaction."""
    start = today or clock.today()
    created = 0
    counters = 0
    for code, dept, name, name_en, location, location_en, prefix, desks, minutes, offers in COUNTERS:
        department = Department.objects.filter(code=dept).first()
        if department is None:
            continue
        counter, _ = Counter.objects.get_or_create(
            code=code,
            defaults={
                "department": department,
                "name": name,
                "name_en": name_en,
                "location": location,
                "location_en": location_en,
                "floor": "2f",
                "ticket_prefix": prefix,
                "desks": desks,
                "default_service_minutes": minutes,
            },
        )
        counters += 1
        for weekday in range(5):
            for opens, closes in HOURS:
                OpeningHours.objects.get_or_create(
                    counter=counter, weekday=weekday, opens=opens, defaults={"closes": closes}
                )
        for procedure_code, slot_minutes, capacity in offers:
            procedure = Procedure.objects.filter(code=procedure_code).first()
            if procedure is not None:
                CounterProcedure.objects.get_or_create(
                    counter=counter, procedure=procedure, defaults={"slot_minutes": slot_minutes, "capacity": capacity}
                )
        created += slots_generate(counter=counter, start=start, end=start + dt.timedelta(days=DEMO_DAYS), audit=False)
    for day, reason in CLOSED_DAYS:
        ClosedDay.objects.get_or_create(counter=None, date=day, defaults={"reason": reason})
    return AppointmentsDemoReport(counters=counters, slots_created=created)
