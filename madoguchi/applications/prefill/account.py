"""The ``account`` source: the e-mail address of the logged-in account."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from madoguchi.applications.prefill.base import PrefillSource
from madoguchi.applications.prefill.registry import register
from madoguchi.core.models import User


@register("account")
class AccountSource(PrefillSource):
    priority = 20
    label = _("アカウントの登録内容から入力しました")

    def values(self, user: User) -> dict[str, Any]:
        return {"account.email": user.email} if user.email else {}
