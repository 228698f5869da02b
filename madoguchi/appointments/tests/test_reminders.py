"""The reminder the day before: sent once, again after a change, never for a
cancelled appointment; the management command the worker runs."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command

from madoguchi.appointments.models import Counter
from madoguchi.appointments.services import appointment_book, appointment_cancel, appointment_change, reminders_send
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db


def _reminders(user: User) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(user=user, subject__contains="明日は窓口予約の日です").order_by("channel"))


def test_the_reminder_goes_the_day_before_and_only_once(counter: Counter, hanako: User) -> None:
    appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 27, 10)).pk, now=NOW)
    assert reminders_send(now=jst(2026, 11, 25, 18)) == 0  # two days before: not yet
    assert reminders_send(now=jst(2026, 11, 26, 7)) == 1
    assert reminders_send(now=jst(2026, 11, 26, 8)) == 0
    assert reminders_send(now=jst(2026, 11, 26, 23)) == 0
    assert reminders_send(now=jst(2026, 11, 27, 7)) == 0  # the day itself: never
    email, inbox = _reminders(hanako)
    assert (email.channel, inbox.channel) == ("email", "inbox")
    assert "2026年11月27日（金） 10:00〜10:30" in email.subject
    ics = base64.b64decode(email.attachments[0]["content_base64"]).decode()
    assert "BEGIN:VEVENT" in ics


def test_a_changed_appointment_is_reminded_again_for_its_new_time(counter: Counter, hanako: User) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 27, 10)).pk, now=NOW)
    assert reminders_send(now=jst(2026, 11, 26, 7)) == 1
    appointment_change(
        appointment=appointment,
        resident=hanako,
        slot_id=slot_at(counter, jst(2026, 11, 27, 14)).pk,
        now=jst(2026, 11, 26, 9),
    )
    assert reminders_send(now=jst(2026, 11, 26, 10)) == 1
    assert reminders_send(now=jst(2026, 11, 26, 11)) == 0
    assert len(_reminders(hanako)) == 4


def test_cancelled_appointments_get_no_reminder(counter: Counter, hanako: User) -> None:
    appointment = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 27, 10)).pk, now=NOW)
    appointment_cancel(appointment=appointment, resident=hanako, now=NOW)
    assert reminders_send(now=jst(2026, 11, 26, 7)) == 0
    assert _reminders(hanako) == []


def test_the_command_queues_due_reminders(
    counter: Counter, hanako: User, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    out = StringIO()
    call_command("appointments_send_reminders", stdout=out)  # the clock is at NOW: the day before
    assert "1 reminders queued" in out.getvalue()
    call_command("appointments_send_reminders", stdout=out)
    assert len(_reminders(hanako)) == 2
