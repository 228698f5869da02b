"""The webhook endpoint: signature check, deduplication, refused transitions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.core.models import AuditEvent
from madoguchi.payments.machine import Status
from madoguchi.payments.models import Payment, PaymentEvent, SandboxCharge
from madoguchi.payments.providers import sandbox
from madoguchi.payments.services import payment_capture

from .conftest import SendEvent, SettledLog, event_body, post_webhook

pytestmark = pytest.mark.django_db


def _reload(payment: Payment) -> Payment:
    return Payment.objects.get(pk=payment.pk)


def test_signed_authorized_webhook_settles_the_payment(
    pending_payment: Payment, send_event: SendEvent, settled_calls: SettledLog
) -> None:
    response = send_event(pending_payment, "authorized")
    assert response.status_code == 200
    assert response.json() == {"outcome": "applied"}
    payment = _reload(pending_payment)
    assert payment.status == Status.AUTHORIZED
    assert payment.settled_at is not None
    assert settled_calls.public_ids() == [payment.public_id]
    assert AuditEvent.objects.filter(action="payment.webhook.applied", target_id=str(payment.pk)).count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=abc",
        "garbage",
        "v1=" + "0" * 64,
    ],
)
def test_bad_or_missing_signature_is_refused_without_change(
    client: Client, pending_payment: Payment, signature: str | None, settled_calls: SettledLog
) -> None:
    response = post_webhook(client, event_body(pending_payment, "authorized"), signature=signature)
    assert response.status_code == 400
    assert _reload(pending_payment).status == Status.PENDING
    assert not PaymentEvent.objects.exists()
    assert settled_calls.public_ids() == []


def test_signature_over_a_different_body_is_refused(client: Client, pending_payment: Payment) -> None:
    genuine = event_body(pending_payment, "failed")
    forged = event_body(pending_payment, "authorized")
    response = post_webhook(client, forged, signature=sandbox.sign(genuine))
    assert response.status_code == 400
    assert _reload(pending_payment).status == Status.PENDING


def test_signature_with_another_secret_is_refused(client: Client, pending_payment: Payment, settings: Any) -> None:
    body = event_body(pending_payment, "authorized")
    settings.PAYMENT_SANDBOX_SECRET = "someone-else"
    signature = sandbox.sign(body)
    settings.PAYMENT_SANDBOX_SECRET = "test-sandbox-secret"
    assert post_webhook(client, body, signature=signature).status_code == 400
    assert _reload(pending_payment).status == Status.PENDING


def test_stale_signature_is_refused(client: Client, pending_payment: Payment) -> None:
    body = event_body(pending_payment, "authorized")
    old = sandbox.sign(body, timestamp=int(time.time()) - sandbox.SIGNATURE_TOLERANCE - 10)
    assert post_webhook(client, body, signature=old).status_code == 400
    assert _reload(pending_payment).status == Status.PENDING


def test_malformed_or_unknown_notifications_are_refused(client: Client, pending_payment: Payment) -> None:
    assert post_webhook(client, b"not json").status_code == 400
    assert post_webhook(client, b"[1, 2]").status_code == 400
    unknown = json.dumps({"id": "evt_x", "type": "payment.authorized", "reference": "sbx_nope"}).encode()
    assert post_webhook(client, unknown).status_code == 400
    assert post_webhook(client, event_body(pending_payment, "authorized"), provider="nosuch").status_code == 404
    assert client.get(reverse("payments:webhook", args=["sandbox"])).status_code == 405
    assert _reload(pending_payment).status == Status.PENDING


def test_duplicate_webhook_is_a_no_op(
    pending_payment: Payment, send_event: SendEvent, settled_calls: SettledLog
) -> None:
    assert send_event(pending_payment, "authorized").json() == {"outcome": "applied"}
    SandboxCharge.objects.filter(reference=pending_payment.provider_reference).update(state="authorized")
    first = send_event(pending_payment, "captured")
    second = send_event(pending_payment, "captured")
    assert first.status_code == second.status_code == 200
    assert first.json() == {"outcome": "applied"}
    assert second.json() == {"outcome": "duplicate"}
    payment = _reload(pending_payment)
    assert payment.status == Status.CAPTURED
    assert payment.captured_yen == 300
    assert PaymentEvent.objects.filter(payment=payment).count() == 2
    assert settled_calls.public_ids() == [payment.public_id]
    assert AuditEvent.objects.filter(action="payment.webhook.applied", target_id=str(payment.pk)).count() == 2
    # A capture requested by staff afterwards changes nothing either.
    payment_capture(payment=payment, actor=None)
    assert _reload(payment).captured_yen == 300


def test_captured_webhook_after_local_capture_is_ignored(
    pending_payment: Payment, send_event: SendEvent, settled_calls: SettledLog
) -> None:
    send_event(pending_payment, "authorized")
    SandboxCharge.objects.filter(reference=pending_payment.provider_reference).update(state="authorized")
    payment_capture(payment=pending_payment, actor=None)
    response = send_event(pending_payment, "captured")
    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored"}
    assert _reload(pending_payment).status == Status.CAPTURED
    assert settled_calls.public_ids() == [pending_payment.public_id]


def test_out_of_order_event_is_recorded_refused_and_applied_on_redelivery(
    pending_payment: Payment, send_event: SendEvent
) -> None:
    early = send_event(pending_payment, "captured")
    assert early.status_code == 409
    assert _reload(pending_payment).status == Status.PENDING
    recorded = PaymentEvent.objects.get(payment=pending_payment)
    assert recorded.outcome == PaymentEvent.Outcome.REFUSED
    assert AuditEvent.objects.filter(action="payment.webhook.refused").count() == 1

    assert send_event(pending_payment, "authorized").status_code == 200
    retried = send_event(pending_payment, "captured")
    assert retried.status_code == 200
    assert retried.json() == {"outcome": "applied"}
    assert _reload(pending_payment).status == Status.CAPTURED
    recorded.refresh_from_db()
    assert recorded.outcome == PaymentEvent.Outcome.APPLIED


def test_illegal_transition_after_settlement_changes_nothing(
    pending_payment: Payment, send_event: SendEvent, settled_calls: SettledLog
) -> None:
    send_event(pending_payment, "authorized")
    assert send_event(pending_payment, "failed").status_code == 409
    assert send_event(pending_payment, "cancelled").status_code == 409
    payment = _reload(pending_payment)
    assert payment.status == Status.AUTHORIZED
    assert settled_calls.public_ids() == [payment.public_id]


def test_amount_mismatch_is_refused(pending_payment: Payment, send_event: SendEvent) -> None:
    response = send_event(pending_payment, "authorized", amount=1)
    assert response.status_code == 409
    assert _reload(pending_payment).status == Status.PENDING
    assert "amount" in PaymentEvent.objects.get().detail


def test_unknown_event_type_is_recorded_and_changes_nothing(pending_payment: Payment, send_event: SendEvent) -> None:
    response = send_event(pending_payment, "dispute_opened")
    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored"}
    assert _reload(pending_payment).status == Status.PENDING


def test_card_data_is_not_stored(client: Client, pending_payment: Payment) -> None:
    data = json.loads(event_body(pending_payment, "authorized"))
    data["card"] = {"number": "4111111111111111", "cvc": "123"}
    data["details"] = [{"pan": "4111111111111111", "brand": "visa"}]
    assert post_webhook(client, json.dumps(data).encode()).status_code == 200
    stored = PaymentEvent.objects.get().payload
    assert "4111" not in json.dumps(stored)
    assert stored["details"] == [{"brand": "visa"}]
