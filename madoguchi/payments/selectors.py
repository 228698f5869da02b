"""Reads of payments. Access is decided here: a resident sees only their own payments."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from madoguchi.core.models import User
from madoguchi.payments.models import Payment


def payment_get_for_payer(*, user: User | AnonymousUser, public_id: uuid.UUID | str) -> Payment:
    """The payment ``public_id`` if ``user`` is its payer; :class:`Http404` otherwise
    (also for anonymous users and malformed ids, so nothing tells them apart)."""
    if not user.is_authenticated:
        raise Http404
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404 from exc
    payment = Payment.objects.filter(public_id=key, payer=user).first()
    if payment is None:
        raise Http404
    return payment


def payment_list_for_object(*, purpose: str, object_id: str) -> list[Payment]:
    """Every payment for one thing paid for, newest first."""
    return list(Payment.objects.filter(purpose=purpose, object_id=object_id))
