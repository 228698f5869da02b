"""Reads of the appointments app, and who may see what.

- A resident sees only their own appointments (``appointment_get_for_resident``:
  anything else is a 404).
- Staff see the counters of the departments in which they hold a role; superusers
  and holders of the admin role see every counter (``counter_get_for_staff``: any
  other counter is a 404).
- A queue ticket is reached only through its signed link (``ticket_get_by_token``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.http import Http404

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.appointments import clock, schedule, services, text
from madoguchi.appointments.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Counter,
    CounterProcedure,
    QueueTicket,
    TicketStatus,
)
from madoguchi.appointments.tokens import read_ticket_token
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import StaffRole

DEFAULT_WAIT_SAMPLE = 10


# -- counters and procedures ------------------------------------------------------------
def counters_active() -> QuerySet[Counter]:
    return Counter.objects.filter(active=True).select_related("department").order_by("department__code", "code")


def counter_get_public(code: str) -> Counter:
    counter = counters_active().filter(code=code).first()
    if counter is None:
        raise Http404("no such counter")
    return counter


def procedures_bookable() -> list[Procedure]:
    """Active procedures that at least one active counter takes appointments for."""
    return list(
        Procedure.objects.filter(active=True, appointment_counters__active=True)
        .select_related("department")
        .distinct()
        .order_by("department__code", "code")
    )


def procedure_get_bookable(code: str) -> Procedure:
    procedure = (
        Procedure.objects.filter(code=code, active=True, appointment_counters__active=True)
        .select_related("department")
        .distinct()
        .first()
    )
    if procedure is None:
        raise Http404("no bookable procedure")
    return procedure


def procedure_is_bookable(procedure: Procedure) -> bool:
    return CounterProcedure.objects.filter(procedure=procedure, counter__active=True).exists()


def available_slots(procedure: Procedure, *, now: dt.datetime, start: dt.date, end: dt.date) -> list[AppointmentSlot]:
    """Slots of ``procedure`` between ``start`` and ``end`` (inclusive) that can be
    booked: in the future, with a seat left, at an active counter, on a day and at a
    time the counter is open (a closed day added after the slots were made hides
    them)."""
    first = clock.combine(start, dt.time(0, 0))
    last = clock.combine(end + dt.timedelta(days=1), dt.time(0, 0))
    slots = list(
        AppointmentSlot.objects.filter(
            procedure=procedure,
            counter__active=True,
            counter__offers__procedure=procedure,
            starts_at__gt=now,
            starts_at__gte=first,
            starts_at__lt=last,
            booked__lt=F("capacity"),
        )
        .select_related("counter__department", "procedure")
        .order_by("starts_at", "counter__code")
    )
    calendars: dict[int, tuple[dict[int, list[tuple[dt.time, dt.time]]], dict[dt.date, str]]] = {}
    result = []
    for slot in slots:
        if slot.counter_id not in calendars:
            calendars[slot.counter_id] = (
                schedule.weekly_hours(slot.counter),
                schedule.closed_dates(slot.counter, start, end),
            )
        hours, closed = calendars[slot.counter_id]
        day = clock.local(slot.starts_at).date()
        periods = schedule.periods_on(slot.counter, day, hours=hours, closed=closed)
        if any(p.contains(slot.starts_at, slot.ends_at) for p in periods):
            result.append(slot)
    return result


@dataclass
class DayAvailability:
    date: dt.date
    seats: int


def available_days(slots: list[AppointmentSlot]) -> list[DayAvailability]:
    seats: dict[dt.date, int] = defaultdict(int)
    for slot in slots:
        seats[clock.local(slot.starts_at).date()] += slot.remaining
    return [DayAvailability(day, count) for day, count in sorted(seats.items())]


def booking_window(now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = clock.today(now)
    return today, today + dt.timedelta(days=services.booking_days())


# -- resident's appointments --------------------------------------------------------------
def appointment_list_for_resident(user: Any) -> QuerySet[Appointment]:
    if not getattr(user, "is_authenticated", False):
        return Appointment.objects.none()
    return (
        Appointment.objects.filter(resident=user)
        .select_related("slot__counter__department", "slot__procedure")
        .order_by("-slot__starts_at")
    )


def appointment_upcoming_for_resident(user: Any, *, now: dt.datetime) -> list[Appointment]:
    return list(
        appointment_list_for_resident(user)
        .filter(status__in=[AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED], slot__ends_at__gt=now)
        .order_by("slot__starts_at")
    )


def appointment_today_for_resident(user: Any, *, now: dt.datetime) -> list[Appointment]:
    """The resident's appointments of today that are booked or checked in (the
    entrance page offers 「到着しました」 or shows the ticket)."""
    start = clock.combine(clock.today(now), dt.time(0, 0))
    return list(
        appointment_list_for_resident(user)
        .filter(
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED],
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + dt.timedelta(days=1),
        )
        .select_related("ticket__issued_counter")
        .order_by("slot__starts_at")
    )


def appointment_ticket(appointment: Appointment) -> QueueTicket | None:
    """The queue ticket an arrived appointment got, if any."""
    return QueueTicket.objects.filter(appointment=appointment).select_related("issued_counter").first()


def appointment_get_for_resident(user: Any, public_id: uuid.UUID | str) -> Appointment:
    """The resident's own appointment; 404 for anyone else's (or none)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404("no such appointment") from exc
    appointment = appointment_list_for_resident(user).filter(public_id=key).first()
    if appointment is None:
        raise Http404("no such appointment")
    return appointment


# -- staff ----------------------------------------------------------------------------------
def staff_department_ids(user: Any) -> set[int] | None:
    """The departments whose counters ``user`` handles; None means every one."""
    if not is_staff_account(user):
        return set()
    if user.is_superuser:
        return None
    roles = StaffRole.objects.filter(user=user).values_list("department_id", "role")
    if any(role == StaffRole.Role.ADMIN for _dept, role in roles):
        return None
    return {dept for dept, _role in roles}


def counter_list_for_staff(user: Any) -> QuerySet[Counter]:
    departments = staff_department_ids(user)
    counters = Counter.objects.select_related("department").order_by("department__code", "code")
    return counters if departments is None else counters.filter(department_id__in=departments)


def counter_get_for_staff(user: Any, code: str) -> Counter:
    counter = counter_list_for_staff(user).filter(code=code).first()
    if counter is None:
        raise Http404("no such counter")
    return counter


def appointment_get_for_staff(user: Any, counter: Counter, public_id: str) -> Appointment:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404("no such appointment") from exc
    appointment = (
        Appointment.objects.filter(public_id=key, slot__counter=counter)
        .select_related("slot__counter", "slot__procedure", "resident")
        .first()
    )
    if appointment is None or counter_list_for_staff(user).filter(pk=counter.pk).first() is None:
        raise Http404("no such appointment")
    return appointment


def day_appointments(counter: Counter, day: dt.date) -> list[Appointment]:
    start = clock.combine(day, dt.time(0, 0))
    return list(
        Appointment.objects.filter(
            slot__counter=counter, slot__starts_at__gte=start, slot__starts_at__lt=start + dt.timedelta(days=1)
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("slot__procedure", "resident__resident", "ticket__issued_counter")
        .order_by("slot__starts_at", "pk")
    )


def ticket_get_for_staff(user: Any, counter: Counter, public_id: str) -> QueueTicket:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404("no such ticket") from exc
    ticket = (
        QueueTicket.objects.filter(public_id=key, counter=counter)
        .select_related("issued_counter", "counter", "appointment")
        .first()
    )
    if ticket is None or counter_list_for_staff(user).filter(pk=counter.pk).first() is None:
        raise Http404("no such ticket")
    return ticket


# -- queue state ----------------------------------------------------------------------------
def wait_sample_size() -> int:
    return int(getattr(settings, "APPOINTMENTS_WAIT_SAMPLE_SIZE", DEFAULT_WAIT_SAMPLE))


@dataclass(frozen=True)
class ServiceTime:
    seconds: float
    samples: int  # 0: the counter's configured default

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def average_service_time(counter: Counter) -> ServiceTime:
    """The moving average of the actual service times (called → served) of the last
    ``APPOINTMENTS_WAIT_SAMPLE_SIZE`` (10) tickets served at the counter; the
    counter's ``default_service_minutes`` while none has been served."""
    rows = (
        QueueTicket.objects.filter(
            counter=counter, status=TicketStatus.SERVED, called_at__isnull=False, served_at__isnull=False
        )
        .order_by("-served_at", "-pk")
        .values_list("called_at", "served_at")[: wait_sample_size()]
    )
    samples = [(served - called).total_seconds() for called, served in rows if called and served and served > called]
    if not samples:
        return ServiceTime(counter.default_service_minutes * 60.0, 0)
    return ServiceTime(sum(samples) / len(samples), len(samples))


@dataclass
class WaitingEntry:
    ticket: QueueTicket
    ahead: int
    priority: bool
    wait_minutes: int


@dataclass
class QueueState:
    counter: Counter
    now: dt.datetime
    service: ServiceTime
    waiting: list[WaitingEntry] = field(default_factory=list)
    called: list[QueueTicket] = field(default_factory=list)
    open_check: schedule.OpenCheck | None = None

    @property
    def new_ticket_wait(self) -> int:
        return services.wait_minutes(
            ahead=len(self.waiting), average_seconds=self.service.seconds, desks=self.counter.desks
        )

    def entry_for(self, ticket: QueueTicket) -> WaitingEntry | None:
        return next((e for e in self.waiting if e.ticket.pk == ticket.pk), None)


def queue_state(counter: Counter, *, now: dt.datetime) -> QueueState:
    service = average_service_time(counter)
    state = QueueState(counter=counter, now=now, service=service, open_check=schedule.is_open_now(counter, now))
    for ahead, (ticket, priority) in enumerate(services.queue_order(counter, now=now)):
        state.waiting.append(
            WaitingEntry(
                ticket=ticket,
                ahead=ahead,
                priority=priority,
                wait_minutes=services.wait_minutes(ahead=ahead, average_seconds=service.seconds, desks=counter.desks),
            )
        )
    state.called = list(
        QueueTicket.objects.filter(counter=counter, service_date=clock.today(now), status=TicketStatus.CALLED)
        .select_related("issued_counter", "appointment__slot__procedure")
        .order_by("-last_called_at", "-pk")
    )
    return state


def ticket_get_by_token(token: str) -> QueueTicket:
    """The ticket of a signed link; ``BadTicketToken`` for a forged or altered link,
    404 for a valid link to a ticket that no longer exists."""
    public_id = read_ticket_token(token)
    ticket = (
        QueueTicket.objects.filter(public_id=public_id)
        .select_related("issued_counter", "counter__department", "transferred_from")
        .first()
    )
    if ticket is None:
        raise Http404("no such ticket")
    return ticket


# -- display board --------------------------------------------------------------------------
@dataclass
class Board:
    title: str
    counters: list[Counter]
    calls: list[QueueTicket]
    waiting_counts: dict[int, int]
    version: str

    @property
    def latest(self) -> QueueTicket | None:
        return self.calls[0] if self.calls else None

    @property
    def waiting_rows(self) -> list[tuple[Counter, int]]:
        return [(c, self.waiting_counts.get(c.pk, 0)) for c in self.counters]

    @property
    def latest_key(self) -> str:
        latest = self.latest
        return f"{latest.pk}-{latest.call_count}" if latest else ""

    @property
    def latest_text(self) -> str:
        latest = self.latest
        return text.call_text(latest.label, latest.counter.name, latest.desk) if latest else ""

    @property
    def latest_speech(self) -> str:
        latest = self.latest
        return text.call_speech(latest.label, latest.counter.name, latest.desk) if latest else ""


BOARD_CALLS = 8


def board_counters(slug: str) -> tuple[str, list[Counter]]:
    """The counters a display board shows: the counter with code ``slug``, or every
    active counter on the floor ``slug``; 404 if neither."""
    counters = list(counters_active())
    one = [c for c in counters if c.code == slug]
    if one:
        return one[0].name, one
    floor = [c for c in counters if c.floor and c.floor == slug]
    if floor:
        return slug.upper(), floor
    raise Http404("no such counter or floor")


def display_board(slug: str, *, now: dt.datetime) -> Board:
    title, counters = board_counters(slug)
    ids = [c.pk for c in counters]
    day = clock.today(now)
    calls = list(
        QueueTicket.objects.filter(counter_id__in=ids, service_date=day, status=TicketStatus.CALLED)
        .select_related("issued_counter", "counter")
        .order_by("-last_called_at", "-pk")[:BOARD_CALLS]
    )
    waiting = dict.fromkeys(ids, 0)
    for counter_id in QueueTicket.objects.filter(
        counter_id__in=ids, service_date=day, status=TicketStatus.WAITING
    ).values_list("counter_id", flat=True):
        waiting[counter_id] += 1
    fingerprint = (
        "|".join(
            f"{t.pk}:{t.counter_id}:{t.call_count}:{t.last_called_at.isoformat() if t.last_called_at else ''}"
            for t in calls
        )
        + "|"
        + ",".join(f"{k}={v}" for k, v in sorted(waiting.items()))
    )
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return Board(title=title, counters=counters, calls=calls, waiting_counts=waiting, version=version)


def tickets_for_session(ids: list[str]) -> list[QueueTicket]:
    """The open tickets (today) whose public ids a browser session remembers."""
    keys = []
    for value in ids:
        try:
            keys.append(uuid.UUID(value))
        except ValueError:
            continue
    return list(
        QueueTicket.objects.filter(
            public_id__in=keys, status__in=[TicketStatus.WAITING, TicketStatus.CALLED], service_date=clock.today()
        ).select_related("issued_counter", "counter")
    )
