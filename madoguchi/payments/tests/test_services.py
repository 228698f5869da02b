"""Creating, starting, capturing and refunding payments through the services."""

from __future__ import annotations

import pytest

from madoguchi.accounts.tests.factories import StaffFactory, UserFactory
from madoguchi.core.models import AuditEvent, User
from madoguchi.payments.machine import IllegalTransition, Status
from madoguchi.payments.models import Payment, Refund, SandboxCharge
from madoguchi.payments.services import (
    IdempotencyConflict,
    payment_cancel,
    payment_capture,
    payment_create,
    payment_refund,
    payment_start,
)

from .conftest import PURPOSE, SendEvent, SettledLog, make_payment

pytestmark = pytest.mark.django_db


def _captured(payer: User, send_event: SendEvent, amount_yen: int = 300) -> Payment:
    payment = make_payment(payer, amount_yen=amount_yen)
    assert send_event(payment, "authorized").status_code == 200
    SandboxCharge.objects.filter(reference=payment.provider_reference).update(state="authorized")
    return payment_capture(payment=payment, actor=StaffFactory())


def test_same_idempotency_key_returns_the_same_payment(resident: User) -> None:
    first = make_payment(resident, key="double-click", start=False)
    second = make_payment(resident, key="double-click", start=False)
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.create").count() == 1
    assert first.status == Status.CREATED
    assert first.provider == "sandbox"
    assert first.currency == "JPY"


def test_idempotency_key_reused_for_a_different_fee_is_refused(resident: User) -> None:
    make_payment(resident, key="k1", start=False)
    with pytest.raises(IdempotencyConflict):
        make_payment(resident, key="k1", amount_yen=450, start=False)
    with pytest.raises(IdempotencyConflict):
        make_payment(UserFactory(), key="k1", start=False)
    assert Payment.objects.count() == 1


def test_amount_must_be_positive_and_provider_known(resident: User) -> None:
    with pytest.raises(ValueError):
        make_payment(resident, amount_yen=0, start=False)
    with pytest.raises(KeyError):
        payment_create(
            amount_yen=300,
            description="x",
            purpose=PURPOSE,
            object_id="1",
            payer=resident,
            idempotency_key="k",
            provider="nosuch",
        )


def test_start_moves_to_pending_and_a_second_start_returns_the_same_page(resident: User) -> None:
    payment = make_payment(resident, start=False)
    url = payment_start(payment=payment, return_url="/r/", cancel_url="/c/")
    assert payment.status == Status.PENDING
    assert url.startswith("/payments/sandbox/pay/sbx_")
    assert payment_start(payment=payment, return_url="/r/", cancel_url="/c/") == url
    assert SandboxCharge.objects.count() == 1
    charge = SandboxCharge.objects.get()
    assert (charge.amount_yen, charge.return_url, charge.reference) == (300, "/r/", payment.provider_reference)


def test_sandbox_refuses_to_run_in_production(resident: User, settings: object) -> None:
    from madoguchi.payments.providers.base import ProviderError

    settings.MADOGUCHI_ENV = "production"  # type: ignore[attr-defined]
    payment = make_payment(resident, start=False)
    with pytest.raises(ProviderError):
        payment_start(payment=payment, return_url="/r/", cancel_url="/c/")
    assert Payment.objects.get().status == Status.CREATED


def test_capture_requires_authorization(pending_payment: Payment) -> None:
    with pytest.raises(IllegalTransition):
        payment_capture(payment=pending_payment, actor=None)
    assert Payment.objects.get().status == Status.PENDING


def test_partial_then_full_refund(resident: User, send_event: SendEvent) -> None:
    payment = _captured(resident, send_event, amount_yen=450)
    staff = StaffFactory()
    refund = payment_refund(payment=payment, amount_yen=150, actor=staff, reason="一部返還")
    assert payment.status == Status.PARTIALLY_REFUNDED
    assert payment.refunded_yen == 150
    assert refund.provider_reference.startswith("rf_")
    with pytest.raises(IllegalTransition):
        payment_refund(payment=payment, amount_yen=301, actor=staff)
    payment_refund(payment=payment, amount_yen=300, actor=staff)
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_yen) == (Status.REFUNDED, 450)
    assert SandboxCharge.objects.get().refunded_yen == 450
    with pytest.raises(IllegalTransition):
        payment_refund(payment=payment, amount_yen=1, actor=staff)
    assert Refund.objects.filter(payment=payment).count() == 2
    audit = AuditEvent.objects.filter(action="payment.refund").order_by("id")
    assert [e.data["refund_yen"] for e in audit] == [150, 300]
    assert audit[0].actor == staff


def test_refund_with_the_same_key_refunds_once(resident: User, send_event: SendEvent) -> None:
    payment = _captured(resident, send_event)
    first = payment_refund(payment=payment, amount_yen=100, actor=None, idempotency_key="r1")
    second = payment_refund(payment=payment, amount_yen=100, actor=None, idempotency_key="r1")
    assert first.pk == second.pk
    payment.refresh_from_db()
    assert payment.refunded_yen == 100
    with pytest.raises(IdempotencyConflict):
        payment_refund(payment=payment, amount_yen=50, actor=None, idempotency_key="r1")


def test_refund_of_an_uncaptured_payment_is_refused(pending_payment: Payment) -> None:
    with pytest.raises(IllegalTransition):
        payment_refund(payment=pending_payment, amount_yen=100, actor=None)
    assert not Refund.objects.exists()


def test_cancel_before_paying(pending_payment: Payment, settled_calls: SettledLog) -> None:
    payment_cancel(payment=pending_payment, actor=None)
    assert Payment.objects.get().status == Status.CANCELLED
    with pytest.raises(IllegalTransition):
        payment_cancel(payment=pending_payment, actor=None)
    assert settled_calls.public_ids() == []


def test_a_failing_settled_hook_rolls_back_the_webhook(pending_payment: Payment, send_event: SendEvent) -> None:
    from madoguchi.payments.hooks import on_payment_settled

    def broken(payment: Payment) -> None:
        raise RuntimeError("applications app is down")

    on_payment_settled.connect(PURPOSE, broken)
    try:
        with pytest.raises(RuntimeError):
            send_event(pending_payment, "authorized")
    finally:
        on_payment_settled.disconnect(PURPOSE, broken)
    payment = Payment.objects.get()
    assert (payment.status, payment.settled_at) == (Status.PENDING, None)
    assert not payment.events.exists()
    # The provider's retry then goes through.
    assert send_event(pending_payment, "authorized").status_code == 200
    assert Payment.objects.get().status == Status.AUTHORIZED
