"""Fees paid online: the payment, the provider's notifications about it, refunds.

Only ``services`` writes these rows. ``Payment.status`` moves only along the table in
``machine.py``. ``SandboxCharge`` is the state of the local sandbox provider, which
plays the part of an outside payment company; a real provider keeps that state itself.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from madoguchi.payments.machine import Status


class Payment(models.Model):
    """One fee to pay, e.g. 住民票の写し 300円 for one application."""

    Status = Status

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    amount_yen = models.PositiveIntegerField(_("金額（円）"))
    currency = models.CharField(_("通貨"), max_length=3, default="JPY", editable=False)
    description = models.CharField(_("内容"), max_length=200)
    provider = models.CharField(_("決済事業者"), max_length=50)
    provider_reference = models.CharField(_("決済事業者の参照番号"), max_length=200, blank=True)
    redirect_url = models.CharField(_("支払い画面のURL"), max_length=2000, blank=True)
    status = models.CharField(_("状態"), max_length=32, choices=Status.choices, default=Status.CREATED)
    captured_yen = models.PositiveIntegerField(_("売上確定額（円）"), default=0)
    refunded_yen = models.PositiveIntegerField(_("返金額（円）"), default=0)
    idempotency_key = models.CharField(_("冪等キー"), max_length=100, unique=True)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("支払者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    purpose = models.CharField(_("支払いの対象の種類"), max_length=64)
    object_id = models.CharField(_("支払いの対象のID"), max_length=64)
    settled_at = models.DateTimeField(_("支払い確認日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("支払い")
        verbose_name_plural = _("支払い")
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("purpose", "object_id")),)
        constraints = (
            models.CheckConstraint(condition=Q(amount_yen__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(currency="JPY"), name="payment_currency_jpy"),
            models.CheckConstraint(condition=Q(captured_yen__lte=F("amount_yen")), name="payment_captured_le_amount"),
            models.CheckConstraint(
                condition=Q(refunded_yen__lte=F("captured_yen")), name="payment_refunded_le_captured"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="payment_status_valid"),
            models.UniqueConstraint(
                fields=("provider", "provider_reference"),
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.description} {self.amount_yen}円 ({self.get_status_display()})"

    @property
    def refundable_yen(self) -> int:
        return self.captured_yen - self.refunded_yen


class PaymentEvent(models.Model):
    """A notification (webhook) from a provider, kept once per provider event id: a
    retried or duplicated delivery finds its row and changes nothing."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("反映済み")
        IGNORED = "ignored", _("変更なし")
        REFUSED = "refused", _("拒否")

    payment = models.ForeignKey(Payment, verbose_name=_("支払い"), on_delete=models.PROTECT, related_name="events")
    provider = models.CharField(_("決済事業者"), max_length=50)
    event_id = models.CharField(_("イベントID"), max_length=200)
    type = models.CharField(_("種類"), max_length=64)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    outcome = models.CharField(_("処理結果"), max_length=16, choices=Outcome.choices)
    detail = models.CharField(_("詳細"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("受信日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("決済通知")
        verbose_name_plural = _("決済通知")
        ordering = ("received_at", "pk")
        constraints = (models.UniqueConstraint(fields=("provider", "event_id"), name="payment_event_unique"),)

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.type}"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, verbose_name=_("支払い"), on_delete=models.PROTECT, related_name="refunds")
    amount_yen = models.PositiveIntegerField(_("返金額（円）"))
    provider_reference = models.CharField(_("決済事業者の参照番号"), max_length=200, blank=True)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("冪等キー"), max_length=100, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("実行者"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("返金")
        verbose_name_plural = _("返金")
        ordering = ("created_at", "pk")
        constraints = (models.CheckConstraint(condition=Q(amount_yen__gt=0), name="refund_amount_positive"),)

    def __str__(self) -> str:
        return f"{self.amount_yen}円"


class SandboxCharge(models.Model):
    """What the sandbox provider knows about one payment (the provider's side)."""

    class State(models.TextChoices):
        OPEN = "open", _("未払い")
        AUTHORIZED = "authorized", _("承認")
        DECLINED = "declined", _("拒否")
        CANCELLED = "cancelled", _("キャンセル")
        CAPTURED = "captured", _("売上確定")

    reference = models.CharField(_("参照番号"), max_length=64, unique=True)
    amount_yen = models.PositiveIntegerField(_("金額（円）"))
    description = models.CharField(_("内容"), max_length=200)
    return_url = models.CharField(_("戻り先URL"), max_length=2000)
    cancel_url = models.CharField(_("キャンセル時の戻り先URL"), max_length=2000)
    state = models.CharField(_("状態"), max_length=16, choices=State.choices, default=State.OPEN)
    captured_yen = models.PositiveIntegerField(_("売上確定額（円）"), default=0)
    refunded_yen = models.PositiveIntegerField(_("返金額（円）"), default=0)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("サンドボックス決済")
        verbose_name_plural = _("サンドボックス決済")

    def __str__(self) -> str:
        return self.reference
