"""Refunds of booking fees through the payment plugin.

A paid booking that ends without being used gets its money back:

* the resident cancels before the facility's cancellation deadline
  (``bookings.booking_cancel``): the fee minus the facility's cancellation fee
  (``Facility.cancel_fee_percent``, 0 = full refund);
* a payment completes after the booking lapsed or was cancelled
  (``bookings.booking_paid``): all of it.

Both only *mark* the booking (``refund_due``, ``refund_next_attempt_at`` = now) in
their own transaction and enqueue the task ``tasks.refund_booking`` for when it
commits, so the cancellation is committed whatever happens to the refund. :func:`booking_refund` then
talks to the provider (``payments.services.payment_capture`` for a payment that is
only authorized, then ``payment_refund``). If the provider refuses or anything
raises, the booking stays cancelled and ``refund_due``, with the error, the number of
failures and the time of the next attempt (exponential backoff); the periodic
``reservations_tick`` command retries what is due (:func:`booking_refunds_retry_due`),
and staff (係長 and above of the facility's department) can retry at once from
「返金の管理」. On success the flag clears and the resident is told by email and in
the inbox.

Nothing is ever refunded twice: :func:`booking_refund` holds the booking's row lock
while it works, does nothing for a booking that is no longer ``refund_due``, computes
each payment's amount from what the payment itself has already refunded, and passes
``payment_refund`` an idempotency key derived from that; the payment state machine
refuses a refund beyond what was captured.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.payments.machine import REFUNDABLE
from madoguchi.payments.machine import Status as PaymentStatus
from madoguchi.payments.models import Payment
from madoguchi.payments.selectors import payment_list_for_object
from madoguchi.payments.services import payment_capture, payment_refund
from madoguchi.reservations.db import retry_on_lock
from madoguchi.reservations.models import Booking, Slot
from madoguchi.reservations.notify import notify_user

logger = logging.getLogger(__name__)

PAYMENT_PURPOSE = "reservation"
#: The first retry after a failure waits this long; each further failure doubles it.
RETRY_BASE = dt.timedelta(minutes=5)
#: ... up to this.
RETRY_MAX = dt.timedelta(hours=12)


class RefundOutcome(enum.StrEnum):
    REFUNDED = "refunded"
    FAILED = "failed"
    NOTHING_DUE = "nothing_due"


@dataclass(frozen=True)
class CancellationTerms:
    """What cancelling a booking now would mean, for the confirmation page."""

    deadline: dt.datetime
    before_deadline: bool
    paid_yen: int
    cancel_fee_yen: int

    @property
    def refund_yen(self) -> int:
        return max(self.paid_yen - self.cancel_fee_yen, 0)


@dataclass
class RefundSweep:
    refunded: int = 0
    failed: int = 0


def retry_delay(failures: int) -> dt.timedelta:
    """How long to wait after the ``failures``-th failed attempt."""
    return min(RETRY_BASE * (2 ** max(failures - 1, 0)), RETRY_MAX)


def settled_payments(booking: Booking) -> list[Payment]:
    """The payments of ``booking`` that were paid (authorized or captured at some
    point), oldest first."""
    payments = payment_list_for_object(purpose=PAYMENT_PURPOSE, object_id=str(booking.public_id))
    return sorted((p for p in payments if p.settled_at is not None), key=lambda p: (p.created_at, p.pk))


def _held_yen(payment: Payment) -> int:
    """What the resident has paid on ``payment`` and not yet got back."""
    if payment.status == PaymentStatus.AUTHORIZED:
        return payment.amount_yen
    if payment.status in REFUNDABLE:
        return payment.captured_yen - payment.refunded_yen
    return 0


def paid_yen(booking: Booking) -> int:
    return sum(_held_yen(p) for p in settled_payments(booking))


def cancellation_fee(booking: Booking) -> int:
    """The facility's cancellation fee for ``booking`` (rounded down to the yen)."""
    percent = booking.slot.room.facility.cancel_fee_percent
    return booking.fee_yen * percent // 100


def cancellation_terms(booking: Booking, *, now: dt.datetime | None = None) -> CancellationTerms:
    from madoguchi.reservations.services.bookings import cancel_deadline

    now = now or timezone.now()
    deadline = cancel_deadline(booking)
    paid = paid_yen(booking)
    return CancellationTerms(
        deadline=deadline,
        before_deadline=booking.status == Booking.Status.OFFERED or now < deadline,
        paid_yen=paid,
        cancel_fee_yen=min(cancellation_fee(booking), paid) if paid else 0,
    )


def mark_refund_due(booking: Booking, *, now: dt.datetime) -> list[str]:
    """Flag ``booking`` for a refund, to be tried at once by a task enqueued when the
    caller's transaction commits. The caller locks and saves the booking (the
    returned field names). Call inside a transaction."""
    from madoguchi.reservations import tasks

    fields = ["refund_due", "refund_next_attempt_at"]
    if not booking.refund_due:  # a refund already under way keeps its failure history
        booking.refund_attempts = 0
        booking.refund_last_error = ""
        fields += ["refund_attempts", "refund_last_error"]
    booking.refund_due = True
    booking.refund_next_attempt_at = now
    tasks.refund_soon(booking.pk)
    return fields


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y年n月j日 H:i")


def _slot_label(slot: Slot) -> str:
    from madoguchi.reservations.services.bookings import slot_label

    return slot_label(slot)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:300]


def _audit(booking: Booking, actor: User | None, action: str, **data: object) -> None:
    audit_record(
        actor=actor,
        action=f"reservations.booking.{action}",
        target=booking,
        data={"public_id": str(booking.public_id), "status": booking.status, **data},
    )


def _refund_payments(booking: Booking, actor: User | None) -> int:
    """Refund what is due on each paid payment of ``booking``; returns the yen
    refunded now. The cancellation fee is kept from the oldest payments first.
    Raises whatever the payment services raise (the caller records it)."""
    keep_left = booking.cancel_fee_yen
    refunded = 0
    for payment in settled_payments(booking):
        if payment.status not in (PaymentStatus.AUTHORIZED, *REFUNDABLE):
            continue  # voided or already refunded in full
        taken = payment.amount_yen if payment.status == PaymentStatus.AUTHORIZED else payment.captured_yen
        keep = min(keep_left, taken)
        keep_left -= keep
        amount = taken - keep - payment.refunded_yen
        if amount <= 0:
            continue
        if payment.status == PaymentStatus.AUTHORIZED:
            # The payments app refunds captured money only: take the payment, then
            # give back what is due (the cancellation fee, if any, stays taken).
            payment = payment_capture(payment=payment, actor=actor)
        payment_refund(
            payment=payment,
            amount_yen=amount,
            actor=actor,
            reason=f"reservation {booking.public_id} {booking.status}"[:200],
            # Stable across retries of the same refund (the payment's refunded total
            # only changes when a refund went through), so a provider that saw a
            # refund whose local record was lost recognises it.
            idempotency_key=f"reservation-refund:{payment.public_id}:{payment.refunded_yen}",
        )
        refunded += amount
    return refunded


def booking_refund(*, booking_id: int, actor: User | None, now: dt.datetime | None = None) -> RefundOutcome:
    """Refund what is due on booking ``booking_id`` now (the task, the tick and the
    staff 「再実行」 button all come here). A booking that is not ``refund_due``
    (already refunded: a second click, a second tick) gives ``NOTHING_DUE`` and
    changes nothing. A failure is recorded on the booking, which stays cancelled
    and ``refund_due``; it never raises for a provider error."""
    return retry_on_lock(lambda: _booking_refund(booking_id=booking_id, actor=actor, now=now or timezone.now()))


def _is_sqlite_lock(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and connection.vendor == "sqlite" and "locked" in str(exc)


def _booking_refund(*, booking_id: int, actor: User | None, now: dt.datetime) -> RefundOutcome:
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot__room__facility", "slot__block", "user")
            .filter(pk=booking_id)
            .first()
        )
        if booking is None or not booking.refund_due or booking.status in Booking.ACTIVE:
            return RefundOutcome.NOTHING_DUE
        try:
            refunded = _refund_payments(booking, actor)
        except Exception as exc:  # any failure is recorded and retried
            if _is_sqlite_lock(exc):
                raise  # a concurrent writer on SQLite (tests): retry_on_lock runs it all again
            logger.warning("refund of booking %s failed", booking.public_id, exc_info=True)
            booking.refund_attempts += 1
            booking.refund_last_error = _describe(exc)
            next_attempt = now + retry_delay(booking.refund_attempts)
            booking.refund_next_attempt_at = next_attempt
            booking.save(update_fields=["refund_attempts", "refund_last_error", "refund_next_attempt_at"])
            _audit(
                booking,
                actor,
                "refund_failed",
                error=booking.refund_last_error,
                failures=booking.refund_attempts,
                next_attempt_at=next_attempt.isoformat(),
            )
            return RefundOutcome.FAILED
        booking.refund_due = False
        booking.refund_next_attempt_at = None
        booking.refund_last_error = ""
        fields = ["refund_due", "refund_next_attempt_at", "refund_last_error"]
        if refunded:
            booking.refunded_yen += refunded
            booking.refunded_at = now
            fields += ["refunded_yen", "refunded_at"]
        booking.save(update_fields=fields)
        _audit(
            booking,
            actor,
            "refund",
            refund_yen=refunded,
            refunded_yen=booking.refunded_yen,
            cancel_fee_yen=booking.cancel_fee_yen,
            failures_before=booking.refund_attempts,
        )
        if refunded:
            with translation.override(booking.user.preferred_language or "ja"):
                notify_user(
                    user=booking.user,
                    key=f"booking:{booking.public_id}:refunded:{booking.refunded_yen}",
                    subject=_("【施設予約】使用料を返金しました"),
                    body=_(
                        "%(slot)s の使用料のうち %(amount)s円 を返金しました。"
                        "お支払いに使ったカードの明細に反映されるまで、日数がかかることがあります。"
                    )
                    % {"slot": _slot_label(booking.slot), "amount": f"{refunded:,}"},
                    link=reverse("reservations:booking_detail", args=[booking.public_id]),
                )
    return RefundOutcome.REFUNDED


def booking_refunds_retry_due(*, now: dt.datetime | None = None, limit: int = 200) -> RefundSweep:
    """Try every refund whose next attempt is due (the ``reservations_tick``
    command). Each booking is handled in its own transaction."""
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(refund_due=True, refund_next_attempt_at__lte=now)
        .order_by("refund_next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    # A flag set by hand (or before this field existed) has no time: try it too.
    due += list(
        Booking.objects.filter(refund_due=True, refund_next_attempt_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: max(limit - len(due), 0)]
    )
    sweep = RefundSweep()
    for pk in due:
        outcome = booking_refund(booking_id=pk, actor=None, now=now)
        if outcome == RefundOutcome.REFUNDED:
            sweep.refunded += 1
        elif outcome == RefundOutcome.FAILED:
            sweep.failed += 1
    return sweep
