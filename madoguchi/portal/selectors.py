"""Reads for the resident portal, with access decided here: every function takes the
logged-in account and returns only that account's data.

``consent_given(user, purpose)`` is the one function other apps call (for example
before prefilling a form from the resident registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from madoguchi.core.models import Resident, User
from madoguchi.portal.models import Consent
from madoguchi.portal.purposes import PURPOSES, Purpose


def consent_given(user: Any, purpose: str) -> bool:
    """Whether ``user`` has an active consent to ``purpose`` in the current version of
    its text. False for anonymous users, unknown purposes and consents to an older
    version of the text."""
    current = PURPOSES.get(purpose)
    if current is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    return Consent.objects.filter(
        user=user, purpose=purpose, withdrawn_at__isnull=True, text_version=current.version
    ).exists()


@dataclass(frozen=True)
class ConsentStatus:
    purpose: Purpose
    active: Consent | None

    @property
    def given(self) -> bool:
        """Agreed to the current text."""
        return self.active is not None and self.active.text_version == self.purpose.version

    @property
    def needs_renewal(self) -> bool:
        """Agreed, but to an older version of the text."""
        return self.active is not None and not self.given


def consent_statuses(user: User) -> list[ConsentStatus]:
    """Every purpose, in the order of ``PURPOSES``, with ``user``'s active consent."""
    active = {c.purpose: c for c in Consent.objects.filter(user=user, withdrawn_at__isnull=True)}
    return [ConsentStatus(purpose=p, active=active.get(p.code)) for p in PURPOSES.values()]


def consent_history(user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).order_by("-granted_at", "-pk")


def resident_for_user(user: User) -> Resident | None:
    """The registry record linked to ``user`` (with its household), or None."""
    if user.resident_id is None:
        return None
    return Resident.objects.select_related("household").filter(pk=user.resident_id).first()


def household_members(resident: Resident) -> QuerySet[Resident]:
    """Everyone in ``resident``'s household (the resident included), in registry order."""
    return Resident.objects.filter(household_id=resident.household_id).order_by("resident_number", "pk")
