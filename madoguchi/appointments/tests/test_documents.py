"""The appointment's calendar file (.ics) and the entrance QR code."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from madoguchi.appointments.documents import appointment_ics, qr_svg
from madoguchi.appointments.models import Counter
from madoguchi.appointments.services import appointment_book, appointment_cancel
from madoguchi.core.models import User

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db


def test_the_ics_describes_the_appointment(counter: Counter, hanako: User) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    raw = appointment_ics(appointment, url="https://example.jp/appointments/x/")
    calendar = Calendar.from_ical(raw)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"appointment-{appointment.public_id}@madoguchi"
    assert event.decoded("DTSTART") == jst(2026, 11, 26, 10)
    assert event.decoded("DTEND") == jst(2026, 11, 26, 10, 30)
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert calendar.walk("VTIMEZONE")
    assert "転居届" in str(event["SUMMARY"]) and "デモ区" in str(event["SUMMARY"])
    assert str(event["LOCATION"]) == "テスト窓口 test-kumin 本庁舎2階 99番窓口"
    assert appointment.reference in str(event["DESCRIPTION"]) and "持ち物" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -dt.timedelta(hours=1)


def test_the_ics_of_a_cancelled_appointment_cancels_the_same_event(counter: Counter, hanako: User) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    appointment_cancel(appointment=appointment, resident=hanako, now=NOW)
    appointment.refresh_from_db()
    calendar = Calendar.from_ical(appointment_ics(appointment, url="https://example.jp/"))
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1 and not event.walk("VALARM")


def test_the_ics_in_english_uses_the_english_names(counter: Counter, hanako: User) -> None:
    Counter.objects.filter(pk=counter.pk).update(name_en="Test counter", location_en="Main building 2F")
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    event = Calendar.from_ical(appointment_ics(appointment, url="https://example.jp/", language="en")).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Counter appointment: ")
    assert str(event["LOCATION"]) == "Test counter Main building 2F"
    assert "Demo Ward" in str(event["SUMMARY"])


def test_the_qr_code_is_an_svg_with_an_accessible_name() -> None:
    svg = qr_svg("https://example.jp/appointments/take/kumin/", title="区民課の整理券")
    assert svg.startswith("<svg ") and 'role="img"' in svg and 'aria-label="区民課の整理券"' in svg
    assert "<title>区民課の整理券</title>" in svg
