"""Reads about accounts: who counts as staff, staff roles, matching identity claims
with the resident registry."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import Q

from madoguchi.accounts.identity.base import IdentityClaims
from madoguchi.core.japanese import normalize
from madoguchi.core.models import Resident, StaffRole, User

#: Accounts created from a My Number Card login get ``<id>@id.invalid`` until the
#: resident registers a real address (``.invalid`` is reserved: mail never goes there).
PLACEHOLDER_EMAIL_DOMAIN = "id.invalid"

_DASHES = re.compile(
    "[\u2010-\u2015\u2212\u30fc\uff0d\uff70](?=[0-9])|(?<=[0-9])[\u2010-\u2015\u2212\u30fc\uff0d\uff70]"
)


def user_get_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def is_staff_account(user: Any) -> bool:
    """Staff for login purposes: ``kind == "staff"``, or anyone allowed into the admin.
    These accounts log in with a password (and TOTP when required), never with an
    identity provider, and need no e-mail verification."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.kind == User.Kind.STAFF or user.is_staff or user.is_superuser)


def user_needs_email(user: User) -> bool:
    return user.email.lower().endswith("@" + PLACEHOLDER_EMAIL_DOMAIN)


def staff_roles_for(user: Any) -> list[StaffRole]:
    """The staff member's roles, one per department, with the department loaded.
    Empty for anyone who is not staff."""
    if not is_staff_account(user):
        return []
    return list(StaffRole.objects.filter(user=user).select_related("department").order_by("department__code"))


def has_staff_role(user: Any, role: str, department: str | None = None) -> bool:
    """True if ``user`` holds ``role`` or a higher one (``StaffRole.RANK``), in the
    department with code ``department`` if given, else in any. Superusers always do."""
    if not is_staff_account(user):
        return False
    if user.is_superuser:
        return True
    needed = StaffRole.RANK[role]
    return any(
        StaffRole.RANK.get(r.role, 0) >= needed
        for r in staff_roles_for(user)
        if department is None or r.department.code == department
    )


def normalize_address(text: str) -> str:
    """Compare addresses loosely: width, spaces, and dash variants between digits."""
    return normalize(_DASHES.sub("-", unicodedata.normalize("NFKC", text)))


def resident_match_for_claims(claims: IdentityClaims) -> list[Resident]:
    """Residents whose 基本4情報 equal the claims: same date of birth and sex, and the
    same name and address after normalization (width, spaces, dashes)."""
    if not claims.has_basic_four or claims.birthdate is None:
        return []
    name = normalize(claims.name)
    address = normalize_address(claims.address)
    candidates = Resident.objects.filter(birth_date=claims.birthdate, sex=claims.gender).select_related("household")
    return [
        r
        for r in candidates
        if normalize(r.family_name + r.given_name) == name and normalize_address(r.household.address) == address
    ]


def demo_idp_resident_choices(*, query: str = "", limit: int = 30) -> list[Resident]:
    """Residents offered as 'cards' on the demo provider's page."""
    qs = Resident.objects.select_related("household").order_by("resident_number")
    if query:
        words = query.split()
        for word in words:
            qs = qs.filter(
                Q(family_name__icontains=word)
                | Q(given_name__icontains=word)
                | Q(family_name_kana__icontains=word)
                | Q(given_name_kana__icontains=word)
            )
    return list(qs[:limit])
