"""Facility bookings: first-come booking, fees, confirming a lottery win, cancelling,
and lapsing what was not confirmed or paid in time.

A booking holds its slot while it is ``offered`` (a lottery win waiting for the
winner), ``pending_payment`` or ``confirmed``. The partial unique constraint
``one_active_booking_per_slot`` makes the database refuse a second active booking of
the same slot; ``booking_create`` also locks the slot row (``select_for_update``) so
that concurrent requests queue and the loser gets a clear message instead of an
error. A booking with a fee waits for its payment (``payments``, purpose
``reservation``); the ``on_payment_settled`` hook confirms it; ``bookings_lapse_due``
(the ``reservations_tick`` command, and the pages that show availability) lapses
bookings whose deadline passed and hands lapsed lottery wins to the waitlist. A paid
booking that is cancelled, or a payment that arrives after the booking ended, is
refunded through the payment plugin (``refunds``).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.payments.machine import SETTLED, IllegalTransition
from madoguchi.payments.machine import Status as PaymentStatus
from madoguchi.payments.models import Payment
from madoguchi.payments.selectors import payment_list_for_object
from madoguchi.payments.services import payment_cancel, payment_create, payment_start
from madoguchi.reservations import errors, rules
from madoguchi.reservations.db import retry_on_lock
from madoguchi.reservations.models import Booking, Facility, Group, LotteryRound, Room, Slot, TimeBlock
from madoguchi.reservations.notify import notify_user
from madoguchi.reservations.services import refunds
from madoguchi.reservations.services.refunds import PAYMENT_PURPOSE as PAYMENT_PURPOSE

PAYMENT_ENDED = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED})


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y年n月j日 H:i")


def slot_label(slot: Slot) -> str:
    block = slot.block
    return (
        f"{slot.room.facility.name} {slot.room.name} {slot.date:%Y-%m-%d} "
        f"{block.name}（{block.start_time:%H:%M}〜{block.end_time:%H:%M}）"
    )


def _audit(booking: Booking, actor: User | None, action: str, **data: object) -> None:
    audit_record(
        actor=actor,
        action=f"reservations.booking.{action}",
        target=booking,
        data={
            "public_id": str(booking.public_id),
            "slot": booking.slot_id,
            "status": booking.status,
            "group": booking.group_id,
            **data,
        },
    )


def _notify(booking: Booking, key: str, subject: str, body: str) -> None:
    notify_user(
        user=booking.user,
        key=f"booking:{booking.public_id}:{key}",
        subject=subject,
        body=body,
        link=reverse("reservations:booking_detail", args=[booking.public_id]),
    )


# -- checks -------------------------------------------------------------------------------
def lottery_round_for(facility: Facility, date: dt.date) -> LotteryRound | None:
    return LotteryRound.objects.filter(facility=facility, month=rules.month_start(date)).first()


def check_slot_bookable(*, room: Room, date: dt.date, block: TimeBlock, now: dt.datetime) -> None:
    """Raise a :class:`~madoguchi.reservations.errors.Refused` unless ``room`` in
    ``block`` on ``date`` can be booked first-come at ``now``."""
    facility = room.facility
    if not facility.is_active or not room.is_active:
        raise errors.NotEligible(_("この施設・部屋は現在予約を受け付けていません。"), field="room")
    if block.facility_id != facility.pk:
        raise errors.OutsideHours(_("その時間帯は開館時間外のため予約できません。"), field="block")
    reason = rules.closed_reason(facility, date)
    if reason:
        raise errors.ClosedDay(
            _("%(date)s は休館日のため予約できません（%(reason)s）。") % {"date": f"{date:%Y-%m-%d}", "reason": reason},
            field="date",
        )
    starts = timezone.make_aware(dt.datetime.combine(date, block.start_time))
    if starts <= now:
        raise errors.PastSlot(_("開始時刻を過ぎた枠は予約できません。"), field="date")
    today = timezone.localdate(now)
    if date > today + dt.timedelta(days=facility.advance_days):
        opens = date - dt.timedelta(days=facility.advance_days)
        raise errors.NotBookableYet(
            _("%(date)s の予約の受付は %(opens)s から始まります。")
            % {"date": f"{date:%Y-%m-%d}", "opens": f"{opens:%Y-%m-%d}"},
            field="date",
        )
    lottery = lottery_round_for(facility, date)
    if lottery is not None and now < lottery.first_come_opens_at:
        raise errors.LotteryOnly(
            _("この月の枠は抽選で決まります。空いた枠の先着順の受付は %(at)s からです。")
            % {"at": _when(lottery.first_come_opens_at)},
            field="date",
        )


def _eligibility(*, facility: Facility, user: User, group: Group | None, workplace: str) -> tuple[str, str]:
    if group is not None:
        if not facility.accepts_groups:
            raise errors.NotEligible(_("この施設は団体では予約できません。個人として予約してください。"), field="group")
        if group.representative_id != user.pk:
            raise errors.NotEligible(_("団体の予約は、その団体の代表者だけができます。"), field="group")
        if group.status != Group.Status.APPROVED:
            raise errors.NotEligible(_("この団体の登録はまだ承認されていません。"), field="group")
        return Booking.Eligibility.GROUP, ""
    if not facility.accepts_individuals:
        raise errors.NotEligible(
            _("この施設は登録団体だけが予約できます。団体登録をしてから、団体として予約してください。"), field="group"
        )
    if user.resident_id:
        return Booking.Eligibility.RESIDENT, ""
    workplace = workplace.strip()
    if not workplace:
        raise errors.NotEligible(
            _(
                "このアカウントは区の住民記録と結びついていません。区内に勤務先・学校がある方は、"
                "その名称を入力してください。"
            ),
            field="workplace",
        )
    return Booking.Eligibility.WORKER, workplace[:100]


def _month_count(*, facility: Facility, user: User, group: Group | None, date: dt.date) -> int:
    start = rules.month_start(date)
    qs = Booking.objects.filter(
        facility=facility,
        status__in=Booking.ACTIVE,
        slot__date__gte=start,
        slot__date__lt=rules.next_month(start),
    )
    qs = qs.filter(group=group) if group is not None else qs.filter(user=user, group__isnull=True)
    return qs.count()


def _slot_get_or_create(*, room: Room, date: dt.date, block: TimeBlock) -> Slot:
    slot = Slot.objects.filter(room=room, date=date, block=block).first()
    if slot is not None:
        return slot
    try:
        with transaction.atomic():
            return Slot.objects.create(room=room, date=date, block=block)
    except IntegrityError:
        # Another request created it at the same moment.
        return Slot.objects.get(room=room, date=date, block=block)


def _payment_deadline(facility: Facility, slot_starts: dt.datetime, now: dt.datetime) -> dt.datetime:
    return min(now + dt.timedelta(days=max(facility.payment_days, 1)), slot_starts)


# -- first-come booking -------------------------------------------------------------------
def booking_create(
    *,
    user: User,
    room: Room,
    date: dt.date,
    block: TimeBlock,
    purpose: str,
    attendees: int,
    group: Group | None = None,
    workplace: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """Book ``room`` in ``block`` on ``date`` first-come. A free room is confirmed at
    once; a room with a fee waits for its payment until the deadline. Raises a
    :class:`~madoguchi.reservations.errors.Refused` (nothing saved) for a slot that is
    taken, closed, outside the opening hours, in the past or too far ahead, in a
    lottery month, over the monthly limit, or a booker who may not book."""
    return retry_on_lock(
        lambda: _booking_create(
            user=user,
            room=room,
            date=date,
            block=block,
            purpose=purpose,
            attendees=attendees,
            group=group,
            workplace=workplace,
            now=now or timezone.now(),
        )
    )


def _booking_create(
    *,
    user: User,
    room: Room,
    date: dt.date,
    block: TimeBlock,
    purpose: str,
    attendees: int,
    group: Group | None,
    workplace: str,
    now: dt.datetime,
) -> Booking:
    facility = Facility.objects.get(pk=room.facility_id)
    purpose = purpose.strip()
    if not purpose:
        raise errors.Refused(_("利用目的を入力してください。"), field="purpose")
    if attendees < 1:
        raise errors.Refused(_("利用人数を1人以上で入力してください。"), field="attendees")
    if room.capacity and attendees > room.capacity:
        raise errors.Refused(_("この部屋の定員は%(capacity)s人です。") % {"capacity": room.capacity}, field="attendees")
    eligibility, workplace = _eligibility(facility=facility, user=user, group=group, workplace=workplace)
    check_slot_bookable(room=room, date=date, block=block, now=now)
    with transaction.atomic():
        # One booker's requests queue here, so the monthly limit holds under
        # concurrency; then the slot row is locked so one request gets the slot.
        if group is not None:
            Group.objects.select_for_update().filter(pk=group.pk).first()
        else:
            User.objects.select_for_update().filter(pk=user.pk).first()
        slot = _slot_get_or_create(room=room, date=date, block=block)
        slot = Slot.objects.select_for_update(of=("self",)).select_related("room__facility", "block").get(pk=slot.pk)
        if Booking.objects.filter(slot=slot, status__in=Booking.ACTIVE).exists():
            raise errors.SlotTaken(_("この枠はすでに予約されています。別の日時か部屋を選んでください。"), field="slot")
        if facility.monthly_limit:
            count = _month_count(facility=facility, user=user, group=group, date=date)
            if count >= facility.monthly_limit:
                raise errors.MonthlyLimit(
                    _("1か月に予約できるのは%(limit)s枠までです（%(month)s はすでに%(count)s枠予約しています）。")
                    % {"limit": facility.monthly_limit, "month": f"{date:%Y年%-m月}", "count": count},
                    field="slot",
                )
        fee = room.fee_yen
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    facility=facility,
                    slot=slot,
                    user=user,
                    group=group,
                    eligibility=eligibility,
                    workplace=workplace,
                    purpose=purpose[:200],
                    attendees=attendees,
                    fee_yen=fee,
                    status=Booking.Status.PENDING_PAYMENT if fee else Booking.Status.CONFIRMED,
                    source=Booking.Source.FIRST_COME,
                    deadline=_payment_deadline(facility, slot.starts_at, now) if fee else None,
                    confirmed_at=None if fee else now,
                )
        except IntegrityError as exc:
            raise errors.SlotTaken(
                _("この枠はすでに予約されています。別の日時か部屋を選んでください。"), field="slot"
            ) from exc
        _audit(booking, user, "create", fee_yen=fee, eligibility=eligibility)
        with translation.override(user.preferred_language or "ja"):
            if fee:
                _notify(
                    booking,
                    "created",
                    _("【施設予約】仮予約しました（お支払い待ち）"),
                    _(
                        "%(slot)s を仮予約しました。\n使用料 %(fee)s円 を %(deadline)s までにお支払いください。"
                        "期限までにお支払いがないと、予約は取り消されます。"
                    )
                    % {"slot": slot_label(slot), "fee": f"{fee:,}", "deadline": _when(booking.deadline or now)},
                )
            else:
                _notify(
                    booking,
                    "confirmed",
                    _("【施設予約】予約が確定しました"),
                    _("%(slot)s の予約が確定しました。") % {"slot": slot_label(slot)},
                )
    return booking


# -- fees -----------------------------------------------------------------------------------
def booking_latest_payment(booking: Booking) -> Payment | None:
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(booking.public_id))
    return payments[0] if payments else None


def booking_start_payment(
    *, booking: Booking, user: User, return_url: str, cancel_url: str, now: dt.datetime | None = None
) -> str:
    """Start (or resume) the payment of a booking waiting for one; returns the URL of
    the provider's payment page. A declined or cancelled attempt can be retried until
    the deadline."""
    now = now or timezone.now()
    if booking.status != Booking.Status.PENDING_PAYMENT:
        raise errors.InvalidState(_("この予約はお支払いを受け付けていません。"))
    if booking.deadline is not None and booking.deadline <= now:
        raise errors.DeadlinePassed(_("お支払いの期限を過ぎました。"))
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(booking.public_id))
    if any(p.settled_at is not None for p in payments):
        raise errors.InvalidState(_("この予約の使用料はお支払い済みです。"))
    latest = payments[0] if payments else None
    if latest is not None and latest.status == PaymentStatus.PENDING and latest.redirect_url:
        return latest.redirect_url
    attempt = len(payments) + 1
    slot = booking.slot
    with translation.override(user.preferred_language or "ja"):
        description = _("施設使用料 %(slot)s") % {"slot": slot_label(slot)}
    payment = payment_create(
        amount_yen=booking.fee_yen,
        description=description[:200],
        purpose=PAYMENT_PURPOSE,
        object_id=str(booking.public_id),
        payer=user,
        idempotency_key=f"booking:{booking.public_id}:{attempt}",
    )
    return payment_start(payment=payment, return_url=return_url, cancel_url=cancel_url, actor=user)


def booking_paid(payment: Payment) -> None:
    """The ``on_payment_settled("reservation")`` hook: confirm the booking whose fee
    this is. Runs inside the payment's transaction, once per payment. A payment that
    arrives after the booking lapsed or was cancelled marks the booking for a refund."""
    if payment.status not in SETTLED:
        return
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot__room__facility", "slot__block", "user")
        .filter(public_id=payment.object_id)
        .first()
    )
    if booking is None:
        return
    if booking.status == Booking.Status.PENDING_PAYMENT:
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = timezone.now()
        booking.save(update_fields=["status", "confirmed_at"])
        _audit(booking, None, "paid", payment=str(payment.public_id), amount_yen=payment.amount_yen)
        with translation.override(booking.user.preferred_language or "ja"):
            _notify(
                booking,
                "confirmed",
                _("【施設予約】お支払いを確認し、予約が確定しました"),
                _("%(slot)s の使用料 %(fee)s円 のお支払いを確認しました。予約が確定しました。")
                % {"slot": slot_label(booking.slot), "fee": f"{payment.amount_yen:,}"},
            )
    elif booking.status in (Booking.Status.LAPSED, Booking.Status.CANCELLED):
        # Paid after the booking ended: the whole payment goes back. The refund
        # itself talks to the provider, so it runs after this transaction
        # (``refunds.booking_refund``, enqueued here; the tick retries).
        fields = refunds.mark_refund_due(booking, now=timezone.now())
        booking.save(update_fields=fields)
        _audit(booking, None, "paid_after_end", payment=str(payment.public_id), amount_yen=payment.amount_yen)
        with translation.override(booking.user.preferred_language or "ja"):
            _notify(
                booking,
                f"paid_after_end:{payment.public_id}",
                _("【施設予約】お支払いを確認しました（返金します）"),
                _(
                    "%(slot)s の使用料 %(fee)s円 のお支払いを確認しましたが、この予約はすでに取消し・期限切れに"
                    "なっています。お支払いいただいた額を返金します。返金が済みましたら、お知らせします。"
                )
                % {"slot": slot_label(booking.slot), "fee": f"{payment.amount_yen:,}"},
            )


# -- lottery wins ---------------------------------------------------------------------------
def booking_confirm_offer(*, booking: Booking, user: User, now: dt.datetime | None = None) -> Booking:
    """The winner takes a lottery win: confirmed at once if free, else it waits for
    the payment (same deadline)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot__room__facility", "slot__block", "user")
            .get(pk=booking.pk)
        )
        if locked.user_id != user.pk:
            raise errors.NotEligible(_("この当選を確定できるのは、申し込んだ方だけです。"))
        if locked.status != Booking.Status.OFFERED:
            raise errors.InvalidState(_("この予約はすでに確定済みか、取り消されています。"))
        if locked.deadline is not None and locked.deadline <= now:
            raise errors.DeadlinePassed(_("利用の確定期限を過ぎたため、この当選は無効になりました。"))
        if locked.fee_yen:
            locked.status = Booking.Status.PENDING_PAYMENT
            locked.save(update_fields=["status"])
        else:
            locked.status = Booking.Status.CONFIRMED
            locked.confirmed_at = now
            locked.save(update_fields=["status", "confirmed_at"])
        _audit(locked, user, "confirm_offer")
    return locked


# -- cancellation ---------------------------------------------------------------------------
def cancel_deadline(booking: Booking) -> dt.datetime:
    facility = booking.slot.room.facility
    if facility.cancel_days == 0:
        return booking.slot.starts_at
    last_day = booking.slot.date - dt.timedelta(days=facility.cancel_days)
    return timezone.make_aware(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0, 0)))


def booking_cancel(*, booking: Booking, user: User, now: dt.datetime | None = None) -> Booking:
    """The booker cancels (or declines a lottery win). A confirmed booking can be
    cancelled until the facility's cancellation deadline (after it, the booking stays
    and nothing is refunded: the resident asks the facility). A paid fee, minus the
    facility's cancellation fee, is refunded through the payment plugin after this
    transaction commits (``refunds``); a failing refund never undoes the
    cancellation. A released lottery slot goes to the next on the waitlist."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot__room__facility", "slot__block", "user")
            .get(pk=booking.pk)
        )
        if locked.user_id != user.pk:
            raise errors.NotEligible(_("この予約を取り消せるのは、予約した方だけです。"))
        if locked.status not in Booking.ACTIVE:
            raise errors.InvalidState(_("この予約はすでに取り消されているか、期限切れです。"))
        if locked.status != Booking.Status.OFFERED and now >= cancel_deadline(locked):
            raise errors.DeadlinePassed(
                _("取消しの期限（%(at)s）を過ぎたため、オンラインでは取り消せません。施設にお問い合わせください。")
                % {"at": _when(cancel_deadline(locked))}
            )
        previous = locked.status
        paid = refunds.paid_yen(locked)
        fee = min(refunds.cancellation_fee(locked), paid)
        refund = paid - fee
        locked.status = Booking.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancel_fee_yen = fee
        fields = ["status", "cancelled_at", "cancel_fee_yen"]
        if refund > 0:
            fields += refunds.mark_refund_due(locked, now=now)
        locked.save(update_fields=fields)
        _cancel_open_payment(locked, user)
        _audit(locked, user, "cancel", previous=previous, paid_yen=paid, cancel_fee_yen=fee, refund_yen=refund)
        with translation.override(locked.user.preferred_language or "ja"):
            _notify(
                locked,
                "cancelled",
                _("【施設予約】予約を取り消しました"),
                _("%(slot)s の予約を取り消しました。") % {"slot": slot_label(locked.slot)}
                + _refund_note(paid=paid, fee=fee),
            )
        if locked.lottery_win_id is not None:
            from madoguchi.reservations.services.lottery import lottery_offer_next

            lottery_offer_next(slot=locked.slot, now=now)
    return locked


def _refund_note(*, paid: int, fee: int) -> str:
    if not paid:
        return ""
    if not fee:
        return "\n" + _("お支払い済みの使用料 %(paid)s円 を全額返金します。返金が済みましたら、お知らせします。") % {
            "paid": f"{paid:,}"
        }
    if fee >= paid:
        return "\n" + _("取消手数料（%(fee)s円）のため、返金はありません。") % {"fee": f"{fee:,}"}
    return "\n" + _(
        "お支払い済みの使用料 %(paid)s円 から取消手数料 %(fee)s円 を差し引いた %(refund)s円 を返金します。"
        "返金が済みましたら、お知らせします。"
    ) % {"paid": f"{paid:,}", "fee": f"{fee:,}", "refund": f"{paid - fee:,}"}


def _cancel_open_payment(booking: Booking, actor: User | None) -> None:
    payment = booking_latest_payment(booking)
    if payment is not None and payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
        try:
            payment_cancel(payment=payment, actor=actor)
        except IllegalTransition:
            pass


# -- lapse ----------------------------------------------------------------------------------
def bookings_lapse_due(*, now: dt.datetime | None = None) -> int:
    """Lapse every booking whose confirmation or payment deadline has passed; hand each
    lapsed lottery win to the next on its waitlist. Returns how many lapsed."""
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(
            status__in=[Booking.Status.OFFERED, Booking.Status.PENDING_PAYMENT], deadline__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    lapsed = 0
    for pk in due:
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(of=("self",))
                .select_related("slot__room__facility", "slot__block", "user")
                .filter(pk=pk, status__in=[Booking.Status.OFFERED, Booking.Status.PENDING_PAYMENT], deadline__lte=now)
                .first()
            )
            if booking is None:
                continue
            if any(
                p.settled_at is not None
                for p in payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(booking.public_id))
            ):
                continue  # paid at the last moment: the hook confirms it
            previous = booking.status
            booking.status = Booking.Status.LAPSED
            booking.cancelled_at = now
            booking.save(update_fields=["status", "cancelled_at"])
            _cancel_open_payment(booking, None)
            _audit(booking, None, "lapse", previous=previous)
            with translation.override(booking.user.preferred_language or "ja"):
                _notify(
                    booking,
                    "lapsed",
                    _("【施設予約】期限を過ぎたため予約が取り消されました"),
                    _("%(slot)s は、期限までに利用の確定またはお支払いがなかったため、取り消されました。")
                    % {"slot": slot_label(booking.slot)},
                )
            if booking.lottery_win_id is not None:
                from madoguchi.reservations.services.lottery import lottery_offer_next

                lottery_offer_next(slot=booking.slot, now=now)
            lapsed += 1
    return lapsed


def booking_payment_returned(*, booking: Booking) -> Payment | None:
    """What the resident sees after the payment page: the latest payment."""
    return booking_latest_payment(booking)


def payment_ended(payment: Payment | None) -> bool:
    return payment is not None and payment.status in PAYMENT_ENDED
