"""Logging staff access to residents' data (who booked, who registered)."""

from __future__ import annotations

from django.db import models, transaction

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User


def staff_viewed(*, actor: User, target: models.Model | None, what: str) -> None:
    """Record that ``actor`` looked at residents' data shown on a staff page."""
    with transaction.atomic():
        audit_record(actor=actor, action="reservations.staff.viewed", target=target, data={"what": what})
