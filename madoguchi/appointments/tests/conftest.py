"""Fixtures of the appointments tests: a counter with known hours and procedures,
and a fixed clock (``madoguchi.appointments.clock.now``), so that no test depends on
the day it runs."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from madoguchi.appointments import clock
from madoguchi.appointments.models import AppointmentSlot, Counter, CounterProcedure, OpeningHours
from madoguchi.appointments.services import slots_generate
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Department, StaffRole, User

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
#: Wednesday 25 November 2026, 09:00 in Tokyo: an ordinary open day.
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=JST)


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 3


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """``frozen(when)`` fixes the app's clock; the fixture starts it at ``NOW``."""

    def set_time(when: dt.datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: when)

    set_time(NOW)
    return set_time


def make_resident(email: str, name: str = "") -> User:
    return User.objects.create_user(
        username=email, email=email, kind=User.Kind.RESIDENT, display_name=name or email, password=None
    )


def make_staff(department: str, role: str = "tanto") -> User:
    email = f"{department}-{role}@demo-ku.example.jp"
    user = User.objects.create_user(username=email, email=email, kind=User.Kind.STAFF, password=None)
    StaffRole.objects.create(user=user, department=Department.objects.get(code=department), role=role)
    return user


@pytest.fixture
def ward(catalog: None) -> None:
    """The catalog (departments and procedures) of the demo ward; the accounts each
    test needs are made by the fixtures below (``demo_load`` is tested on its own)."""


@pytest.fixture
def hanako(ward: None) -> User:
    return make_resident("hanako@example.jp", "山田 花子")


@pytest.fixture
def ichiro(ward: None) -> User:
    return make_resident("ichiro@example.jp", "佐藤 一郎")


@pytest.fixture
def kumin_staff(ward: None) -> User:
    return make_staff("kumin")


@pytest.fixture
def koseki_staff(ward: None) -> User:
    return make_staff("koseki")


@pytest.fixture
def hanako_client(client: Client, hanako: User) -> Client:
    client.force_login(hanako)
    return client


def make_counter(
    *, code: str = "test-kumin", prefix: str = "T", department: str = "kumin", procedure: str = "tenkyo"
) -> Counter:
    """A counter open on weekdays 9:00–12:00 and 13:00–16:00 with 30-minute slots of
    ``procedure`` for 2 residents each."""
    counter = Counter.objects.create(
        department=Department.objects.get(code=department),
        code=code,
        name=f"テスト窓口 {code}",
        location="本庁舎2階 99番窓口",
        floor="9f",
        ticket_prefix=prefix,
        desks=1,
        default_service_minutes=10,
    )
    for weekday in range(5):
        OpeningHours.objects.create(counter=counter, weekday=weekday, opens=dt.time(9), closes=dt.time(12))
        OpeningHours.objects.create(counter=counter, weekday=weekday, opens=dt.time(13), closes=dt.time(16))
    CounterProcedure.objects.create(
        counter=counter, procedure=Procedure.objects.get(code=procedure), slot_minutes=30, capacity=2
    )
    return counter


@pytest.fixture
def counter(ward: None) -> Counter:
    counter = make_counter()
    slots_generate(counter=counter, start=dt.date(2026, 11, 23), end=dt.date(2026, 12, 4))
    return counter


def slot_at(counter: Counter, when: dt.datetime) -> AppointmentSlot:
    return AppointmentSlot.objects.get(counter=counter, starts_at=when)
