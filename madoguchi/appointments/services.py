"""Writes of the appointments app: slots, appointments, queue tickets, reminders.

Every function does its whole change in one ``transaction.atomic`` with its audit
record and its outgoing messages (``notifications.services.outbox_enqueue``); a
refusal raises before anything is written, so nothing is ever half-saved.

Booking never goes over a slot's capacity, whatever the concurrency: the seat is
taken by one conditional UPDATE (``booked = booked + 1 WHERE booked < capacity``),
which the database applies atomically (PostgreSQL row lock; SQLite's single writer,
``transaction_mode=IMMEDIATE``), and a CHECK constraint (``booked <= capacity``)
stands behind it. The resident's own row is locked first (``select_for_update``) so
that the limit on future bookings holds under concurrent requests of one resident.
Queue changes of a counter (issue, call next, transfer in) lock the counter's row, so
two desks pressing 「次の方を呼ぶ」 at once call two different tickets and ticket
numbers never repeat.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from madoguchi.accounts.selectors import user_needs_email
from madoguchi.appointments import clock, documents, schedule, text, throttle
from madoguchi.appointments.models import (
    APPOINTMENT_TRANSITIONS,
    TICKET_TRANSITIONS,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Counter,
    CounterProcedure,
    QueueTicket,
    TicketChannel,
    TicketKind,
    TicketStatus,
)
from madoguchi.appointments.queue import Candidate, Rule, choose_next, predicted_order
from madoguchi.appointments.throttle import TicketClient
from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_enqueue

DEFAULT_MAX_FUTURE_BOOKINGS = 3
DEFAULT_SOON_THRESHOLD = 3
DEFAULT_BOOKING_DAYS = 28
DEFAULT_CHECKIN_EARLY_MINUTES = 60


# -- settings (read when used) ------------------------------------------------------------
def max_future_bookings() -> int:
    return int(getattr(settings, "APPOINTMENTS_MAX_FUTURE_BOOKINGS", DEFAULT_MAX_FUTURE_BOOKINGS))


def soon_threshold() -> int:
    return int(getattr(settings, "APPOINTMENTS_SOON_THRESHOLD", DEFAULT_SOON_THRESHOLD))


def booking_days() -> int:
    return int(getattr(settings, "APPOINTMENTS_BOOKING_DAYS", DEFAULT_BOOKING_DAYS))


def queue_rule() -> Rule:
    return Rule(
        max_run=int(getattr(settings, "APPOINTMENTS_MAX_APPOINTMENTS_IN_A_ROW", 2)),
        walkin_wait=dt.timedelta(minutes=int(getattr(settings, "APPOINTMENTS_WALKIN_MAX_WAIT_MINUTES", 20))),
        early=dt.timedelta(minutes=int(getattr(settings, "APPOINTMENTS_EARLY_MINUTES", 10))),
    )


# -- errors ---------------------------------------------------------------------------------
class BookingRefused(Exception):
    """A booking, change or cancellation that is not allowed. ``code`` names the
    reason (``past``, ``closed_day``, ``outside_hours``, ``full``, ``limit``,
    ``duplicate``, ``unavailable``, ``unknown``, ``same``, ``not_changeable``,
    ``started``); ``message`` is for the resident."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class IllegalTransition(Exception):
    """A status change the transition table does not allow."""

    def __init__(self, current: str, wanted: str, message: str = "") -> None:
        self.current = current
        self.wanted = wanted
        self.message = message or _("この操作は今の状態ではできません。")
        super().__init__(f"{current} → {wanted}")


class QueueError(Exception):
    """A queue action that cannot be done; ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def _refuse(code: str, message: str) -> NoReturn:
    raise BookingRefused(code, message)


# -- slots ----------------------------------------------------------------------------------
def slots_generate(
    *, counter: Counter, start: dt.date, end: dt.date, actor: User | None = None, audit: bool = True
) -> int:
    """Create the missing slots of every procedure offered at ``counter`` on its open
    days between ``start`` and ``end`` (inclusive). Existing slots (and their
    bookings) are kept as they are. Returns how many were created."""
    created = 0
    with transaction.atomic():
        for offer in CounterProcedure.objects.filter(counter=counter).select_related("procedure"):
            times = list(schedule.slot_times(counter, start, end, minutes=offer.slot_minutes))
            if not times:
                continue
            existing = set(
                AppointmentSlot.objects.filter(
                    counter=counter,
                    procedure=offer.procedure,
                    starts_at__gte=times[0][0],
                    starts_at__lte=times[-1][0],
                ).values_list("starts_at", flat=True)
            )
            rows = [
                AppointmentSlot(
                    counter=counter,
                    procedure=offer.procedure,
                    starts_at=begin,
                    ends_at=finish,
                    capacity=offer.capacity,
                )
                for begin, finish in times
                if begin not in existing
            ]
            AppointmentSlot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            created += len(rows)
        if created and audit:
            audit_record(
                actor=actor,
                action="appointments.slots_generated",
                target=counter,
                data={"from": start.isoformat(), "to": end.isoformat(), "created": created},
            )
    return created


# -- appointments: checks -------------------------------------------------------------------
def _check_bookable(*, slot: AppointmentSlot, resident: User, now: dt.datetime, exclude: Appointment | None) -> None:
    if slot.starts_at <= now:
        _refuse("past", _("過去の日時や、すでに始まった時間は予約できません。別の時間を選んでください。"))
    counter = slot.counter
    offered = CounterProcedure.objects.filter(counter=counter, procedure=slot.procedure).exists()
    if not counter.active or not offered or not slot.procedure.active:
        _refuse("unavailable", _("この窓口では、この手続きの予約を受け付けていません。"))
    check = schedule.check_open(counter, slot.starts_at, slot.ends_at)
    if check.reason == "closed_day":
        day = text.day_label(clock.local(slot.starts_at).date())
        if check.closed_reason:
            _refuse(
                "closed_day",
                _("%(day)sは%(reason)sのため、窓口を休みます。別の日を選んでください。")
                % {"day": day, "reason": check.closed_reason},
            )
        _refuse(
            "closed_day",
            _("%(day)sは閉庁日（土日・祝日・年末年始）のため予約できません。別の日を選んでください。") % {"day": day},
        )
    if check.reason == "outside_hours":
        _refuse("outside_hours", _("選んだ時間は窓口の受付時間外です。受付時間内の時間を選んでください。"))
    mine = Appointment.objects.filter(resident=resident, status=AppointmentStatus.BOOKED)
    if exclude is not None:
        mine = mine.exclude(pk=exclude.pk)
    if mine.filter(slot=slot).exists():
        _refuse("duplicate", _("この時間はすでに予約しています。"))
    limit = max_future_bookings()
    if mine.filter(slot__starts_at__gt=now).count() >= limit:
        _refuse(
            "limit",
            _("予約できるのは同時に%(limit)s件までです。ほかの予約を取り消してから予約してください。")
            % {"limit": limit},
        )


def _take_seat(slot: AppointmentSlot) -> None:
    taken = AppointmentSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
    if taken != 1:
        _refuse("full", _("この時間は予約でいっぱいになりました。別の時間を選んでください。"))


def _free_seat(slot_id: int) -> None:
    AppointmentSlot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def _slot_get(slot_id: Any) -> AppointmentSlot:
    try:
        pk = int(slot_id)
    except (TypeError, ValueError):
        _refuse("unknown", _("予約する時間を選んでください。"))
    slot = AppointmentSlot.objects.select_related("counter__department", "procedure").filter(pk=pk).first()
    if slot is None:
        _refuse("unknown", _("選んだ時間は予約できません。もう一度選んでください。"))
    return slot


def _transition(current: str, wanted: str) -> None:
    if wanted not in APPOINTMENT_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(current, wanted)


def _slot_data(slot: AppointmentSlot) -> dict[str, Any]:
    return {
        "slot": slot.pk,
        "starts_at": slot.starts_at.isoformat(),
        "counter": slot.counter.code,
        "procedure": slot.procedure.code,
    }


# -- appointments: resident actions ---------------------------------------------------------
def appointment_book(
    *, resident: User, slot_id: Any, base_url: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Book a seat in a slot for ``resident``; raises ``BookingRefused``."""
    now = now or clock.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True).first()
        slot = _slot_get(slot_id)
        _check_bookable(slot=slot, resident=resident, now=now, exclude=None)
        _take_seat(slot)
        appointment = Appointment.objects.create(resident=resident, slot=slot, link_base_url=base_url[:200])
        audit_record(actor=resident, action="appointments.booked", target=appointment, data=_slot_data(slot))
        _notify(appointment, "booked")
    return appointment


def appointment_change(
    *, appointment: Appointment, resident: User, slot_id: Any, now: dt.datetime | None = None
) -> Appointment:
    """Move the resident's appointment to another slot of the same procedure."""
    now = now or clock.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True).first()
        current = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("slot")
            .get(pk=appointment.pk, resident=resident)
        )
        if current.status != AppointmentStatus.BOOKED:
            _refuse("not_changeable", _("この予約は変更できません。"))
        if current.slot.starts_at <= now:
            _refuse("started", _("開始時刻を過ぎた予約は変更できません。"))
        slot = _slot_get(slot_id)
        if slot.pk == current.slot_id:
            _refuse("same", _("今の予約と同じ時間です。別の時間を選んでください。"))
        if slot.procedure_id != current.slot.procedure_id:
            _refuse("unavailable", _("予約の手続きは変更できません。取り消してから、改めて予約してください。"))
        _check_bookable(slot=slot, resident=resident, now=now, exclude=current)
        _take_seat(slot)
        old = current.slot
        _free_seat(old.pk)
        current.slot = slot
        current.sequence += 1
        current.reminded_for = None
        current.save(update_fields=["slot", "sequence", "reminded_for", "updated_at"])
        audit_record(
            actor=resident,
            action="appointments.changed",
            target=current,
            data={"from": old.starts_at.isoformat(), **_slot_data(slot)},
        )
        _notify(current, "changed")
    return current


def appointment_cancel(*, appointment: Appointment, resident: User, now: dt.datetime | None = None) -> Appointment:
    now = now or clock.now()
    with transaction.atomic():
        current = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("slot")
            .get(pk=appointment.pk, resident=resident)
        )
        if current.status != AppointmentStatus.BOOKED:
            _refuse("not_changeable", _("この予約は取り消せません。"))
        if current.slot.starts_at <= now:
            _refuse("started", _("開始時刻を過ぎた予約は取り消せません。窓口にお問い合わせください。"))
        _free_seat(current.slot_id)
        current.status = AppointmentStatus.CANCELLED
        current.cancelled_at = now
        current.sequence += 1
        current.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
        audit_record(actor=resident, action="appointments.cancelled", target=current, data=_slot_data(current.slot))
        _notify(current, "cancelled")
    return current


# -- appointments: staff actions ------------------------------------------------------------
def appointment_mark(
    *, appointment: Appointment, actor: User, status: str, now: dt.datetime | None = None
) -> Appointment:
    """Staff mark an appointment ``arrived`` (it joins the counter's queue with
    priority), ``no_show`` or ``done``. Raises ``IllegalTransition``."""
    now = now or clock.now()
    with transaction.atomic():
        current = (
            Appointment.objects.select_for_update(of=("self",)).select_related("slot__counter").get(pk=appointment.pk)
        )
        _transition(current.status, status)
        slot = current.slot
        fields = ["status", "updated_at"]
        if status == AppointmentStatus.ARRIVED:
            if clock.local(slot.starts_at).date() != clock.today(now):
                raise IllegalTransition(current.status, status, _("来庁の受付は予約の当日だけできます。"))
            current.arrived_at = now
            fields.append("arrived_at")
        else:
            current.finished_at = now
            fields.append("finished_at")
        current.status = status
        current.save(update_fields=fields)
        if status == AppointmentStatus.ARRIVED:
            ticket = _issue(
                counter=slot.counter,
                kind=TicketKind.APPOINTMENT,
                channel=TicketChannel.STAFF,
                user=current.resident,
                appointment=current,
                base_url=current.link_base_url,
                now=now,
            )
            data: dict[str, Any] = {"ticket": ticket.label}
        else:
            data = {}
            open_ticket = QueueTicket.objects.filter(
                appointment=current, status__in=[TicketStatus.WAITING, TicketStatus.CALLED]
            )
            open_ticket.update(
                status=TicketStatus.SERVED if status == AppointmentStatus.DONE else TicketStatus.NO_SHOW, served_at=now
            )
        audit_record(actor=actor, action=f"appointments.{status}", target=current, data=data)
    return current


# -- appointments: the resident checks in on arrival -----------------------------------------
def checkin_early_minutes() -> int:
    return int(getattr(settings, "APPOINTMENTS_CHECKIN_EARLY_MINUTES", DEFAULT_CHECKIN_EARLY_MINUTES))


class CheckInRefused(Exception):
    """A self check-in that is not allowed. ``code`` names the reason
    (``already``, ``cancelled``, ``finished``, ``not_today``, ``past_day``,
    ``too_early``, ``closed``, ``unavailable``); ``message`` is for the resident;
    ``ticket`` is the existing ticket when the resident has already checked in."""

    def __init__(self, code: str, message: str, ticket: QueueTicket | None = None) -> None:
        self.code = code
        self.message = message
        self.ticket = ticket
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class CheckInWindow:
    """When an appointment can be checked in on its day: from ``opens`` (its start
    minus ``APPOINTMENTS_CHECKIN_EARLY_MINUTES``) until ``closes`` (the end of the
    counter's last opening period that day; None when the counter is closed)."""

    opens: dt.datetime
    closes: dt.datetime | None


def checkin_window(appointment: Appointment) -> CheckInWindow:
    slot = appointment.slot
    day = clock.local(slot.starts_at).date()
    periods = schedule.periods_on(slot.counter, day)
    return CheckInWindow(
        opens=slot.starts_at - dt.timedelta(minutes=checkin_early_minutes()),
        closes=max((p.ends_at for p in periods), default=None),
    )


def _check_checkin(appointment: Appointment, now: dt.datetime) -> None:
    status = appointment.status
    if status == AppointmentStatus.ARRIVED:
        ticket = QueueTicket.objects.filter(appointment=appointment).select_related("issued_counter").first()
        label = ticket.label if ticket is not None else ""
        raise CheckInRefused(
            "already", _("到着の受付はすでに済んでいます（整理券 %(ticket)s）。") % {"ticket": label}, ticket
        )
    if status == AppointmentStatus.CANCELLED:
        raise CheckInRefused("cancelled", _("この予約は取り消されているため、到着の受付はできません。"))
    if status != AppointmentStatus.BOOKED:
        raise CheckInRefused(
            "finished", _("この予約は終わっているため、到着の受付はできません。窓口の職員にお声がけください。")
        )
    slot = appointment.slot
    day = clock.local(slot.starts_at).date()
    today = clock.today(now)
    if day < today:
        raise CheckInRefused("past_day", _("この予約の日は過ぎています。"))
    if day > today:
        raise CheckInRefused(
            "not_today",
            _("到着の受付は予約の当日だけできます。この予約は%(day)sです。") % {"day": text.day_label(day)},
        )
    if not slot.counter.active:
        raise CheckInRefused("unavailable", _("この窓口は現在受付をしていません。窓口の職員にお声がけください。"))
    window = checkin_window(appointment)
    if now < window.opens:
        raise CheckInRefused(
            "too_early",
            _("到着の受付は、予約の時間の%(minutes)s分前（%(time)s）からできます。")
            % {"minutes": checkin_early_minutes(), "time": text.time_label(window.opens)},
        )
    if window.closes is None or now >= window.closes:
        raise CheckInRefused("closed", _("本日の窓口の受付は終わりました。窓口にお問い合わせください。"))


def appointment_check_in(*, appointment: Appointment, resident: User, now: dt.datetime | None = None) -> QueueTicket:
    """The resident reports their arrival (「到着しました」): the appointment is
    ``arrived`` and joins its counter's queue with an appointment ticket, exactly as
    when staff mark 来庁, so the fair rule in ``queue`` gives it priority when it is
    on time. Raises ``CheckInRefused`` (with the existing ticket when already
    checked in); nothing is written then."""
    now = now or clock.now()
    with transaction.atomic():
        current = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("slot__counter", "slot__procedure")
            .get(pk=appointment.pk, resident=resident)
        )
        _check_checkin(current, now)
        current.status = AppointmentStatus.ARRIVED
        current.arrived_at = now
        current.save(update_fields=["status", "arrived_at", "updated_at"])
        ticket = _issue(
            counter=current.slot.counter,
            kind=TicketKind.APPOINTMENT,
            channel=TicketChannel.CHECKIN,
            user=resident,
            appointment=current,
            base_url=current.link_base_url,
            now=now,
        )
        audit_record(
            actor=resident,
            action="appointments.checked_in",
            target=current,
            data={"ticket": ticket.label, "counter": current.slot.counter.code},
        )
    return ticket


# -- staff reads and kiosk pairing (audit only) -----------------------------------------------
def day_list_viewed(*, actor: User, counter: Counter, day: dt.date, appointments: list[Appointment]) -> None:
    """Record that ``actor`` opened the day's appointment list of ``counter``, which
    shows residents' names: one audit record per page view, naming the rows shown."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="appointments.staff_viewed",
            target=counter,
            data={
                "what": "day_list",
                "counter": counter.code,
                "date": day.isoformat(),
                "rows": len(appointments),
                "appointment_ids": [a.pk for a in appointments],
            },
        )


def kiosk_paired(*, counter: Counter, actor: User) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="appointments.kiosk_paired",
            target=counter,
            data={"counter": counter.code, "generation": counter.kiosk_generation},
        )


def kiosk_unpair_all(*, counter: Counter, actor: User) -> Counter:
    """Void every kiosk pairing of ``counter`` (a lost or replaced tablet)."""
    with transaction.atomic():
        locked = _lock_counter(counter)
        locked.kiosk_generation += 1
        locked.save(update_fields=["kiosk_generation"])
        audit_record(
            actor=actor,
            action="appointments.kiosks_unpaired",
            target=locked,
            data={"counter": locked.code, "generation": locked.kiosk_generation},
        )
    return locked


def ticket_client_keys_clear(*, now: dt.datetime | None = None) -> int:
    """Forget who asked for the tickets of earlier days (the keyed hashes the limit
    on tickets uses); returns how many tickets were cleared."""
    today = clock.today(now or clock.now())
    return (
        QueueTicket.objects.filter(service_date__lt=today)
        .exclude(client_key="", client_address_key="")
        .update(client_key="", client_address_key="")
    )


# -- queue ----------------------------------------------------------------------------------
def _lock_counter(counter: Counter) -> Counter:
    return Counter.objects.select_for_update().get(pk=counter.pk)


def _issue(
    *,
    counter: Counter,
    kind: str,
    channel: str,
    user: User | None,
    appointment: Appointment | None,
    base_url: str,
    now: dt.datetime,
    client: TicketClient | None = None,
) -> QueueTicket:
    locked = _lock_counter(counter)
    day = clock.today(now)
    last = QueueTicket.objects.filter(issued_counter=locked, service_date=day).aggregate(m=Max("number"))["m"] or 0
    ticket = QueueTicket.objects.create(
        counter=locked,
        issued_counter=locked,
        service_date=day,
        number=last + 1,
        kind=kind,
        channel=channel,
        user=user if user is not None and user.pk else None,
        appointment=appointment,
        issued_at=now,
        queued_at=now,
        link_base_url=base_url[:200],
        client_key=client.key if client is not None else "",
        client_address_key=client.address_key if client is not None else "",
    )
    ticket.issued_counter = locked
    return ticket


def _check_ticket_limit(client: TicketClient, now: dt.datetime) -> None:
    """Refuse when ``client`` (or its address) took its hourly number of tickets
    (``throttle``). Call with the counter locked, so that one client's concurrent
    requests at a counter are counted one after the other."""
    since = now - dt.timedelta(hours=1)
    recent = QueueTicket.objects.filter(issued_at__gt=since)
    per_client = throttle.tickets_per_client()
    if per_client > 0 and recent.filter(client_key=client.key).count() >= per_client:
        raise QueueError(
            "rate_limited",
            _(
                "整理券を受け取れるのは1時間に%(limit)s枚までです。しばらくしてから、もう一度お試しください。"
                "お急ぎの方は、窓口の職員にお声がけください。"
            )
            % {"limit": per_client},
        )
    per_address = throttle.tickets_per_address()
    if per_address > 0 and recent.filter(client_address_key=client.address_key).count() >= per_address:
        raise QueueError(
            "rate_limited",
            _(
                "この接続元から受け取られた整理券が多すぎるため、しばらく受け取れません。"
                "お急ぎの方は、窓口の職員にお声がけください。"
            ),
        )


def ticket_issue(
    *,
    counter: Counter,
    channel: str,
    user: User | None = None,
    base_url: str = "",
    client: TicketClient | None = None,
    now: dt.datetime | None = None,
) -> QueueTicket:
    """A walk-in ticket for today at ``counter``; raises ``QueueError`` when the
    counter is not taking tickets (closed day, outside hours, inactive) or, with a
    ``client`` (anyone but a paired kiosk), when that client took its hourly number
    of tickets (code ``rate_limited``; nothing is created)."""
    now = now or clock.now()
    if not counter.active:
        raise QueueError("inactive", _("この窓口では、現在整理券を発行していません。"))
    check = schedule.is_open_now(counter, now)
    if check.reason == "closed_day":
        raise QueueError("closed_day", _("本日は閉庁日のため、整理券は発行していません。"))
    if not check.ok:
        raise QueueError("outside_hours", _("受付時間外のため、整理券は発行していません。受付時間内にお越しください。"))
    with transaction.atomic():
        if client is not None:
            _lock_counter(counter)
            _check_ticket_limit(client, now)
        ticket = _issue(
            counter=counter,
            kind=TicketKind.WALK_IN,
            channel=channel,
            user=user,
            appointment=None,
            base_url=base_url,
            now=now,
            client=client,
        )
        audit_record(
            actor=user if user is not None and user.pk else None,
            action="appointments.ticket_issued",
            target=ticket,
            data={"counter": counter.code, "ticket": ticket.label, "channel": channel},
        )
    return ticket


def candidate_for(ticket: QueueTicket) -> Candidate:
    slot = ticket.appointment.slot if ticket.kind == TicketKind.APPOINTMENT and ticket.appointment else None
    return Candidate(
        id=ticket.pk,
        queued_at=ticket.queued_at,
        slot_start=slot.starts_at if slot else None,
        slot_end=slot.ends_at if slot else None,
    )


def waiting_tickets(counter: Counter, day: dt.date) -> list[QueueTicket]:
    return list(
        QueueTicket.objects.filter(counter=counter, service_date=day, status=TicketStatus.WAITING)
        .select_related("appointment__slot", "issued_counter")
        .order_by("queued_at", "pk")
    )


def priority_run(counter: Counter, day: dt.date) -> int:
    """How many of the counter's latest calls today, in a row, were priority calls."""
    rule = queue_rule()
    recent = (
        QueueTicket.objects.filter(counter=counter, service_date=day, called_at__isnull=False)
        .order_by("-called_at", "-pk")
        .values_list("called_with_priority", flat=True)[: max(rule.max_run, 1)]
    )
    run = 0
    for was_priority in recent:
        if not was_priority:
            break
        run += 1
    return run


def ticket_call_next(
    *, counter: Counter, actor: User, desk: str = "", now: dt.datetime | None = None
) -> QueueTicket | None:
    """Call the next ticket by the fair rule (``queue``); None when nobody waits."""
    now = now or clock.now()
    with transaction.atomic():
        locked = _lock_counter(counter)
        day = clock.today(now)
        waiting = waiting_tickets(locked, day)
        choice = choose_next(
            [candidate_for(t) for t in waiting], priority_run=priority_run(locked, day), now=now, rule=queue_rule()
        )
        if choice is None:
            return None
        ticket = next(t for t in waiting if t.pk == choice.candidate.id)
        QueueTicket.objects.filter(pk=ticket.pk, status=TicketStatus.WAITING).update(
            status=TicketStatus.CALLED,
            called_at=now,
            last_called_at=now,
            call_count=F("call_count") + 1,
            called_with_priority=choice.priority,
            desk=desk[:20],
            called_by=actor,
        )
        ticket.refresh_from_db()
        audit_record(
            actor=actor,
            action="appointments.ticket_called",
            target=ticket,
            data={"counter": locked.code, "ticket": ticket.label, "priority": choice.priority, "desk": desk[:20]},
        )
        notify_soon(counter=locked, now=now)
    return ticket


def _ticket_for_update(ticket: QueueTicket) -> QueueTicket:
    return (
        QueueTicket.objects.select_for_update(of=("self",))
        .select_related("issued_counter", "counter", "appointment")
        .get(pk=ticket.pk)
    )


def _ticket_transition(ticket: QueueTicket, wanted: str) -> None:
    if wanted not in TICKET_TRANSITIONS.get(ticket.status, frozenset()):
        raise IllegalTransition(ticket.status, wanted)


def ticket_recall(*, ticket: QueueTicket, actor: User, now: dt.datetime | None = None) -> QueueTicket:
    now = now or clock.now()
    with transaction.atomic():
        current = _ticket_for_update(ticket)
        if current.status != TicketStatus.CALLED:
            raise IllegalTransition(current.status, "recall", _("呼出中の整理券だけ再呼出できます。"))
        current.last_called_at = now
        current.call_count += 1
        current.save(update_fields=["last_called_at", "call_count"])
        audit_record(actor=actor, action="appointments.ticket_recalled", target=current, data={"ticket": current.label})
    return current


def ticket_finish(*, ticket: QueueTicket, actor: User, status: str, now: dt.datetime | None = None) -> QueueTicket:
    """A called ticket is ``served`` or ``no_show``; an arrived appointment follows."""
    now = now or clock.now()
    if status not in (TicketStatus.SERVED, TicketStatus.NO_SHOW):
        raise IllegalTransition("called", status)
    with transaction.atomic():
        current = _ticket_for_update(ticket)
        _ticket_transition(current, status)
        current.status = status
        current.served_at = now
        current.save(update_fields=["status", "served_at"])
        if current.appointment is not None and current.appointment.status == AppointmentStatus.ARRIVED:
            wanted = AppointmentStatus.DONE if status == TicketStatus.SERVED else AppointmentStatus.NO_SHOW
            Appointment.objects.filter(pk=current.appointment.pk, status=AppointmentStatus.ARRIVED).update(
                status=wanted, finished_at=now
            )
        audit_record(
            actor=actor, action=f"appointments.ticket_{status}", target=current, data={"ticket": current.label}
        )
    return current


def ticket_transfer(
    *, ticket: QueueTicket, actor: User, to_counter: Counter, now: dt.datetime | None = None
) -> QueueTicket:
    """Move a waiting or called ticket to another counter's queue. It keeps its
    number and the time it first joined a queue (so it is not sent to the back)."""
    now = now or clock.now()
    with transaction.atomic():
        current = _ticket_for_update(ticket)
        if current.status not in (TicketStatus.WAITING, TicketStatus.CALLED):
            raise IllegalTransition(current.status, "transfer", _("お待ちか呼出中の整理券だけ回送できます。"))
        if to_counter.pk == current.counter_id:
            raise QueueError("same_counter", _("回送先には別の窓口を選んでください。"))
        if not to_counter.active:
            raise QueueError("inactive", _("回送先の窓口は現在受付をしていません。"))
        target = _lock_counter(to_counter)
        source = current.counter
        current.transferred_from = source
        current.counter = target
        current.status = TicketStatus.WAITING
        current.called_at = None
        current.last_called_at = None
        current.called_with_priority = False
        current.desk = ""
        current.soon_notified_at = None
        current.save(
            update_fields=[
                "transferred_from",
                "counter",
                "status",
                "called_at",
                "last_called_at",
                "called_with_priority",
                "desk",
                "soon_notified_at",
            ]
        )
        audit_record(
            actor=actor,
            action="appointments.ticket_transferred",
            target=current,
            data={"ticket": current.label, "from": source.code, "to": target.code},
        )
        notify_soon(counter=target, now=now)
    return current


def ticket_cancel(*, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """The holder of a ticket (through its signed link) gives up a waiting ticket."""
    now = now or clock.now()
    with transaction.atomic():
        current = _ticket_for_update(ticket)
        if current.status != TicketStatus.WAITING:
            raise IllegalTransition(current.status, TicketStatus.CANCELLED, _("お待ちの整理券だけ取り消せます。"))
        current.status = TicketStatus.CANCELLED
        current.served_at = now
        current.save(update_fields=["status", "served_at"])
        audit_record(
            actor=current.user, action="appointments.ticket_cancelled", target=current, data={"ticket": current.label}
        )
    return current


def queue_order(counter: Counter, *, now: dt.datetime) -> list[tuple[QueueTicket, bool]]:
    """The counter's waiting tickets in the order they will be called, each with
    whether it goes as a priority appointment."""
    day = clock.today(now)
    waiting = waiting_tickets(counter, day)
    by_id = {t.pk: t for t in waiting}
    order = predicted_order(
        [candidate_for(t) for t in waiting], priority_run=priority_run(counter, day), now=now, rule=queue_rule()
    )
    return [(by_id[c.candidate.id], c.priority) for c in order]


def notify_soon(*, counter: Counter, now: dt.datetime) -> int:
    """Tell every waiting ticket holder with ``APPOINTMENTS_SOON_THRESHOLD`` (3) or
    fewer people ahead that their turn is near, once per ticket and counter: an
    inbox message and an e-mail to a resident who took it logged in. Call inside the
    transaction that changed the queue. Returns how many tickets were marked."""
    threshold = soon_threshold()
    marked = 0
    for ahead, (ticket, _priority) in enumerate(queue_order(counter, now=now)):
        if ahead > threshold:
            break
        if ticket.soon_notified_at is not None:
            continue
        if not QueueTicket.objects.filter(pk=ticket.pk, soon_notified_at__isnull=True).update(soon_notified_at=now):
            continue
        marked += 1
        if ticket.user is not None:
            _notify_ticket_soon(ticket, counter, ahead)
    return marked


# -- reminders ------------------------------------------------------------------------------
def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Queue the reminder of every booked appointment that starts tomorrow (the
    ward's date) and has not been reminded for that start time; changing an
    appointment makes it due again. Safe to run any number of times: each reminder is
    claimed by a conditional update and its messages carry dedupe keys."""
    now = now or clock.now()
    tomorrow = clock.today(now) + dt.timedelta(days=1)
    start = clock.combine(tomorrow, dt.time(0, 0))
    end = start + dt.timedelta(days=1)
    due = (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, slot__starts_at__gte=start, slot__starts_at__lt=end)
        .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=F("slot__starts_at")))
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(of=("self",))
                .select_related("slot__counter__department", "slot__procedure", "resident")
                .filter(pk=pk, status=AppointmentStatus.BOOKED)
                .first()
            )
            if appointment is None or appointment.reminded_for == appointment.slot.starts_at:
                continue
            appointment.reminded_for = appointment.slot.starts_at
            appointment.save(update_fields=["reminded_for"])
            audit_record(
                actor=None,
                action="appointments.reminder_queued",
                target=appointment,
                data={"starts_at": appointment.slot.starts_at.isoformat()},
            )
            _notify(appointment, "reminder")
            sent += 1
    return sent


# -- messages -------------------------------------------------------------------------------
def appointment_path(appointment: Appointment) -> str:
    return reverse("appointments:detail", args=[appointment.public_id])


def _language(user: User | None) -> str:
    return "en" if user is not None and (user.preferred_language or "").startswith("en") else "ja"


def _pick(ja: str, en: str, language: str) -> str:
    return en if language == "en" and en else ja


def _message_text(appointment: Appointment, event: str, language: str, url: str) -> tuple[str, str]:
    slot = appointment.slot
    counter = slot.counter
    procedure = slot.procedure
    ward = settings.WARD_NAME_EN if language == "en" else settings.WARD_NAME
    subjects = {
        "booked": _("【%(ward)s】窓口予約を受け付けました（%(when)s）"),
        "changed": _("【%(ward)s】窓口予約を変更しました（%(when)s）"),
        "cancelled": _("【%(ward)s】窓口予約を取り消しました（%(when)s）"),
        "reminder": _("【%(ward)s】明日は窓口予約の日です（%(when)s）"),
    }
    leads = {
        "booked": _("次のとおり、窓口の来庁予約を受け付けました。"),
        "changed": _("窓口の来庁予約を次の日時に変更しました。"),
        "cancelled": _("次の窓口予約を取り消しました。"),
        "reminder": _("明日、次の窓口予約があります。お気をつけてお越しください。"),
    }
    when = text.when_label(slot.starts_at, slot.ends_at, language)
    subject = subjects[event] % {"ward": ward, "when": when}
    bring = procedure.bring_en if language == "en" and procedure.bring_en else procedure.bring
    lines = [
        leads[event],
        "",
        _("予約番号: %(ref)s") % {"ref": appointment.reference},
        _("手続き: %(name)s") % {"name": _pick(procedure.name, procedure.name_en, language)},
        _("日時: %(when)s") % {"when": when},
        _("窓口: %(counter)s（%(location)s）")
        % {
            "counter": _pick(counter.name, counter.name_en, language),
            "location": _pick(counter.location, counter.location_en, language),
        },
    ]
    if bring and event != "cancelled":
        lines += ["", _("持ち物:"), *[f"・{item}" for item in bring]]
    if event != "cancelled":
        lines += [
            "",
            _("来庁したら窓口で予約番号をお伝えください。予約の時間を過ぎると、当日受付の方と同じ順番になります。"),
        ]
    lines += ["", _("予約の確認・変更・取消し: %(url)s") % {"url": url}, "", ward]
    return subject, "\n".join(lines)


def _notify(appointment: Appointment, event: str) -> None:
    """Queue the e-mail (with the .ics) and the inbox message of an appointment event.
    Call inside the caller's transaction."""
    user = appointment.resident
    language = _language(user)
    path = appointment_path(appointment)
    url = (appointment.link_base_url.rstrip("/") + path) if appointment.link_base_url else path
    with translation.override(language):
        subject, body = _message_text(appointment, event, language, url)
        ics = documents.appointment_ics(appointment, url=url, language=language)
    key = f"appointments.{event}:{appointment.public_id}:{appointment.sequence}"
    if event == "reminder":
        key = f"appointments.reminder:{appointment.public_id}:{appointment.slot.starts_at.isoformat()}"
    attachment = {
        "filename": "appointment.ics",
        "content_type": "text/calendar; charset=utf-8",
        "content_base64": base64.b64encode(ics).decode(),
    }
    if not user_needs_email(user):
        outbox_enqueue(
            channel=OutboxMessage.Channel.EMAIL,
            user=user,
            subject=subject,
            body_text=body,
            attachments=[attachment],
            dedupe_key=f"{key}:email",
            link_url=url,
            language=language,
        )
    outbox_enqueue(
        channel=OutboxMessage.Channel.INBOX,
        user=user,
        subject=subject,
        body_text=body,
        dedupe_key=f"{key}:inbox",
        link_url=path,
        language=language,
    )


def ticket_path(ticket: QueueTicket) -> str:
    from madoguchi.appointments.tokens import ticket_token

    return reverse("appointments:ticket", args=[ticket_token(ticket.public_id)])


def wait_minutes(*, ahead: int, average_seconds: float, desks: int) -> int:
    """The estimated wait: the people ahead times the average service time, shared
    by the desks serving at once, rounded up to whole minutes."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * average_seconds / max(desks, 1) / 60)


def _notify_ticket_soon(ticket: QueueTicket, counter: Counter, ahead: int) -> None:
    user = ticket.user
    assert user is not None  # noqa: S101 - checked by the caller
    language = _language(user)
    path = ticket_path(ticket)
    url = (ticket.link_base_url.rstrip("/") + path) if ticket.link_base_url else path
    with translation.override(language):
        ward = settings.WARD_NAME_EN if language == "en" else settings.WARD_NAME
        subject = _("【%(ward)s】まもなく順番です（整理券 %(ticket)s）") % {"ward": ward, "ticket": ticket.label}
        body = "\n".join(
            [
                _("整理券 %(ticket)s の順番が近づいています（前に%(ahead)s人）。")
                % {"ticket": ticket.label, "ahead": ahead},
                _("%(counter)s（%(location)s）の近くでお待ちください。")
                % {
                    "counter": _pick(counter.name, counter.name_en, language),
                    "location": _pick(counter.location, counter.location_en, language),
                },
                "",
                _("整理券の状況: %(url)s") % {"url": url},
                "",
                ward,
            ]
        )
    key = f"appointments.ticket-soon:{ticket.public_id}:{counter.pk}"
    if not user_needs_email(user):
        outbox_enqueue(
            channel=OutboxMessage.Channel.EMAIL,
            user=user,
            subject=subject,
            body_text=body,
            dedupe_key=f"{key}:email",
            link_url=url,
            language=language,
        )
    outbox_enqueue(
        channel=OutboxMessage.Channel.INBOX,
        user=user,
        subject=subject,
        body_text=body,
        dedupe_key=f"{key}:inbox",
        link_url=path,
        language=language,
    )
