"""Online applications (申請) made by residents with a form definition.

Only ``services`` writes these rows. ``Application.status`` moves only along the table
in ``machine.py``. ``data`` holds the answers as ``forms.engine.to_stored`` gives them
(マイナンバー as ciphertext); ``form_definition`` is the version the application was
made with and never changes. ``applicant`` is the resident's account; for a form that
allows applying without an account it is empty and ``applicant_email`` holds the
address the signed resume link was sent to. ``ReferenceCounter`` hands out 受付番号 one per year.
``StatusChange`` is the timeline shown to the resident; ``Correction`` is one 補正
request (fields marked by staff with a message, and what the resident changed).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.applications.machine import RECEIVED, Status


class Channel(models.TextChoices):
    ONLINE = "online", _("オンライン")
    COUNTER = "counter", _("窓口")


class Application(models.Model):
    Status = Status

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    reference_number = models.CharField(_("受付番号"), max_length=20, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("手続き"), on_delete=models.PROTECT, related_name="applications"
    )
    form_definition = models.ForeignKey(
        "forms.FormDefinition",
        verbose_name=_("申請フォーム定義"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申請者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    #: An applicant without an account (forms with ``anonymous: true``): the address
    #: that receives the resume link and the notifications.
    applicant_email = models.EmailField(_("申請者のメールアドレス（アカウントなし）"), blank=True)
    #: The language the applicant without an account used (``ja``/``en``), for their mails.
    applicant_language = models.CharField(_("申請者の言語（アカウントなし）"), max_length=8, blank=True)
    #: The site address the applicant without an account used, for the links in their mails.
    link_base_url = models.CharField(_("リンクのアドレス"), max_length=200, blank=True)
    #: The resident agreed on the check page to save changed contact details to the profile.
    profile_write_back = models.BooleanField(_("連絡先をプロフィールに保存"), default=False)
    #: 書かない窓口: the registry entry of the person the counter application is for
    #: (the only link to them when they have no account).
    resident = models.ForeignKey(
        "core.Resident",
        verbose_name=_("住民記録"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="counter_applications",
    )
    status = models.CharField(_("状態"), max_length=32, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField(_("回答"), default=dict, blank=True)
    prefill_sources = models.JSONField(_("自動入力の出典"), default=dict, blank=True)
    current_step = models.CharField(_("現在のステップ"), max_length=64, blank=True)
    completed_steps = models.JSONField(_("入力済みのステップ"), default=list, blank=True)
    channel = models.CharField(_("受付方法"), max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    submission_key = models.CharField(_("送信キー"), max_length=100, unique=True, null=True, blank=True)
    fee_yen = models.PositiveIntegerField(_("手数料（円）"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    submitted_at = models.DateTimeField(_("申請日時"), null=True, blank=True)
    expires_at = models.DateTimeField(_("下書きの保存期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("申請")
        verbose_name_plural = _("申請")
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("applicant", "status")),)
        permissions = (("view_mynumber", _("マイナンバーを表示・出力できる")),)
        constraints = (
            models.CheckConstraint(condition=Q(status__in=Status.values), name="application_status_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_payment", "withdrawn"]) | Q(reference_number__isnull=False),
                name="application_submitted_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(applicant__isnull=False) | ~Q(applicant_email="") | Q(resident__isnull=False),
                name="application_has_applicant",
            ),
        )

    def __str__(self) -> str:
        return self.reference_number or str(self.public_id)

    @property
    def is_anonymous(self) -> bool:
        """Made without an account (access through the signed link and the session)."""
        return self.applicant_id is None

    @property
    def has_page(self) -> bool:
        """Submitted at some time (it has a 受付番号), so it has its own page with the
        status timeline, even when withdrawn since."""
        return self.reference_number is not None

    @property
    def is_received(self) -> bool:
        """Submitted, with a 受付番号 (whatever happened to it since)."""
        return self.status in RECEIVED

    @property
    def definition(self) -> dict[str, object]:
        return dict(self.form_definition.definition)


class StatusChange(models.Model):
    """One step of an application's history, shown to the resident as its timeline.
    ``note`` is a message for the resident (e.g. what to correct); staff-only notes
    belong to the case."""

    application = models.ForeignKey(
        Application, verbose_name=_("申請"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("変更前の状態"), max_length=32, blank=True)
    to_status = models.CharField(_("変更後の状態"), max_length=32, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作した人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.TextField(_("申請者へのお知らせ"), blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("申請の状態の変更")
        verbose_name_plural = _("申請の状態の変更")
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status} → {self.to_status}"

    @property
    def to_status_label(self) -> str:
        return str(Status(self.to_status).label)


class Correction(models.Model):
    """A correction request (補正): staff mark answers with a message; the resident
    changes only those answers and resubmits. ``items`` is a list of ``{"path",
    "message"}`` (a field key, or a path inside it such as ``name.family`` or
    ``members.1.birth_date``); the resident edits the whole top-level field of each
    path. ``before`` and ``after`` hold the stored answers of those fields when the
    request was made and when the resident resubmitted (マイナンバー as ciphertext). At
    most one request per application is open (``resolved_at`` empty)."""

    application = models.ForeignKey(
        Application, verbose_name=_("申請"), on_delete=models.CASCADE, related_name="corrections"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("依頼した職員"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    items = models.JSONField(_("補正する項目"), default=list)
    note = models.TextField(_("申請者へのお知らせ"), blank=True)
    before = models.JSONField(_("補正前の回答"), default=dict, blank=True)
    after = models.JSONField(_("補正後の回答"), default=dict, blank=True)
    created_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("再提出日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("補正依頼")
        verbose_name_plural = _("補正依頼")
        ordering = ("-created_at", "-pk")
        constraints = (
            models.UniqueConstraint(
                fields=("application",), condition=Q(resolved_at__isnull=True), name="application_one_open_correction"
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id}: {len(self.items)}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def field_keys(self) -> list[str]:
        """The top-level field keys the resident may change, in the order marked."""
        keys: list[str] = []
        for item in self.items:
            key = str(item.get("path", "")).split(".")[0]
            if key and key not in keys:
                keys.append(key)
        return keys


class ReferenceCounter(models.Model):
    """The last 受付番号 handed out in a year; locked with ``select_for_update``."""

    year = models.PositiveIntegerField(_("年"), unique=True)
    last = models.PositiveIntegerField(_("最後の番号"), default=0)

    class Meta:
        verbose_name = _("受付番号の採番")
        verbose_name_plural = _("受付番号の採番")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
