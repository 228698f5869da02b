"""Checklists that a logged-in resident saved from the guide, with items ticked off."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedChecklist(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("所有者"), on_delete=models.CASCADE, related_name="checklists"
    )
    event = models.ForeignKey("catalog.LifeEvent", verbose_name=_("ライフイベント"), on_delete=models.PROTECT)
    answers = models.JSONField(_("回答"), default=dict)
    event_date = models.DateField(_("基準日"), null=True, blank=True)
    done = models.JSONField(_("済みの手続き"), default=list, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("保存したチェックリスト")
        verbose_name_plural = _("保存したチェックリスト")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} ({self.event_date or '-'})"
