"""Staff reads of residents' data are audit-logged: the day's appointment list (names)
writes one record per view naming what was shown; refused readers leave none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from madoguchi.appointments.models import Appointment, Counter
from madoguchi.appointments.services import appointment_book
from madoguchi.core.models import AuditEvent, User

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db

VIEWED = "appointments.staff_viewed"


@pytest.fixture
def two_booked(counter: Counter, hanako: User, ichiro: User) -> list[Appointment]:
    return [
        appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW),
        appointment_book(resident=ichiro, slot_id=slot_at(counter, jst(2026, 11, 26, 13)).pk, now=NOW),
    ]


def test_each_view_of_the_day_list_writes_an_audit_record_naming_the_rows_shown(
    client: Client,
    kumin_staff: User,
    counter: Counter,
    two_booked: list[Appointment],
    frozen: Callable[[dt.datetime], None],
) -> None:
    client.force_login(kumin_staff)
    page = client.get(f"/appointments/staff/{counter.code}/day/?date=2026-11-26").content.decode()
    assert "山田 花子" in page and "佐藤 一郎" in page
    record = AuditEvent.objects.get(action=VIEWED)
    assert record.actor_id == kumin_staff.pk
    assert (record.target_type, record.target_id) == ("appointments.counter", str(counter.pk))
    assert record.data == {
        "what": "day_list",
        "counter": counter.code,
        "date": "2026-11-26",
        "rows": 2,
        "appointment_ids": [a.pk for a in two_booked],
    }
    assert record.ip_address == "127.0.0.1"

    client.get(f"/appointments/staff/{counter.code}/day/?date=2026-11-27")
    client.get(f"/appointments/staff/{counter.code}/day/")  # today (25 Nov): nobody booked
    records = list(AuditEvent.objects.filter(action=VIEWED).order_by("id"))
    assert [(r.data["date"], r.data["rows"]) for r in records] == [
        ("2026-11-26", 2),
        ("2026-11-27", 0),
        ("2026-11-25", 0),
    ]


def test_staff_of_another_department_are_refused_and_leave_no_read_record(
    client: Client, koseki_staff: User, counter: Counter, two_booked: list[Appointment]
) -> None:
    client.force_login(koseki_staff)
    assert client.get(f"/appointments/staff/{counter.code}/day/?date=2026-11-26").status_code == 404
    assert not AuditEvent.objects.filter(action=VIEWED).exists()


def test_residents_get_403_on_the_day_list_and_leave_no_read_record(
    client: Client, hanako: User, counter: Counter, two_booked: list[Appointment]
) -> None:
    client.force_login(hanako)
    assert client.get(f"/appointments/staff/{counter.code}/day/?date=2026-11-26").status_code == 403
    assert not AuditEvent.objects.filter(action=VIEWED).exists()


def test_the_queue_console_shows_ticket_numbers_but_no_names(
    client: Client, kumin_staff: User, counter: Counter, hanako: User, frozen: Callable[[dt.datetime], None]
) -> None:
    """Why the console needs no read record: it shows no resident's data."""
    from madoguchi.appointments.services import ticket_issue

    ticket_issue(counter=counter, channel="phone", user=hanako, now=NOW)
    client.force_login(kumin_staff)
    page = client.get(f"/appointments/staff/{counter.code}/queue/").content.decode()
    assert "T-001" in page
    assert "山田" not in page and "hanako" not in page
