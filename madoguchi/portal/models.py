"""The resident portal's own data: consents.

A ``Consent`` row records that an account agreed to one purpose (``purposes.PURPOSES``)
in one version of its text, and when it was withdrawn. Rows are never deleted or
reused: granting again after a withdrawal, or agreeing to a revised text, adds a new
row, so the history of what was agreed to and when stays complete. At most one row per
account and purpose is active (``withdrawn_at`` empty).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from madoguchi.portal.purposes import PURPOSES


class Consent(models.Model):
    PURPOSE_CHOICES: ClassVar[list[tuple[str, StrOrPromise]]] = [(p.code, p.label) for p in PURPOSES.values()]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("アカウント"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("目的"), max_length=32, choices=PURPOSE_CHOICES)
    text_version = models.CharField(_("同意した文言の版"), max_length=16)
    granted_at = models.DateTimeField(_("同意日時"))
    withdrawn_at = models.DateTimeField(_("撤回日時"), null=True, blank=True)

    objects: ClassVar[models.Manager[Consent]] = models.Manager()

    class Meta:
        verbose_name = _("同意")
        verbose_name_plural = _("同意")
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="portal_one_active_consent_per_purpose",
            )
        ]
        indexes = [models.Index(fields=["user", "purpose"], name="portal_consent_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.purpose} v{self.text_version}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
