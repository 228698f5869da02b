"""Cases (案件): the ward's handling of a submitted application.

A case is opened in the same transaction as the application is submitted (see
``receivers.py``), one per application. ``status`` and ``channel`` mirror the
application's (the applications app owns the state machine; the mirror is updated in
the transaction of every change) so that the department inbox is one indexed query.
``version`` grows with every change: a form carries the version it was shown with and
a stale one is refused (two staff on one case). A decided case is locked.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.applications.machine import LOCKED, Status
from madoguchi.applications.models import Channel


class Outcome(models.TextChoices):
    GRANTED = "granted", _("承認・交付")
    REFUSED = "refused", _("却下")


class Case(models.Model):
    application = models.OneToOneField(
        "applications.Application", verbose_name=_("申請"), on_delete=models.PROTECT, related_name="case"
    )
    reference_number = models.CharField(_("受付番号"), max_length=20, unique=True)
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("手続き"), on_delete=models.PROTECT, related_name="cases"
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("担当部署"), on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(_("状態"), max_length=32, choices=Status.choices, default=Status.SUBMITTED)
    channel = models.CharField(_("受付方法"), max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    applicant_name = models.CharField(_("申請者の氏名"), max_length=200, blank=True)
    applicant_kana = models.CharField(_("申請者のフリガナ"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("受付日時"), default=timezone.now)
    due_at = models.DateTimeField(_("処理期限"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("担当者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    version = models.PositiveIntegerField(_("版"), default=1)
    outcome = models.CharField(_("決定の内容"), max_length=16, choices=Outcome.choices, blank=True)
    decision_reason = models.TextField(_("決定の理由"), blank=True)
    decided_at = models.DateTimeField(_("決定日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    notice_file = models.CharField(_("決定通知書"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ("-received_at", "-pk")
        indexes = (
            models.Index(fields=("department", "status", "received_at"), name="case_inbox"),
            models.Index(fields=("department", "received_at"), name="case_inbox_all"),
            models.Index(fields=("department", "assignee", "status"), name="case_assignee"),
            models.Index(fields=("department", "due_at"), name="case_due"),
            models.Index(fields=("procedure", "received_at"), name="case_procedure"),
            models.Index(fields=("applicant_kana",), name="case_kana"),
        )
        permissions = (("view_all_departments", _("すべての部署の案件を閲覧できる")),)

    def __str__(self) -> str:
        return self.reference_number

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)


class CaseEvent(models.Model):
    """The staff-side history of a case: receipt, assignment, status changes, internal
    notes (メモ), corrections, views of the resident's record, decisions."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("受付")
        ASSIGNED = "assigned", _("担当者の設定")
        STATUS = "status", _("状態の変更")
        NOTE = "note", _("メモ")
        CORRECTION = "correction", _("補正依頼")
        RESUBMITTED = "resubmitted", _("補正後の再提出")
        RECORD_VIEWED = "record_viewed", _("住民記録の閲覧")
        DECISION = "decision", _("決定")
        APPROVAL = "approval", _("決裁")
        NOTICE = "notice", _("通知書の交付")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("種類"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("職員"), null=True, blank=True, on_delete=models.SET_NULL
    )
    message = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("詳細"), default=dict, blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("案件の履歴")
        verbose_name_plural = _("案件の履歴")
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CounterVisit(models.Model):
    """書かない窓口: one visit of a resident to the counter. Staff find the resident,
    start one or several procedures prefilled from the record, and the resident checks
    everything on the second screen (a tablet at the counter, paired with a short
    code) and signs; then every application of the visit is submitted at once with the
    channel 窓口."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("準備中")
        AWAITING = "awaiting", _("確認待ち")
        CONFIRMED = "confirmed", _("確認済み")
        CANCELLED = "cancelled", _("取りやめ")

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey("core.Resident", verbose_name=_("住民"), on_delete=models.PROTECT)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("職員"), on_delete=models.PROTECT, related_name="counter_visits"
    )
    department = models.ForeignKey("core.Department", verbose_name=_("部署"), on_delete=models.PROTECT)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PREPARING)
    applications = models.ManyToManyField(
        "applications.Application", verbose_name=_("申請"), related_name="counter_visits", blank=True
    )
    pairing_code = models.CharField(_("確認画面の番号"), max_length=6, blank=True, db_index=True)
    pairing_expires_at = models.DateTimeField(_("番号の有効期限"), null=True, blank=True)
    signature = models.TextField(_("署名"), blank=True)
    signed_name = models.CharField(_("署名（氏名）"), max_length=100, blank=True)
    confirmed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("開始日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("書かない窓口の来庁")
        verbose_name_plural = _("書かない窓口の来庁")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.resident} {self.created_at:%Y-%m-%d}"
