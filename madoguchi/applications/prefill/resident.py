"""The ``registry`` source: the resident record (住民記録) linked to the account:
基本4情報, household address and members."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from madoguchi.applications.prefill.base import PrefillSource
from madoguchi.applications.prefill.registry import register
from madoguchi.core.models import Resident, User


@register("registry")
class ResidentRegistrySource(PrefillSource):
    priority = 10
    label = _("住民記録から入力しました")

    def values(self, user: User) -> dict[str, Any]:
        if user.resident_id is None:
            return {}
        resident = Resident.objects.select_related("household").filter(pk=user.resident_id).first()
        if resident is None:
            return {}
        household = resident.household
        values: dict[str, Any] = {
            "resident.family_name": resident.family_name,
            "resident.given_name": resident.given_name,
            "resident.family_name_kana": resident.family_name_kana,
            "resident.given_name_kana": resident.given_name_kana,
            "resident.birth_date": resident.birth_date.isoformat(),
            "resident.sex": resident.sex,
            "household.postal_code": household.postal_code,
            "household.address": household.address,
            "household.members": [
                {
                    "name": {"family": m.family_name, "given": m.given_name},
                    "name_kana": {"family": m.family_name_kana, "given": m.given_name_kana},
                    "birth_date": m.birth_date.isoformat(),
                    "relationship": m.relationship,
                }
                for m in household.members.order_by("resident_number")
            ],
        }
        if resident.phone:
            values["resident.phone"] = resident.phone
        return {k: v for k, v in values.items() if v not in ("", None, [])}
