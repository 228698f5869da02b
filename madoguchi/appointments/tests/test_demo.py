"""The demo ward's counters: loaded with the demo ward, idempotently."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.appointments.demo import appointments_demo_load
from madoguchi.appointments.models import AppointmentSlot, Counter
from madoguchi.demo.ward import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_ward_has_bookable_counters_and_loading_again_changes_nothing(catalog: Any) -> None:
    demo_load()
    assert set(Counter.objects.values_list("code", flat=True)) == {"kumin-ido", "koseki-todoke", "hoken-nenkin"}
    slots = AppointmentSlot.objects.count()
    assert slots > 0
    report = appointments_demo_load()
    assert report.slots_created == 0 and AppointmentSlot.objects.count() == slots


def test_the_demo_slots_are_on_open_days_within_hours(catalog: Any) -> None:
    demo_load()
    appointments_demo_load(today=dt.date(2026, 12, 24))
    days = {
        s.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
        for s in AppointmentSlot.objects.filter(starts_at__date__gte=dt.date(2026, 12, 24)).values_list(
            "starts_at", flat=True
        )
    }
    assert dt.date(2026, 12, 25) in days and dt.date(2026, 12, 28) in days
    assert not days & {dt.date(2026, 12, 26), dt.date(2026, 12, 29), dt.date(2027, 1, 1), dt.date(2027, 1, 3)}
