"""Events: capacity, waitlist, promotion on cancellation with notification, QR
check-in (forged, tampered and reused codes)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing

from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.reservations import checkin, errors
from madoguchi.reservations.models import Event, EventRegistration
from madoguchi.reservations.services.events import (
    event_cancel,
    event_checkin,
    event_register,
    registration_for_code,
    waitlist_position,
)

from .conftest import NOW, aware, make_resident

pytestmark = pytest.mark.django_db


def test_registrations_beyond_the_capacity_join_the_waitlist_in_order(event: Event) -> None:
    people = [make_resident() for _ in range(4)]
    statuses = [
        event_register(user=u, event=event, now=NOW + dt.timedelta(minutes=i)).status for i, u in enumerate(people)
    ]
    assert statuses == ["registered", "registered", "waitlisted", "waitlisted"]
    third = EventRegistration.objects.get(user=people[2])
    fourth = EventRegistration.objects.get(user=people[3])
    assert (waitlist_position(third), waitlist_position(fourth)) == (1, 2)


def test_registering_twice_is_refused(event: Event, resident: User) -> None:
    event_register(user=resident, event=event, now=NOW)
    with pytest.raises(errors.AlreadyRegistered):
        event_register(user=resident, event=event, now=NOW)


def test_registering_after_the_deadline_is_refused(event: Event, resident: User) -> None:
    with pytest.raises(errors.DeadlinePassed):
        event_register(user=resident, event=event, now=aware(2030, 6, 14, 17))


def test_a_cancellation_promotes_the_first_on_the_waitlist_and_tells_them(event: Event) -> None:
    first, second, waiting, last = (make_resident() for _ in range(4))
    registrations = {}
    for i, user in enumerate([first, second, waiting, last]):
        registrations[user.pk] = event_register(user=user, event=event, now=NOW + dt.timedelta(minutes=i))
    OutboxMessage.objects.all().delete()
    event_cancel(user=first, registration=registrations[first.pk], now=NOW + dt.timedelta(hours=1))
    promoted = EventRegistration.objects.get(user=waiting)
    assert promoted.status == EventRegistration.Status.REGISTERED
    assert promoted.promoted_at is not None
    assert EventRegistration.objects.get(user=last).status == EventRegistration.Status.WAITLISTED
    messages = OutboxMessage.objects.filter(user=waiting)
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "inbox"]
    assert all("キャンセル待ちから参加が決まりました" in m.subject for m in messages)
    assert not OutboxMessage.objects.filter(user=last).exists()
    assert EventRegistration.objects.filter(event=event, status="registered").count() == event.capacity


def test_cancelling_a_waitlisted_registration_promotes_no_one(event: Event) -> None:
    people = [make_resident() for _ in range(4)]
    regs = [event_register(user=u, event=event, now=NOW + dt.timedelta(minutes=i)) for i, u in enumerate(people)]
    event_cancel(user=people[2], registration=regs[2], now=NOW + dt.timedelta(hours=1))
    assert EventRegistration.objects.get(pk=regs[3].pk).status == EventRegistration.Status.WAITLISTED


def test_check_in_with_the_qr_code_and_a_second_scan_says_already_checked_in(
    event: Event, resident: User, tanto: User
) -> None:
    registration = event_register(user=resident, event=event, now=NOW)
    found = registration_for_code(checkin.make_token(registration))
    assert found.pk == registration.pk
    event_checkin(staff=tanto, registration=found, now=aware(2030, 6, 15, 9, 50))
    with pytest.raises(errors.AlreadyCheckedIn, match="すでに受付済み"):
        event_checkin(staff=tanto, registration=found, now=aware(2030, 6, 15, 9, 55))


def test_a_forged_code_is_refused(event: Event) -> None:
    forged = signing.dumps(
        {"r": "00000000-0000-0000-0000-000000000000", "e": event.pk}, key="not-our-secret", salt=checkin.SALT
    )
    with pytest.raises(errors.InvalidCode, match="偽造または改ざん"):
        registration_for_code(forged)
    with pytest.raises(errors.InvalidCode):
        registration_for_code("hello")


def test_a_tampered_code_is_refused(event: Event, resident: User) -> None:
    registration = event_register(user=resident, event=event, now=NOW)
    token = checkin.make_token(registration)
    payload, signature = token.rsplit(":", 1)
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B") + ":" + signature
    with pytest.raises(errors.InvalidCode, match="改ざん"):
        registration_for_code(tampered)


def test_a_code_signed_for_another_purpose_is_refused(event: Event, resident: User) -> None:
    registration = event_register(user=resident, event=event, now=NOW)
    other = signing.dumps({"r": str(registration.public_id), "e": event.pk}, salt="another-purpose")
    with pytest.raises(errors.InvalidCode):
        registration_for_code(other)


def test_a_waitlisted_registration_cannot_check_in(event: Event, tanto: User) -> None:
    people = [make_resident() for _ in range(3)]
    regs = [event_register(user=u, event=event, now=NOW + dt.timedelta(minutes=i)) for i, u in enumerate(people)]
    with pytest.raises(errors.InvalidState, match="キャンセル待ち"):
        event_checkin(staff=tanto, registration=regs[2], now=NOW)


def test_the_qr_code_is_an_svg_with_a_title() -> None:
    svg = checkin.qr_svg("https://example.jp/reservations/staff/checkin/?code=abc", title="受付用QRコード")
    assert svg.startswith("<svg") and "<title>受付用QRコード</title>" in svg
