"""Signal receivers: every logout is audited, including the admin's own logout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from madoguchi.accounts import services
from madoguchi.core.models import User


@receiver(user_logged_out, dispatch_uid="madoguchi.accounts.record_logout")
def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User) and user.pk:
        services.logout_record(user=user)
