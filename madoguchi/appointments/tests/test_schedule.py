"""The business calendar: slots only on open days and within opening hours."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.appointments import schedule
from madoguchi.appointments.models import AppointmentSlot, ClosedDay, Counter
from madoguchi.appointments.services import slots_generate

from .conftest import jst, make_counter

pytestmark = pytest.mark.django_db


def _days(counter: Counter) -> list[dt.date]:
    starts = AppointmentSlot.objects.filter(counter=counter).values_list("starts_at", flat=True)
    return sorted({s.astimezone(jst(2026, 1, 1).tzinfo).date() for s in starts})


def test_slots_skip_the_year_end_closure_and_new_year_holidays(ward: None) -> None:
    counter = make_counter()
    slots_generate(counter=counter, start=dt.date(2026, 12, 26), end=dt.date(2027, 1, 12))
    assert _days(counter) == [
        dt.date(2026, 12, 28),  # Monday: the last open day of the year
        dt.date(2027, 1, 4),  # Monday: 年末年始 12/29–1/3 is over
        dt.date(2027, 1, 5),
        dt.date(2027, 1, 6),
        dt.date(2027, 1, 7),
        dt.date(2027, 1, 8),
        dt.date(2027, 1, 12),  # 1/9–1/10 weekend, 1/11 成人の日
    ]


def test_slots_skip_national_holidays_and_weekends(ward: None) -> None:
    counter = make_counter()
    slots_generate(counter=counter, start=dt.date(2026, 11, 21), end=dt.date(2026, 11, 24))
    assert _days(counter) == [dt.date(2026, 11, 24)]  # 11/21–22 weekend, 11/23 勤労感謝の日


def test_slots_fill_each_opening_period_and_skip_the_lunch_break(ward: None) -> None:
    counter = make_counter()
    created = slots_generate(counter=counter, start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 25))
    starts = [
        s.astimezone(jst(2026, 1, 1).tzinfo).strftime("%H:%M")
        for s in counter.slots.values_list("starts_at", flat=True)
    ]
    assert created == 12
    assert starts == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30",
    ]  # fmt: skip
    slot = counter.slots.first()
    assert slot is not None and slot.capacity == 2 and slot.ends_at - slot.starts_at == dt.timedelta(minutes=30)


def test_ward_and_counter_closed_days_have_no_slots(ward: None) -> None:
    counter = make_counter()
    other = make_counter(code="other", prefix="U")
    ClosedDay.objects.create(counter=None, date=dt.date(2026, 11, 25), reason="庁舎点検")
    ClosedDay.objects.create(counter=counter, date=dt.date(2026, 11, 26), reason="窓口研修")
    for c in (counter, other):
        slots_generate(counter=c, start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 27))
    assert _days(counter) == [dt.date(2026, 11, 24), dt.date(2026, 11, 27)]
    assert _days(other) == [dt.date(2026, 11, 24), dt.date(2026, 11, 26), dt.date(2026, 11, 27)]


def test_generating_again_creates_nothing_and_keeps_bookings(ward: None) -> None:
    counter = make_counter()
    first = slots_generate(counter=counter, start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 30))
    AppointmentSlot.objects.filter(counter=counter).update(booked=1)
    again = slots_generate(counter=counter, start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 30))
    assert first > 0 and again == 0
    assert not AppointmentSlot.objects.filter(counter=counter, booked=0).exists()


def test_check_open_names_the_reason(ward: None) -> None:
    counter = make_counter()
    ClosedDay.objects.create(counter=None, date=dt.date(2026, 11, 26), reason="庁舎点検")
    assert schedule.check_open(counter, jst(2026, 11, 25, 9), jst(2026, 11, 25, 9, 30)).ok
    assert schedule.check_open(counter, jst(2026, 11, 25, 11, 45), jst(2026, 11, 25, 12, 15)).reason == "outside_hours"
    assert schedule.check_open(counter, jst(2026, 11, 23, 9), jst(2026, 11, 23, 9, 30)).reason == "closed_day"
    closed = schedule.check_open(counter, jst(2026, 11, 26, 9), jst(2026, 11, 26, 9, 30))
    assert closed.reason == "closed_day" and closed.closed_reason == "庁舎点検"
    assert schedule.check_open(counter, jst(2026, 12, 30, 9), jst(2026, 12, 30, 9, 30)).reason == "closed_day"
