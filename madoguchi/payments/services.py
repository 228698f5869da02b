"""Writes of payments. Each service does its whole change in one ``transaction.atomic``
with an audit record.

Flow: the app that charges a fee calls ``payment_create`` (idempotent on
``idempotency_key``, so a double click makes one payment), then ``payment_start``,
which registers the payment with the provider and returns the URL of the provider's
payment page. The provider notifies ``/payments/webhook/<provider>/``;
``payment_handle_webhook`` applies each provider event once (deduplicated by event id
under a row lock on the payment) and calls the ``on_payment_settled`` hooks the first
time the payment is authorized or captured. Staff then ``payment_capture`` and, if
needed, ``payment_refund``.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.payments import machine
from madoguchi.payments.hooks import on_payment_settled
from madoguchi.payments.machine import IllegalTransition, Status
from madoguchi.payments.models import Payment, PaymentEvent, Refund
from madoguchi.payments.providers.base import EventType, InvalidWebhook, PaymentProvider, WebhookEvent
from madoguchi.payments.providers.registry import register

#: Event type → the status it moves the payment to.
EVENT_TARGETS: dict[EventType, Status] = {
    EventType.AUTHORIZED: Status.AUTHORIZED,
    EventType.CAPTURED: Status.CAPTURED,
    EventType.VOIDED: Status.VOIDED,
    EventType.FAILED: Status.FAILED,
    EventType.CANCELLED: Status.CANCELLED,
    EventType.EXPIRED: Status.EXPIRED,
}

#: Keys never stored from a webhook payload, wherever they appear.
_CARD_KEYS = frozenset({"card", "card_number", "number", "pan", "cvc", "cvv", "security_code", "exp", "expiry"})


class IdempotencyConflict(ValueError):
    """The idempotency key was already used for a different payment or refund."""


class UnknownProvider(KeyError):
    pass


class WebhookOutcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REFUSED = "refused"


@dataclass(frozen=True)
class WebhookResult:
    outcome: WebhookOutcome
    payment: Payment | None = None
    detail: str = ""


def _provider(identifier: str) -> PaymentProvider:
    if identifier not in register:
        raise UnknownProvider(identifier)
    return register[identifier]


def _strip_card_data(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_card_data(v) for k, v in value.items() if str(k).lower() not in _CARD_KEYS}
    if isinstance(value, list):
        return [_strip_card_data(v) for v in value]
    return value


def _audit_data(payment: Payment, **extra: Any) -> dict[str, Any]:
    return {
        "public_id": str(payment.public_id),
        "amount_yen": payment.amount_yen,
        "status": payment.status,
        "purpose": payment.purpose,
        "object_id": payment.object_id,
        **extra,
    }


def _move(payment: Payment, target: Status, *, fields: list[str] | None = None) -> None:
    """Apply ``current → target`` (raising :class:`IllegalTransition`), run the settled
    hooks if the payment is settled for the first time, and save."""
    payment.status = machine.check_transition(payment.status, target)
    update = ["status", "updated_at", *(fields or [])]
    if target in machine.SETTLED and payment.settled_at is None:
        payment.settled_at = timezone.now()
        update.append("settled_at")
        payment.save(update_fields=update)
        on_payment_settled.run(payment)
    else:
        payment.save(update_fields=update)


def payment_create(
    *,
    amount_yen: int,
    description: str,
    purpose: str,
    object_id: str,
    payer: User | None,
    idempotency_key: str,
    provider: str | None = None,
) -> Payment:
    """Record a fee to pay. The same ``idempotency_key`` returns the same payment (a
    double click, a retried request); reusing a key for a different fee raises
    :class:`IdempotencyConflict`."""
    if amount_yen <= 0:
        raise ValueError("amount_yen must be positive")
    if not idempotency_key:
        raise ValueError("idempotency_key is required")
    provider_id = provider or register.default_id()
    _provider(provider_id)
    payer_id = payer.pk if payer is not None else None

    def check(existing: Payment) -> Payment:
        same = (existing.amount_yen, existing.purpose, existing.object_id, existing.payer_id) == (
            amount_yen,
            purpose,
            str(object_id),
            payer_id,
        )
        if not same:
            raise IdempotencyConflict(idempotency_key)
        return existing

    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return check(existing)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                amount_yen=amount_yen,
                description=description,
                purpose=purpose,
                object_id=str(object_id),
                payer=payer,
                idempotency_key=idempotency_key,
                provider=provider_id,
            )
            audit_record(actor=payer, action="payment.create", target=payment, data=_audit_data(payment))
    except IntegrityError:
        # A concurrent request with the same key won the race.
        return check(Payment.objects.get(idempotency_key=idempotency_key))
    return payment


def payment_start(*, payment: Payment, return_url: str, cancel_url: str, actor: User | None = None) -> str:
    """Register the payment with its provider (``created`` → ``pending``) and return
    the URL to send the resident to. A payment already pending returns the same URL."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == Status.PENDING and locked.redirect_url:
            return locked.redirect_url
        machine.check_transition(locked.status, Status.PENDING)
        result = _provider(locked.provider).create(locked, return_url, cancel_url)
        locked.provider_reference = result.provider_reference
        locked.redirect_url = result.redirect_url
        _move(locked, Status.PENDING, fields=["provider_reference", "redirect_url"])
        audit_record(actor=actor, action="payment.start", target=locked, data=_audit_data(locked))
    _refresh(payment, locked)
    return locked.redirect_url


def _refresh(stale: Payment, fresh: Payment) -> None:
    for name in ("status", "provider_reference", "redirect_url", "captured_yen", "refunded_yen", "settled_at"):
        setattr(stale, name, getattr(fresh, name))
    stale.updated_at = fresh.updated_at


def payment_handle_webhook(*, provider: str, request: HttpRequest) -> WebhookResult:
    """Verify and apply one provider notification.

    Raises :class:`~madoguchi.payments.providers.base.InvalidSignature` or
    :class:`~madoguchi.payments.providers.base.InvalidWebhook` (the view answers 400)
    and changes nothing. Otherwise the event is recorded once per provider event id:
    a redelivery is a no-op (``DUPLICATE``); an event the state machine does not allow
    (out of order, wrong amount) is recorded as refused and changes nothing. A refused
    event is evaluated again when it is redelivered, so an event that arrived too
    early is applied on the provider's retry."""
    event = _provider(provider).parse_webhook(request)
    return payment_apply_event(provider=provider, event=event)


def payment_apply_event(*, provider: str, event: WebhookEvent) -> WebhookResult:
    """The part of :func:`payment_handle_webhook` after the signature check."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=provider, provider_reference=event.provider_reference)
            .exclude(provider_reference="")
            .first()
        )
        if payment is None:
            raise InvalidWebhook("notification for an unknown payment")
        # The row lock serializes every event of this payment, so this check and the
        # insert below cannot interleave with a concurrent delivery of the same event.
        seen = PaymentEvent.objects.filter(provider=provider, event_id=event.event_id).first()
        if seen is not None and seen.payment_id != payment.pk:
            raise InvalidWebhook("event id already used for another payment")
        if seen is not None and seen.outcome != PaymentEvent.Outcome.REFUSED:
            return WebhookResult(WebhookOutcome.DUPLICATE, payment)

        outcome, detail = _apply(payment, event)
        if seen is None:
            PaymentEvent.objects.create(
                payment=payment,
                provider=provider,
                event_id=event.event_id,
                type=event.type.value,
                payload=_strip_card_data(event.payload),
                outcome=outcome,
                detail=detail[:300],
            )
        else:
            # A refused event (e.g. one that arrived before the event it follows) is
            # looked at again when the provider redelivers it.
            seen.outcome = outcome
            seen.detail = detail[:300]
            seen.save(update_fields=["outcome", "detail"])
        audit_record(
            actor=None,
            action=f"payment.webhook.{outcome}",
            target=payment,
            data=_audit_data(payment, event_id=event.event_id, event_type=event.type.value, detail=detail),
        )
    result = {
        PaymentEvent.Outcome.APPLIED: WebhookOutcome.APPLIED,
        PaymentEvent.Outcome.IGNORED: WebhookOutcome.IGNORED,
        PaymentEvent.Outcome.REFUSED: WebhookOutcome.REFUSED,
    }[outcome]
    return WebhookResult(result, payment, detail)


def _apply(payment: Payment, event: WebhookEvent) -> tuple[PaymentEvent.Outcome, str]:
    target = EVENT_TARGETS.get(event.type)
    if target is None:
        return PaymentEvent.Outcome.IGNORED, "event type changes nothing"
    if payment.status == target:
        return PaymentEvent.Outcome.IGNORED, f"already {target}"
    if target in machine.SETTLED and event.amount is not None and event.amount != payment.amount_yen:
        return PaymentEvent.Outcome.REFUSED, f"amount {event.amount} does not match {payment.amount_yen}"
    fields: list[str] = []
    if target == Status.CAPTURED:
        payment.captured_yen = payment.amount_yen
        fields.append("captured_yen")
    try:
        with transaction.atomic():
            _move(payment, target, fields=fields)
    except IllegalTransition as exc:
        payment.refresh_from_db()
        return PaymentEvent.Outcome.REFUSED, str(exc)
    return PaymentEvent.Outcome.APPLIED, f"{target}"


def payment_capture(*, payment: Payment, actor: User | None, amount_yen: int | None = None) -> Payment:
    """Take the money of an authorized payment (``authorized`` → ``captured``).
    Capturing a payment that is already captured returns it unchanged."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        amount = locked.amount_yen if amount_yen is None else amount_yen
        if amount != locked.amount_yen:
            raise IllegalTransition(locked.status, Status.CAPTURED, "partial capture is not supported")
        if locked.status == Status.CAPTURED:
            return locked
        machine.check_transition(locked.status, Status.CAPTURED)
        _provider(locked.provider).capture(locked, amount)
        locked.captured_yen = amount
        _move(locked, Status.CAPTURED, fields=["captured_yen"])
        audit_record(actor=actor, action="payment.capture", target=locked, data=_audit_data(locked))
    _refresh(payment, locked)
    return locked


def payment_refund(
    *,
    payment: Payment,
    amount_yen: int,
    actor: User | None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Refund:
    """Give back ``amount_yen`` (at most captured − already refunded). The payment
    becomes ``partially_refunded`` or, when everything is refunded, ``refunded``. The
    same ``idempotency_key`` returns the same refund."""
    key = idempotency_key or f"refund-{uuid.uuid4()}"
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.payment_id != locked.pk or existing.amount_yen != amount_yen:
                raise IdempotencyConflict(key)
            return existing
        target, total = machine.refund_outcome(
            status=locked.status,
            captured_yen=locked.captured_yen,
            refunded_yen=locked.refunded_yen,
            amount_yen=amount_yen,
        )
        reference = _provider(locked.provider).refund(locked, amount_yen, key)
        refund = Refund.objects.create(
            payment=locked,
            amount_yen=amount_yen,
            provider_reference=reference,
            reason=reason,
            idempotency_key=key,
            created_by=actor,
        )
        locked.refunded_yen = total
        _move(locked, target, fields=["refunded_yen"])
        audit_record(
            actor=actor,
            action="payment.refund",
            target=locked,
            data=_audit_data(locked, refund_yen=amount_yen, refunded_yen=total, reason=reason),
        )
    _refresh(payment, locked)
    return refund


def payment_cancel(*, payment: Payment, actor: User | None) -> Payment:
    """The resident or staff gave up before paying (``created``/``pending`` → ``cancelled``)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        _move(locked, Status.CANCELLED)
        audit_record(actor=actor, action="payment.cancel", target=locked, data=_audit_data(locked))
    _refresh(payment, locked)
    return locked
