from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import UserFactory
from madoguchi.core.audit import audit_record
from madoguchi.core.models import AuditEvent, User
from madoguchi.payments.hooks import on_payment_settled
from madoguchi.payments.models import Payment
from madoguchi.payments.providers import sandbox
from madoguchi.payments.services import payment_create, payment_start

PURPOSE = "test-purpose"


@pytest.fixture(autouse=True)
def _payments_test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.PAYMENT_SANDBOX_SECRET = "test-sandbox-secret"


@pytest.fixture
def resident(db: Any) -> User:
    return UserFactory()


class SettledLog:
    """What the ``on_payment_settled`` hook of :data:`PURPOSE` did, as committed to the
    database. The hook writes a row, as a real one would: a hook call whose transaction
    rolled back (and is retried) leaves nothing behind."""

    ACTION = "test.payment_settled"

    def public_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(e.data["public_id"]) for e in AuditEvent.objects.filter(action=self.ACTION).order_by("seq")]


@pytest.fixture
def settled_calls() -> Iterator[SettledLog]:
    def record(payment: Payment) -> None:
        audit_record(actor=None, action=SettledLog.ACTION, target=payment, data={"public_id": str(payment.public_id)})

    on_payment_settled.connect(PURPOSE, record)
    yield SettledLog()
    on_payment_settled.disconnect(PURPOSE, record)


def make_payment(payer: User | None, *, amount_yen: int = 300, key: str | None = None, start: bool = True) -> Payment:
    payment = payment_create(
        amount_yen=amount_yen,
        description="住民票の写し 1通",
        purpose=PURPOSE,
        object_id="42",
        payer=payer,
        idempotency_key=key or f"key-{uuid.uuid4()}",
    )
    if start:
        back = reverse("payments:return", args=[payment.public_id])
        payment_start(payment=payment, return_url=back, cancel_url=back, actor=payer)
    return payment


@pytest.fixture
def pending_payment(resident: User) -> Payment:
    return make_payment(resident)


def event_body(payment: Payment, event_type: str, *, event_id: str | None = None, amount: int | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{payment.provider_reference}_{event_type}",
            "type": f"payment.{event_type}",
            "reference": payment.provider_reference,
            "amount": payment.amount_yen if amount is None else amount,
        }
    ).encode()


def post_webhook(client: Client, body: bytes, signature: str | None = "sign", provider: str = "sandbox") -> Any:
    headers = {}
    if signature == "sign":
        headers["HTTP_X_SANDBOX_SIGNATURE"] = sandbox.sign(body)
    elif signature is not None:
        headers["HTTP_X_SANDBOX_SIGNATURE"] = signature
    return client.post(
        reverse("payments:webhook", args=[provider]), data=body, content_type="application/json", **headers
    )


SendEvent = Callable[..., Any]


@pytest.fixture
def send_event(client: Client) -> SendEvent:
    def send(payment: Payment, event_type: str, **kwargs: Any) -> Any:
        return post_webhook(client, event_body(payment, event_type, **kwargs))

    return send
