"""API of payments: a resident reads the state of their own payment."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from madoguchi.payments.selectors import payment_get_for_payer

router = Router(tags=["payments"])


class PaymentOut(Schema):
    id: uuid.UUID
    status: str
    status_label: str
    amount_yen: int
    refunded_yen: int
    currency: str
    description: str
    created_at: dt.datetime


class ErrorOut(Schema):
    detail: str


@router.get(
    "/payments/{public_id}",
    response={200: PaymentOut, 404: ErrorOut},
    auth=django_auth,
    summary="Read one of my payments",
)
def payment_detail(request: HttpRequest, public_id: uuid.UUID) -> PaymentOut:
    """Only the payer can read a payment; for anyone else it does not exist (404)."""
    payment = payment_get_for_payer(user=request.user, public_id=public_id)
    return PaymentOut(
        id=payment.public_id,
        status=payment.status,
        status_label=str(payment.get_status_display()),
        amount_yen=payment.amount_yen,
        refunded_yen=payment.refunded_yen,
        currency=payment.currency,
        description=payment.description,
        created_at=payment.created_at,
    )
