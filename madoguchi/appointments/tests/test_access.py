"""Who may see what: residents only their own appointments (404 otherwise), staff
pages only for staff (resident 403) and only their departments' counters (404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.appointments.models import Appointment, AppointmentStatus, Counter, QueueTicket
from madoguchi.appointments.services import appointment_book, ticket_issue
from madoguchi.core.models import User

from .conftest import NOW, jst, make_staff, slot_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(counter: Counter, hanako: User) -> Appointment:
    return appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)


def _pages(appointment: Appointment) -> list[str]:
    base = f"/appointments/{appointment.public_id}/"
    return [base, base + "change/", base + "cancel/", base + "appointment.ics"]


def test_a_resident_cannot_see_or_touch_another_residents_appointment(
    client: Client, booked: Appointment, ichiro: User, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(ichiro)
    for url in _pages(booked):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/appointments/{booked.public_id}/cancel/").status_code == 404
    assert client.post(f"/appointments/{booked.public_id}/change/", {"slot": booked.slot_id}).status_code == 404
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_the_owner_can_open_every_page(
    client: Client, booked: Appointment, hanako: User, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(hanako)
    for url in _pages(booked):
        assert client.get(url).status_code == 200, url


def test_visitors_are_sent_to_the_login_page(client: Client, booked: Appointment) -> None:
    for url in ["/appointments/", "/appointments/book/tenkyo/", *_pages(booked)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_staff_accounts_cannot_book_as_residents(client: Client, kumin_staff: User, counter: Counter) -> None:
    client.force_login(kumin_staff)
    assert client.get("/appointments/").status_code == 403
    assert client.post("/appointments/book/tenkyo/", {"slot": 1}).status_code == 403


STAFF_PAGES = ["day/", "queue/", "poster/"]


def test_residents_get_403_on_staff_pages(client: Client, hanako: User, counter: Counter) -> None:
    client.force_login(hanako)
    assert client.get("/appointments/staff/").status_code == 403
    for page in STAFF_PAGES:
        assert client.get(f"/appointments/staff/{counter.code}/{page}").status_code == 403
    assert client.post(f"/appointments/staff/{counter.code}/queue/action/", {"action": "call_next"}).status_code == 403


def test_visitors_are_sent_to_the_staff_login(client: Client, counter: Counter) -> None:
    response = client.get(f"/appointments/staff/{counter.code}/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:staff_login"))


def test_staff_of_another_department_get_404(
    client: Client, koseki_staff: User, counter: Counter, booked: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(koseki_staff)
    assert counter.code not in client.get("/appointments/staff/").content.decode()
    for page in STAFF_PAGES:
        assert client.get(f"/appointments/staff/{counter.code}/{page}").status_code == 404, page
    ticket = ticket_issue(counter=counter, channel="kiosk", now=NOW)
    url = f"/appointments/staff/{counter.code}/queue/action/"
    assert client.post(url, {"action": "call_next"}).status_code == 404
    assert client.post(url, {"action": "served", "ticket": str(ticket.public_id)}).status_code == 404
    mark = f"/appointments/staff/{counter.code}/appointments/{booked.public_id}/"
    assert client.post(mark, {"status": "no_show"}).status_code == 404
    ticket.refresh_from_db()
    booked.refresh_from_db()
    assert ticket.status == "waiting" and booked.status == AppointmentStatus.BOOKED


def test_staff_of_the_department_work_the_queue_and_the_day_list(
    client: Client, kumin_staff: User, counter: Counter, booked: Appointment, frozen: Callable[[dt.datetime], None]
) -> None:
    client.force_login(kumin_staff)
    assert "テスト窓口 test-kumin" in client.get("/appointments/staff/").content.decode()
    ticket = ticket_issue(counter=counter, channel="kiosk", now=NOW)
    url = f"/appointments/staff/{counter.code}/queue/action/"
    response = client.post(url, {"action": "call_next", "desk": "3番"})
    assert response.status_code == 302
    assert "T-001 を呼び出しました" in client.get(response["Location"]).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "called" and ticket.desk == "3番"
    assert 'value="3番"' in client.get(f"/appointments/staff/{counter.code}/queue/").content.decode()
    client.post(url, {"action": "served", "ticket": str(ticket.public_id)})
    ticket.refresh_from_db()
    assert ticket.status == "served"
    day = client.get(f"/appointments/staff/{counter.code}/day/?date=2026-11-26").content.decode()
    assert booked.reference in day and "山田 花子" in day
    mark = f"/appointments/staff/{counter.code}/appointments/{booked.public_id}/"
    client.post(mark, {"status": "arrived"})  # not the day: refused with a message
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    frozen(jst(2026, 11, 26, 9, 55))
    client.post(mark, {"status": "arrived"})
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.ARRIVED
    assert QueueTicket.objects.filter(appointment=booked, kind="appointment", status="waiting").exists()


def test_the_admin_role_sees_every_counter(client: Client, counter: Counter) -> None:
    admin = make_staff("koseki", role="admin")
    client.force_login(admin)
    assert client.get(f"/appointments/staff/{counter.code}/queue/").status_code == 200


def test_a_bad_date_on_the_day_list_is_explained(client: Client, kumin_staff: User, counter: Counter) -> None:
    client.force_login(kumin_staff)
    for value in ("2026-13-01", "9999-12-31", "昨日"):
        response = client.get(f"/appointments/staff/{counter.code}/day/", {"date": value})
        assert response.status_code == 400 and 'id="f-date-error"' in response.content.decode(), value
