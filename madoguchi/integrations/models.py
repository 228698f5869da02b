"""Integration with core systems (基幹系): API keys for the case API, webhook
subscriptions and their deliveries.

Only ``services`` writes these rows.

``ApiKey``: a core system's credential for ``/api/v1/cases``. The key itself
(``mdg_<prefix>_<secret>``) is shown once when it is created; only ``prefix`` (to find
the row) and the SHA-256 of the whole key are kept. A key sees the received
applications of its ``departments`` only; マイナンバー is shown in full only with
``can_view_mynumber``. A revoked key (``revoked_at``) is refused.

``WebhookSubscription``: a URL that is told (HTTP POST, signed with HMAC-SHA256) when an
application of one of its ``departments`` is submitted or changes status. The signing
secret is kept encrypted (``core.crypto``), because every delivery needs it.

``WebhookDelivery``: one event for one subscription, written in the transaction of the
change it describes (transactional outbox) and delivered by the worker with retries;
``WebhookAttempt`` logs every HTTP attempt. Payloads hold no personal data: a receiver
reads the application through the case API.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SUBMITTED = "application.submitted", _("申請の受付")
    STATUS_CHANGED = "application.status_changed", _("申請の状態の変更")


class ApiKey(models.Model):
    name = models.CharField(_("名前"), max_length=100)
    departments = models.ManyToManyField(
        "core.Department", verbose_name=_("対象の部署"), related_name="integration_api_keys"
    )
    prefix = models.CharField(_("キーの接頭辞"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("キーのハッシュ"), max_length=64, editable=False)
    can_view_mynumber = models.BooleanField(_("マイナンバーを表示できる"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成した人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("APIキー")
        verbose_name_plural = _("APIキー")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookSubscription(models.Model):
    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名前"), max_length=100)
    departments = models.ManyToManyField(
        "core.Department", verbose_name=_("対象の部署"), related_name="integration_webhooks"
    )
    target_url = models.URLField(_("送信先URL"), max_length=500)
    secret_encrypted = models.TextField(_("署名用の秘密鍵（暗号化）"), editable=False)
    event_types = models.JSONField(_("通知するイベント"), default=list)
    is_active = models.BooleanField(_("有効"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成した人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    disabled_at = models.DateTimeField(_("停止日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook")
        verbose_name_plural = _("Webhook")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.name} → {self.target_url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("送信待ち")
        DELIVERED = "delivered", _("送信済み")
        FAILED = "failed", _("失敗")

    public_id = models.UUIDField(_("配信ID"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("Webhook"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("イベントID"), db_index=True)
    event_type = models.CharField(_("イベント"), max_length=64, choices=EventType.choices)
    reference_number = models.CharField(_("受付番号"), max_length=20, blank=True)
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("試行回数"), default=0)
    next_attempt_at = models.DateTimeField(_("次の試行日時"))
    last_status_code = models.PositiveIntegerField(_("最後の応答コード"), null=True, blank=True)
    last_error = models.CharField(_("最後のエラー"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhookの配信")
        verbose_name_plural = _("Webhookの配信")
        ordering = ("-created_at", "-pk")
        indexes = (models.Index(fields=("status", "next_attempt_at")),)
        constraints = (
            models.UniqueConstraint(fields=("subscription", "event_id"), name="webhook_one_delivery_per_event"),
        )

    def __str__(self) -> str:
        return f"{self.event_type} {self.public_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery (the delivery log)."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("配信"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("回数"))
    at = models.DateTimeField(_("日時"))
    status_code = models.PositiveIntegerField(_("応答コード"), null=True, blank=True)
    error = models.CharField(_("エラー"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("所要時間（ミリ秒）"), default=0)

    class Meta:
        verbose_name = _("Webhookの送信試行")
        verbose_name_plural = _("Webhookの送信試行")
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
