"""Events (イベント予約): registration up to the capacity, then a waitlist; a
cancellation promotes the first on the waitlist at once and tells them by email and in
their inbox; check-in at the door by the QR code of the registration.

Every change to an event's registrations locks the event row first, so the count
against the capacity and the promotion cannot interleave.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.reservations import checkin, errors
from madoguchi.reservations.models import Event, EventRegistration
from madoguchi.reservations.notify import notify_user

LIVE = (EventRegistration.Status.REGISTERED, EventRegistration.Status.WAITLISTED)


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y年n月j日 H:i")


def _audit(registration: EventRegistration, actor: User | None, action: str, **data: object) -> None:
    audit_record(
        actor=actor,
        action=f"reservations.event.{action}",
        target=registration,
        data={"event": registration.event_id, "status": registration.status, **data},
    )


def _tell(registration: EventRegistration, key: str, subject: str, body: str) -> None:
    notify_user(
        user=registration.user,
        key=f"event-registration:{registration.public_id}:{key}",
        subject=subject,
        body=body,
        link=reverse("reservations:registration_detail", args=[registration.public_id]),
    )


def event_register(*, user: User, event: Event, now: dt.datetime | None = None) -> EventRegistration:
    """Register ``user`` for ``event``: 参加予定 while seats are left, else キャンセル待ち."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if not locked.is_published:
            raise errors.InvalidState(_("このイベントは申込を受け付けていません。"))
        if now >= locked.application_closes_at or now >= locked.starts_at:
            raise errors.DeadlinePassed(
                _("申込は %(at)s に締め切りました。")
                % {"at": _when(min(locked.application_closes_at, locked.starts_at))}
            )
        live = EventRegistration.objects.filter(event=locked, status__in=LIVE)
        if live.filter(user=user).exists():
            raise errors.AlreadyRegistered(_("このイベントにはすでに申し込んでいます。"))
        taken = live.filter(status=EventRegistration.Status.REGISTERED).count()
        status = EventRegistration.Status.REGISTERED if taken < locked.capacity else EventRegistration.Status.WAITLISTED
        try:
            with transaction.atomic():
                registration = EventRegistration.objects.create(event=locked, user=user, status=status, created_at=now)
        except IntegrityError as exc:
            raise errors.AlreadyRegistered(_("このイベントにはすでに申し込んでいます。")) from exc
        _audit(registration, user, "register")
        with translation.override(user.preferred_language or "ja"):
            if status == EventRegistration.Status.REGISTERED:
                _tell(
                    registration,
                    "registered",
                    _("【イベント】申込を受け付けました"),
                    _(
                        "「%(event)s」（%(at)s）への申込を受け付けました。当日は、マイページの受付用QRコードを会場でお見せください。"
                    )
                    % {"event": locked.title, "at": _when(locked.starts_at)},
                )
            else:
                _tell(
                    registration,
                    "waitlisted",
                    _("【イベント】キャンセル待ちで受け付けました"),
                    _(
                        "「%(event)s」は定員に達しているため、キャンセル待ちで受け付けました。"
                        "空きが出たら順番に繰り上げ、メールでお知らせします。"
                    )
                    % {"event": locked.title},
                )
    return registration


def waitlist_position(registration: EventRegistration) -> int | None:
    if registration.status != EventRegistration.Status.WAITLISTED:
        return None
    ahead = (
        EventRegistration.objects.filter(event_id=registration.event_id, status=EventRegistration.Status.WAITLISTED)
        .filter(created_at__lt=registration.created_at)
        .count()
    )
    same_time_ahead = EventRegistration.objects.filter(
        event_id=registration.event_id,
        status=EventRegistration.Status.WAITLISTED,
        created_at=registration.created_at,
        pk__lt=registration.pk,
    ).count()
    return ahead + same_time_ahead + 1


def event_cancel(*, user: User, registration: EventRegistration, now: dt.datetime | None = None) -> EventRegistration:
    """Cancel a registration; a seat freed before the event goes to the first on the
    waitlist, who is told by email and in the inbox (in this same transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        locked = EventRegistration.objects.select_related("user").get(pk=registration.pk)
        if locked.user_id != user.pk:
            raise errors.NotEligible(_("この申込を取り消せるのは、申し込んだ方だけです。"))
        if locked.status not in LIVE:
            raise errors.InvalidState(_("この申込はすでに取り消されています。"))
        if now >= event.starts_at:
            raise errors.DeadlinePassed(_("イベントが始まったため、取り消せません。"))
        previous = locked.status
        locked.status = EventRegistration.Status.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        _audit(locked, user, "cancel", previous=previous)
        if previous == EventRegistration.Status.REGISTERED:
            event_promote_waitlist(event=event, now=now)
    return locked


def event_promote_waitlist(*, event: Event, now: dt.datetime | None = None) -> list[EventRegistration]:
    """Fill free seats from the waitlist, first come first served. Call it with the
    event row locked."""
    now = now or timezone.now()
    if now >= event.starts_at:
        return []
    taken = EventRegistration.objects.filter(event=event, status=EventRegistration.Status.REGISTERED).count()
    free = event.capacity - taken
    if free <= 0:
        return []
    promoted = list(
        EventRegistration.objects.filter(event=event, status=EventRegistration.Status.WAITLISTED)
        .select_related("user")
        .order_by("created_at", "pk")[:free]
    )
    for registration in promoted:
        registration.status = EventRegistration.Status.REGISTERED
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at"])
        _audit(registration, None, "promote")
        with translation.override(registration.user.preferred_language or "ja"):
            _tell(
                registration,
                "promoted",
                _("【イベント】キャンセル待ちから参加が決まりました"),
                _(
                    "「%(event)s」（%(at)s）に空きが出たため、参加が決まりました。"
                    "当日は、マイページの受付用QRコードを会場でお見せください。"
                    "参加できない場合は、マイページから取り消してください。"
                )
                % {"event": event.title, "at": _when(event.starts_at)},
            )
    return promoted


def registration_for_code(code: str) -> EventRegistration:
    """The registration a check-in code stands for; :class:`errors.InvalidCode` if
    the code is forged, altered or unknown."""
    data = checkin.read_token(code)
    registration = (
        EventRegistration.objects.select_related("event", "user")
        .filter(public_id=data["r"], event_id=data["e"])
        .first()
    )
    if registration is None:
        raise errors.InvalidCode(_("このQRコードの申込は見つかりません。"), field="code")
    return registration


def event_checkin(*, staff: User, registration: EventRegistration, now: dt.datetime | None = None) -> EventRegistration:
    """Mark a registration as arrived. A second check-in of the same registration is
    refused with the time of the first."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            EventRegistration.objects.select_for_update(of=("self",)).select_related("event").get(pk=registration.pk)
        )
        if locked.checked_in_at is not None:
            raise errors.AlreadyCheckedIn(
                _("この方は %(at)s にすでに受付済みです。") % {"at": _when(locked.checked_in_at)}, field="code"
            )
        if locked.status != EventRegistration.Status.REGISTERED:
            raise errors.InvalidState(
                _("この申込は「%(status)s」のため受付できません。") % {"status": locked.get_status_display()},
                field="code",
            )
        locked.checked_in_at = now
        locked.checked_in_by = staff
        locked.save(update_fields=["checked_in_at", "checked_in_by"])
        _audit(locked, staff, "checkin")
    return locked


def event_create(
    *,
    actor: User,
    department_id: int | None,
    facility_id: int | None,
    title: str,
    title_kana: str,
    description: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place_name: str,
    capacity: int,
    application_closes_at: dt.datetime,
    fee_yen: int = 0,
    organizer: str = "",
    contact_phone: str = "",
) -> Event:
    """Staff publish an event."""
    if not title.strip():
        raise errors.Refused(_("イベント名を入力してください。"), field="title")
    if ends_at <= starts_at:
        raise errors.Refused(_("終了日時は開始日時より後にしてください。"), field="ends_at")
    if application_closes_at > starts_at:
        raise errors.Refused(_("申込締切は開始日時より前にしてください。"), field="application_closes_at")
    if capacity < 1:
        raise errors.Refused(_("定員を1人以上で入力してください。"), field="capacity")
    with transaction.atomic():
        event = Event.objects.create(
            department_id=department_id,
            facility_id=facility_id,
            title=title.strip()[:200],
            title_kana=title_kana.strip()[:300],
            description=description.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            place_name=place_name.strip()[:200],
            capacity=capacity,
            application_closes_at=application_closes_at,
            fee_yen=fee_yen,
            organizer=organizer.strip()[:200],
            contact_phone=contact_phone.strip()[:32],
        )
        audit_record(actor=actor, action="reservations.event.create", target=event, data={"title": event.title})
    return event
