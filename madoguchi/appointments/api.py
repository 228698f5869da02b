"""API of counter appointments.

Public: ``GET /appointments/counters`` (counters, hours, procedures) and
``GET /appointments/slots?procedure=&date_from=&date_to=`` (free slots). For the
logged-in resident (session authentication): ``GET /appointments`` (their own),
``POST /appointments`` (book), ``GET /appointments/{id}``, ``POST
/appointments/{id}/change`` and ``POST /appointments/{id}/cancel``. Another
resident's appointment is 404; a refusal (past, closed day, outside hours, full, over
the limit) is 409 with the reason at the field ``slot_id``:
``{"detail": …, "code": …, "errors": [{"field": "slot_id", "message": …}]}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.appointments import clock, schedule, selectors, services
from madoguchi.appointments.models import Appointment, AppointmentSlot
from madoguchi.core.models import User

router = Router(tags=["appointments"])


class HoursOut(Schema):
    weekday: int = Field(..., description="0 = Monday … 6 = Sunday")
    opens: str
    closes: str


class OfferOut(Schema):
    procedure: str
    procedure_name: str
    slot_minutes: int
    capacity: int


class CounterOut(Schema):
    code: str
    name: str
    department: str
    location: str
    hours: list[HoursOut]
    procedures: list[OfferOut]


class SlotOut(Schema):
    id: int
    counter: str
    procedure: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    remaining: int


class AppointmentOut(Schema):
    id: uuid.UUID
    reference: str
    status: str
    status_label: str
    procedure: str
    counter: str
    location: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_at: dt.datetime


class BookIn(Schema):
    slot_id: int = Field(..., description="A slot id from GET /appointments/slots")


class FieldErrorOut(Schema):
    field: str
    message: str


class RefusalOut(Schema):
    detail: str
    code: str = ""
    errors: list[FieldErrorOut] = []


class SlotsQuery(Schema):
    procedure: str = Field(..., max_length=64, description="The procedure code, e.g. tennyu")
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by django_auth
    return user


def _out(appointment: Appointment) -> dict[str, Any]:
    slot = appointment.slot
    return {
        "id": appointment.public_id,
        "reference": appointment.reference,
        "status": appointment.status,
        "status_label": str(appointment.get_status_display()),
        "procedure": slot.procedure.code,
        "counter": slot.counter.code,
        "location": slot.counter.location,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "created_at": appointment.created_at,
    }


def _slot_out(slot: AppointmentSlot) -> dict[str, Any]:
    return {
        "id": slot.pk,
        "counter": slot.counter.code,
        "procedure": slot.procedure.code,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "remaining": slot.remaining,
    }


def _refusal(exc: services.BookingRefused) -> dict[str, Any]:
    return {"detail": exc.message, "code": exc.code, "errors": [{"field": "slot_id", "message": exc.message}]}


def _resident_only(request: HttpRequest) -> Status[Any] | None:
    if is_staff_account(request.user):
        return Status(
            403, {"detail": "区民のアカウントでログインしてください。", "code": "residents_only", "errors": []}
        )
    return None


@router.get("/appointments/counters", response=list[CounterOut], summary="Counters that take appointments")
def counter_list(request: HttpRequest) -> list[dict[str, Any]]:
    result = []
    for counter in selectors.counters_active().prefetch_related("offers__procedure"):
        hours = schedule.weekly_hours(counter)
        result.append(
            {
                "code": counter.code,
                "name": counter.name,
                "department": counter.department.code,
                "location": counter.location,
                "hours": [
                    {"weekday": day, "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"}
                    for day, periods in sorted(hours.items())
                    for opens, closes in periods
                ],
                "procedures": [
                    {
                        "procedure": offer.procedure.code,
                        "procedure_name": offer.procedure.name,
                        "slot_minutes": offer.slot_minutes,
                        "capacity": offer.capacity,
                    }
                    for offer in counter.offers.all()
                    if offer.procedure.active
                ],
            }
        )
    return result


@router.get("/appointments/slots", response={200: list[SlotOut], 404: RefusalOut}, summary="Free slots of a procedure")
def slot_list(request: HttpRequest, filters: Query[SlotsQuery]) -> Status[Any]:
    """Slots that can be booked now: in the future, with a seat left, on open days
    and within opening hours, between ``date_from`` and ``date_to`` (default: today
    to the end of the booking window)."""
    try:
        procedure = selectors.procedure_get_bookable(filters.procedure)
    except Http404:
        return Status(404, {"detail": "この手続きは予約できません。", "code": "unknown_procedure", "errors": []})
    now = clock.now()
    start, end = selectors.booking_window(now)
    start = max(filters.date_from or start, start)
    end = min(filters.date_to or end, end)
    slots = selectors.available_slots(procedure, now=now, start=start, end=end)
    return Status(200, [_slot_out(s) for s in slots])


@router.get("/appointments", response=list[AppointmentOut], auth=django_auth, summary="My appointments")
def appointment_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(a) for a in selectors.appointment_list_for_resident(_user(request))]


@router.post(
    "/appointments",
    response={201: AppointmentOut, 403: RefusalOut, 409: RefusalOut},
    auth=django_auth,
    summary="Book an appointment",
)
def appointment_create(request: HttpRequest, payload: BookIn) -> Status[Any]:
    denied = _resident_only(request)
    if denied is not None:
        return denied
    try:
        appointment = services.appointment_book(
            resident=_user(request), slot_id=payload.slot_id, base_url=request.build_absolute_uri("/").rstrip("/")
        )
    except services.BookingRefused as exc:
        return Status(409, _refusal(exc))
    appointment = selectors.appointment_get_for_resident(_user(request), appointment.public_id)
    return Status(201, _out(appointment))


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, 404: RefusalOut},
    auth=django_auth,
    summary="One of my appointments",
)
def appointment_detail(request: HttpRequest, appointment_id: uuid.UUID) -> Status[Any]:
    try:
        appointment = selectors.appointment_get_for_resident(_user(request), appointment_id)
    except Http404:
        return Status(404, {"detail": "予約が見つかりません。", "code": "not_found", "errors": []})
    return Status(200, _out(appointment))


@router.post(
    "/appointments/{appointment_id}/change",
    response={200: AppointmentOut, 404: RefusalOut, 409: RefusalOut},
    auth=django_auth,
    summary="Move one of my appointments to another slot",
)
def appointment_change(request: HttpRequest, appointment_id: uuid.UUID, payload: BookIn) -> Status[Any]:
    user = _user(request)
    try:
        appointment = selectors.appointment_get_for_resident(user, appointment_id)
    except Http404:
        return Status(404, {"detail": "予約が見つかりません。", "code": "not_found", "errors": []})
    try:
        services.appointment_change(appointment=appointment, resident=user, slot_id=payload.slot_id)
    except services.BookingRefused as exc:
        return Status(409, _refusal(exc))
    return Status(200, _out(selectors.appointment_get_for_resident(user, appointment_id)))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, 404: RefusalOut, 409: RefusalOut},
    auth=django_auth,
    summary="Cancel one of my appointments",
)
def appointment_cancel(request: HttpRequest, appointment_id: uuid.UUID) -> Status[Any]:
    user = _user(request)
    try:
        appointment = selectors.appointment_get_for_resident(user, appointment_id)
    except Http404:
        return Status(404, {"detail": "予約が見つかりません。", "code": "not_found", "errors": []})
    try:
        services.appointment_cancel(appointment=appointment, resident=user)
    except services.BookingRefused as exc:
        return Status(409, _refusal(exc))
    return Status(200, _out(selectors.appointment_get_for_resident(user, appointment_id)))
