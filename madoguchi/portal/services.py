"""Writes of the resident portal: the contact details a resident may change, and
consents. Each function does its whole change in one ``transaction.atomic`` with an
audit record per change.

The registry record (基本4情報 and household) is read-only here: it changes only
through a 住民異動届 processed by the ward. What the resident may change are the
telephone number (``Resident.phone``, used to prefill forms) and the display language
(``User.preferred_language``). Audit records name the fields that changed; the
language codes are kept, the telephone number is not (no personal data in the log).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from madoguchi.core.audit import audit_record
from madoguchi.core.models import Resident, User
from madoguchi.forms.fields import format_phone, normalize_phone
from madoguchi.portal.models import Consent
from madoguchi.portal.purposes import PURPOSES


def clean_phone(text: str) -> str | None:
    """``text`` as a formatted Japanese telephone number (``090-1234-5678``), ``""``
    for an empty one, or None if it cannot be a telephone number."""
    if not text.strip():
        return ""
    digits = normalize_phone(text)
    return None if digits is None else format_phone(digits)


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def profile_contact_update(*, user: User, phone: str | None, preferred_language: str) -> list[str]:
    """Save the resident's telephone number (None: leave it, as for an account with no
    registry record) and display language. Returns the names of the fields that
    changed (``phone``, ``preferred_language``); raises ``ValueError`` for a value that
    is not valid."""
    if preferred_language not in language_codes():
        raise ValueError(f"unknown language: {preferred_language!r}")
    formatted = clean_phone(phone) if phone is not None else None
    if phone is not None and formatted is None:
        raise ValueError("not a telephone number")
    changed: list[str] = []
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        if formatted is not None:
            if account.resident_id is None:
                raise ValueError("the account has no registry record")
            resident = Resident.objects.select_for_update().get(pk=account.resident_id)
            if resident.phone != formatted:
                resident.phone = formatted
                resident.save(update_fields=["phone"])
                audit_record(
                    actor=account,
                    action="portal.phone_changed",
                    target=resident,
                    data={"field": "phone", "cleared": formatted == ""},
                )
                changed.append("phone")
        if account.preferred_language != preferred_language:
            previous = account.preferred_language
            account.preferred_language = preferred_language
            account.save(update_fields=["preferred_language"])
            audit_record(
                actor=account,
                action="portal.language_changed",
                target=account,
                data={"field": "preferred_language", "from": previous, "to": preferred_language},
            )
            changed.append("preferred_language")
    user.preferred_language = preferred_language
    return changed


def consent_grant(*, user: User, purpose: str) -> Consent:
    """Record that ``user`` agrees to ``purpose`` in the current version of its text.
    Agreeing again to the same version changes nothing; agreeing to a revised text
    closes the consent to the old version and adds one to the new. Raises
    ``ValueError`` for an unknown purpose."""
    current = PURPOSES.get(purpose)
    if current is None:
        raise ValueError(f"unknown consent purpose: {purpose!r}")
    now = timezone.now()
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()  # serialize this account's consents
            active = Consent.objects.filter(user=user, purpose=purpose, withdrawn_at__isnull=True).first()
            if active is not None and active.text_version == current.version:
                return active
            if active is not None:
                active.withdrawn_at = now
                active.save(update_fields=["withdrawn_at"])
                audit_record(
                    actor=user,
                    action="portal.consent_superseded",
                    target=active,
                    data={"purpose": purpose, "version": active.text_version},
                )
            consent = Consent.objects.create(user=user, purpose=purpose, text_version=current.version, granted_at=now)
            audit_record(
                actor=user,
                action="portal.consent_granted",
                target=consent,
                data={"purpose": purpose, "version": current.version},
            )
            return consent
    except IntegrityError:
        # Granted at the same moment by another request (where row locks are no-ops).
        return Consent.objects.get(user=user, purpose=purpose, withdrawn_at__isnull=True)


def consent_withdraw(*, user: User, purpose: str) -> Consent | None:
    """Withdraw ``user``'s active consent to ``purpose``; None if there was none."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose: {purpose!r}")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = Consent.objects.filter(user=user, purpose=purpose, withdrawn_at__isnull=True).first()
        if active is None:
            return None
        active.withdrawn_at = timezone.now()
        active.save(update_fields=["withdrawn_at"])
        audit_record(
            actor=user,
            action="portal.consent_withdrawn",
            target=active,
            data={"purpose": purpose, "version": active.text_version},
        )
    return active
