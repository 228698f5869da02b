"""Form definitions of online applications, one row per version of a procedure's form.

A definition is data (see ``data/*.yaml`` and ``schema.py``). ``forms_import`` adds a
new published version when a file changed; an application keeps a reference to the
version it was made with, so a published version never changes: ``save`` refuses to
alter one, and only a draft can be published.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


def definition_checksum(definition: Any) -> str:
    """SHA-256 of the definition as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PUBLISHED = "published", _("公開中")


class PublishedFormIsImmutable(Exception):
    """A published form version cannot be changed; import a new version instead."""


class FormDefinition(models.Model):
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("手続き"), on_delete=models.PROTECT, related_name="form_definitions"
    )
    version = models.PositiveIntegerField(_("版"))
    definition = models.JSONField(_("定義"))
    status = models.CharField(_("状態"), max_length=16, choices=FormStatus.choices, default=FormStatus.DRAFT)
    checksum = models.CharField(_("ハッシュ"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    published_at = models.DateTimeField(_("公開日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("申請フォーム定義")
        verbose_name_plural = _("申請フォーム定義")
        ordering = ["procedure", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "version"], name="forms_unique_procedure_version"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_id} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self)._default_manager.filter(pk=self.pk).values("status", "checksum").first()
            if stored and stored["status"] == FormStatus.PUBLISHED:
                raise PublishedFormIsImmutable(f"{self} is published and cannot change")
        self.checksum = definition_checksum(self.definition)
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == FormStatus.PUBLISHED
