"""The appointments API: public counters and slots; booking, change and cancel for the
logged-in resident; refusals as 409 at the field; another's appointment is 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from madoguchi.appointments.models import AppointmentSlot, Counter
from madoguchi.core.models import User

from .conftest import jst, slot_at

pytestmark = pytest.mark.django_db
API = "/api/v1/appointments"


def test_counters_and_free_slots_are_public(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    counters = client.get(f"{API}/counters").json()
    mine = next(c for c in counters if c["code"] == counter.code)
    assert mine["procedures"] == [
        {"procedure": "tenkyo", "procedure_name": "転居届", "slot_minutes": 30, "capacity": 2}
    ]
    assert {"weekday": 0, "opens": "09:00", "closes": "12:00"} in mine["hours"]
    slots = client.get(f"{API}/slots", {"procedure": "tenkyo", "date_from": "2026-11-26", "date_to": "2026-11-26"})
    body = slots.json()
    assert slots.status_code == 200 and len(body) == 12 and body[0]["remaining"] == 2
    assert dt.datetime.fromisoformat(body[0]["starts_at"]) == jst(2026, 11, 26, 9)
    assert client.get(f"{API}/slots", {"procedure": "no-such"}).status_code == 404


def test_book_list_change_cancel_through_the_api(
    client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(hanako)
    slot = slot_at(counter, jst(2026, 11, 26, 10))
    created = client.post(API, {"slot_id": slot.pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    appointment = created.json()
    assert appointment["status"] == "booked" and appointment["procedure"] == "tenkyo"
    assert [a["id"] for a in client.get(API).json()] == [appointment["id"]]
    other = slot_at(counter, jst(2026, 11, 27, 10))
    changed = client.post(f"{API}/{appointment['id']}/change", {"slot_id": other.pk}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["starts_at"] != appointment["starts_at"]
    cancelled = client.post(f"{API}/{appointment['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"{API}/{appointment['id']}/cancel")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "slot_id"


def test_refusals_are_409_with_the_reason(
    client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(hanako)
    past = client.post(API, {"slot_id": slot_at(counter, jst(2026, 11, 24, 10)).pk}, content_type="application/json")
    assert past.status_code == 409 and past.json()["code"] == "past"
    assert "過去の日時" in past.json()["errors"][0]["message"]
    full = slot_at(counter, jst(2026, 11, 26, 10))
    AppointmentSlot.objects.filter(pk=full.pk).update(booked=2)
    response = client.post(API, {"slot_id": full.pk}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "full"
    bad = client.post(API, {"slot_id": "x"}, content_type="application/json")
    assert bad.status_code == 422


def test_another_residents_appointment_is_404_and_login_is_required(
    client: Client, hanako: User, ichiro: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(hanako)
    appointment = client.post(
        API, {"slot_id": slot_at(counter, jst(2026, 11, 26, 10)).pk}, content_type="application/json"
    ).json()
    client.force_login(ichiro)
    assert client.get(f"{API}/{appointment['id']}").status_code == 404
    assert client.post(f"{API}/{appointment['id']}/cancel").status_code == 404
    assert client.get(API).json() == []
    client.logout()
    assert client.get(API).status_code == 401
    assert client.post(API, {"slot_id": 1}, content_type="application/json").status_code == 401


def test_staff_cannot_book_through_the_api(
    client: Client, kumin_staff: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(kumin_staff)
    response = client.post(
        API, {"slot_id": slot_at(counter, jst(2026, 11, 26, 10)).pk}, content_type="application/json"
    )
    assert response.status_code == 403
