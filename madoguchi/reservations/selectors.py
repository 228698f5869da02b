"""Reads of the reservations app. Access is decided here: a resident gets only their
own bookings, groups, applications and registrations (anything else is a 404); staff
get the facilities and events of the departments they hold a role in."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from madoguchi.accounts.selectors import has_staff_role, is_staff_account, staff_roles_for
from madoguchi.core.models import StaffRole, User
from madoguchi.reservations import rules
from madoguchi.reservations.models import (
    Booking,
    Event,
    EventRegistration,
    Facility,
    Group,
    LotteryApplication,
    LotteryEntry,
    LotteryRound,
    Room,
    Slot,
    TimeBlock,
)


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def _resident(user: User | AnonymousUser) -> User:
    if not user.is_authenticated or not isinstance(user, User):
        raise Http404
    return user


# -- public ------------------------------------------------------------------------------
def facility_list_public() -> QuerySet[Facility]:
    return Facility.objects.filter(is_active=True).prefetch_related(
        Prefetch("rooms", queryset=Room.objects.filter(is_active=True)), "time_blocks"
    )


def facility_get_public(code: str) -> Facility:
    facility = Facility.objects.filter(code=code, is_active=True).first()
    if facility is None:
        raise Http404
    return facility


@dataclass(frozen=True)
class Cell:
    room: Room
    block: TimeBlock
    state: str  # free / taken / past / lottery / closed / not_yet
    label: str


@dataclass(frozen=True)
class DayAvailability:
    date: dt.date
    closed_reason: str
    rows: list[tuple[TimeBlock, list[Cell]]]
    lottery: LotteryRound | None


STATE_LABELS = {
    "free": _l("空き"),
    "taken": _l("予約済み"),
    "past": _l("受付終了"),
    "lottery": _l("抽選"),
    "closed": _l("休館"),
    "not_yet": _l("受付前"),
}


def availability(facility: Facility, date: dt.date, *, now: dt.datetime | None = None) -> DayAvailability:
    """Each room × time block of ``facility`` on ``date`` and whether it can be booked."""
    now = now or timezone.now()
    rooms = list(facility.rooms.filter(is_active=True))
    blocks = list(facility.time_blocks.all())
    reason = rules.closed_reason(facility, date)
    lottery = LotteryRound.objects.filter(facility=facility, month=rules.month_start(date)).first()
    taken = set(
        Booking.objects.filter(slot__room__facility=facility, slot__date=date, status__in=Booking.ACTIVE).values_list(
            "slot__room_id", "slot__block_id"
        )
    )
    too_far = date > timezone.localdate(now) + dt.timedelta(days=facility.advance_days)
    rows = []
    for block in blocks:
        starts = timezone.make_aware(dt.datetime.combine(date, block.start_time))
        cells = []
        for room in rooms:
            if reason:
                state = "closed"
            elif (room.pk, block.pk) in taken:
                state = "taken"
            elif starts <= now:
                state = "past"
            elif lottery is not None and now < lottery.first_come_opens_at:
                state = "lottery"
            elif too_far:
                state = "not_yet"
            else:
                state = "free"
            cells.append(Cell(room=room, block=block, state=state, label=str(STATE_LABELS[state])))
        rows.append((block, cells))
    return DayAvailability(date=date, closed_reason=reason, rows=rows, lottery=lottery)


def lottery_rounds_public() -> QuerySet[LotteryRound]:
    return LotteryRound.objects.select_related("facility").filter(facility__is_active=True)


def lottery_round_get_public(pk: int) -> LotteryRound:
    lottery = LotteryRound.objects.select_related("facility").filter(pk=pk).first()
    if lottery is None:
        raise Http404
    return lottery


def lottery_slots(lottery: LotteryRound) -> list[Slot]:
    return list(
        Slot.objects.filter(lottery_round=lottery)
        .select_related("room", "block")
        .order_by("date", "block__sort_order", "block__start_time", "room__sort_order", "room__code")
    )


def lottery_public_data(lottery: LotteryRound) -> dict[str, Any]:
    """What anyone needs to check a draw: the algorithm, the seed hash (and after the
    draw the seed), every drawable slot, every application (by its public id, which
    names no one) with its choices, the result and its digest."""
    from madoguchi.reservations import draw
    from madoguchi.reservations.services.lottery import draw_inputs

    data: dict[str, Any] = {
        "round": lottery.pk,
        "title": lottery.title,
        "facility": lottery.facility.code,
        "month": lottery.month.isoformat(),
        "algorithm": lottery.algorithm,
        "seed_sha256": lottery.seed_hash,
        "seed": lottery.seed_revealed or None,
        "max_entries": lottery.max_entries,
        "max_wins": lottery.max_wins,
        "drawn_at": lottery.drawn_at.isoformat() if lottery.drawn_at else None,
    }
    if not lottery.is_drawn:
        return data
    inputs = draw_inputs(lottery, excluded=lottery.excluded_slots)
    wins = draw.run_draw(
        seed=bytes.fromhex(lottery.seed_revealed),
        applications=inputs.applications,
        capacity=inputs.capacity,
        max_wins=lottery.max_wins,
    )
    data.update(
        {
            "slots": sorted(inputs.capacity),
            "excluded_slots": lottery.excluded_slots,
            "applications": [
                {
                    "id": a.key,
                    "group": a.group,
                    "entries": [{"position": e.position, "choices": list(e.choices)} for e in a.entries],
                }
                for a in sorted(inputs.applications, key=lambda a: a.key)
            ],
            "wins": [
                {"application": w.application, "position": w.position, "slot": w.slot, "choice": w.choice}
                for w in sorted(wins, key=lambda w: (w.application, w.position))
            ],
            "result_sha256": lottery.result_digest,
        }
    )
    return data


def event_list_public() -> QuerySet[Event]:
    return (
        Event.objects.filter(is_published=True)
        .select_related("facility")
        .annotate(
            registered=Count("registrations", filter=Q(registrations__status=EventRegistration.Status.REGISTERED))
        )
    )


def event_get_public(pk: int) -> Event:
    event = event_list_public().filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


# -- the resident's own --------------------------------------------------------------------
def booking_get_for_user(*, user: User | AnonymousUser, public_id: uuid.UUID | str) -> Booking:
    owner = _resident(user)
    booking = (
        Booking.objects.select_related("slot__room__facility", "slot__block", "group", "lottery_win__round")
        .filter(public_id=_uuid(public_id), user=owner)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def booking_list_for_user(user: User) -> QuerySet[Booking]:
    return Booking.objects.filter(user=user).select_related("slot__room__facility", "slot__block", "group")


def groups_for_user(user: User) -> QuerySet[Group]:
    return Group.objects.filter(representative=user)


def approved_groups_for_user(user: User) -> QuerySet[Group]:
    return groups_for_user(user).filter(status=Group.Status.APPROVED)


def group_get_for_user(*, user: User | AnonymousUser, public_id: uuid.UUID | str) -> Group:
    owner = _resident(user)
    group = Group.objects.filter(public_id=_uuid(public_id), representative=owner).first()
    if group is None:
        raise Http404
    return group


def lottery_applications_for_user(user: User) -> QuerySet[LotteryApplication]:
    return (
        LotteryApplication.objects.filter(submitted_by=user)
        .select_related("round__facility", "group")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=LotteryEntry.objects.select_related(
                    "first_slot__room", "first_slot__block", "second_slot__room", "second_slot__block", "win"
                ),
            )
        )
        .order_by("-created_at")
    )


def lottery_application_get_for_user(*, user: User | AnonymousUser, public_id: uuid.UUID | str) -> LotteryApplication:
    owner = _resident(user)
    application = lottery_applications_for_user(owner).filter(public_id=_uuid(public_id)).first()
    if application is None:
        raise Http404
    return application


def registration_list_for_user(user: User) -> QuerySet[EventRegistration]:
    return EventRegistration.objects.filter(user=user).select_related("event").order_by("-created_at")


def registration_get_for_user(*, user: User | AnonymousUser, public_id: uuid.UUID | str) -> EventRegistration:
    owner = _resident(user)
    registration = (
        EventRegistration.objects.select_related("event__facility")
        .filter(public_id=_uuid(public_id), user=owner)
        .first()
    )
    if registration is None:
        raise Http404
    return registration


# -- staff ---------------------------------------------------------------------------------
def staff_department_ids(user: Any) -> set[int] | None:
    """The departments whose facilities and events ``user`` handles; ``None`` means
    all (superusers)."""
    if not is_staff_account(user):
        return set()
    if user.is_superuser:
        return None
    return {role.department_id for role in staff_roles_for(user)}


def _in_departments(qs: QuerySet[Any], user: Any, field: str = "department_id") -> QuerySet[Any]:
    ids = staff_department_ids(user)
    if ids is None:
        return qs
    return qs.filter(**{f"{field}__in": ids})


def facilities_for_staff(user: Any) -> QuerySet[Facility]:
    return _in_departments(Facility.objects.select_related("department"), user)


def facility_get_for_staff(user: Any, code: str) -> Facility:
    facility = facilities_for_staff(user).filter(code=code).first()
    if facility is None:
        raise Http404
    return facility


def lottery_rounds_for_staff(user: Any) -> QuerySet[LotteryRound]:
    return _in_departments(LotteryRound.objects.select_related("facility"), user, "facility__department_id")


def lottery_round_get_for_staff(user: Any, pk: int) -> LotteryRound:
    lottery = lottery_rounds_for_staff(user).filter(pk=pk).first()
    if lottery is None:
        raise Http404
    return lottery


def can_draw(user: Any, facility: Facility) -> bool:
    """Creating and running a lottery needs 係長 or above in the facility's department."""
    department = facility.department
    return has_staff_role(user, "kakaricho", department.code if department else None) and (
        department is not None or bool(getattr(user, "is_superuser", False))
    )


def events_for_staff(user: Any) -> QuerySet[Event]:
    return _in_departments(
        Event.objects.select_related("facility").annotate(
            registered=Count("registrations", filter=Q(registrations__status=EventRegistration.Status.REGISTERED)),
            waitlisted=Count("registrations", filter=Q(registrations__status=EventRegistration.Status.WAITLISTED)),
            checked_in=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
        ),
        user,
    )


def event_get_for_staff(user: Any, pk: int) -> Event:
    event = events_for_staff(user).filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


def staff_may_check_in(user: Any, event: Event) -> bool:
    ids = staff_department_ids(user)
    return ids is None or event.department_id in ids


def bookings_for_staff_day(facility: Facility, date: dt.date) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(facility=facility, slot__date=date)
        .select_related("slot__room", "slot__block", "group", "user")
        .order_by("slot__block__sort_order", "slot__room__sort_order", "-created_at")
    )


def groups_pending() -> QuerySet[Group]:
    return Group.objects.filter(status=Group.Status.PENDING).select_related("representative").order_by("created_at")


def refunds_due(user: Any) -> QuerySet[Booking]:
    return _in_departments(
        Booking.objects.filter(refund_due=True).select_related("slot__room__facility", "slot__block", "user"),
        user,
        "facility__department_id",
    )


# -- refunds (係長 and above of the facility's department, or admin) ---------------------
def refund_department_ids(user: Any) -> set[int] | None:
    """The departments whose refunds ``user`` may see and retry: those where they
    are 係長 or above. ``None`` means all (superusers and 管理者)."""
    if not is_staff_account(user):
        return set()
    if user.is_superuser:
        return None
    roles = staff_roles_for(user)
    if any(role.role == StaffRole.Role.ADMIN for role in roles):
        return None
    needed = StaffRole.RANK["kakaricho"]
    return {role.department_id for role in roles if StaffRole.RANK.get(role.role, 0) >= needed}


def can_handle_refunds(user: Any) -> bool:
    ids = refund_department_ids(user)
    return ids is None or bool(ids)


def _refund_scope(qs: QuerySet[Booking], user: Any) -> QuerySet[Booking]:
    ids = refund_department_ids(user)
    if ids is None:
        return qs
    return qs.filter(facility__department_id__in=ids)


def refunds_open_for_staff(user: Any) -> QuerySet[Booking]:
    """Bookings whose refund has not gone through yet, oldest first."""
    return _refund_scope(
        Booking.objects.filter(refund_due=True)
        .select_related("slot__room__facility", "slot__block", "user")
        .order_by("cancelled_at", "pk"),
        user,
    )


def refunds_done_for_staff(user: Any) -> QuerySet[Booking]:
    """Refunds that went through, latest first."""
    return _refund_scope(
        Booking.objects.filter(refund_due=False, refunded_at__isnull=False)
        .select_related("slot__room__facility", "slot__block", "user")
        .order_by("-refunded_at", "-pk"),
        user,
    )


def refund_booking_get_for_staff(user: Any, public_id: str) -> Booking:
    """A booking with a refund ``user`` may retry; 404 for anything else (another
    department's, a malformed id)."""
    booking = _refund_scope(Booking.objects.filter(public_id=_uuid(public_id)), user).first()
    if booking is None:
        raise Http404
    return booking


def slots_by_ids(ids: Iterable[int]) -> dict[int, Slot]:
    return {s.pk: s for s in Slot.objects.filter(pk__in=list(ids)).select_related("room", "block")}


def can_review_groups(user: Any) -> bool:
    """Group registrations are reviewed by staff of a department that runs facilities."""
    ids = staff_department_ids(user)
    if ids is None:
        return True
    return Facility.objects.filter(department_id__in=ids).exists()
