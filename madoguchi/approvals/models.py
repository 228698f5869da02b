"""E-approval (電子決裁): routes, requests going through them, the decisions taken on
them (with their electronic stamps), delegations (代決) and internal documents (起案文書).

Only ``services`` (and ``importer`` for routes) writes these rows.

- ``ApprovalRoute`` + ``RouteStep``: the configured route (``data/routes.yaml``), e.g.
  係長 → 課長, or a 合議 step where several roles or departments must all approve.
- ``ApprovalRequest``: one thing going through a route. Its steps are copied when it
  starts (``route_snapshot`` and one ``ApprovalSlot`` per approver box), so editing
  the route later never changes a running request. ``version`` grows with every
  action (optimistic locking of the forms). A finished request is locked: saving it
  again raises ``Locked``.
- ``ApprovalAction``: append-only; one approve / reject / send back per box, with the
  stamp as it was shown (name, role, department, date) and, for 代決, for whom.
- ``Delegation``: an approver's delegate for a period (代決).
- ``InternalDocument`` + ``DocumentAttachment``: 起案文書 going through the same routes
  (``subject_kind = "document"``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from madoguchi.approvals.machine import FINAL, Action, Status

#: Roles an approval step can name (管理者 is an administrator, not an approver).
APPROVER_ROLES = ("tanto", "kakaricho", "kacho")


class Locked(PermissionError):
    """A finished approval (or an approval record) cannot be changed."""


class StepKind(models.TextChoices):
    SINGLE = "single", _("単独")
    PARALLEL = "parallel", _("合議")


class ApprovalRoute(models.Model):
    """A configured approval route: which steps, for which procedures or departments."""

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("名称（英語）"), max_length=300, blank=True)
    description = models.TextField(_("説明"), blank=True)
    is_default = models.BooleanField(
        _("既定のルート"), default=False, help_text=_("手続き・部署に専用のルートがないときに使います。")
    )
    for_documents = models.BooleanField(_("起案文書に使える"), default=False)
    procedures = models.ManyToManyField(
        "catalog.Procedure", verbose_name=_("手続き"), blank=True, related_name="approval_routes"
    )
    departments = models.ManyToManyField(
        "core.Department", verbose_name=_("部署"), blank=True, related_name="approval_routes"
    )
    active = models.BooleanField(_("使用中"), default=True)
    data_version = models.CharField(_("ルート定義の版"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("決裁ルート")
        verbose_name_plural = _("決裁ルート")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name


class RouteStep(models.Model):
    """One step of a route. ``members`` is a list of ``{"role": ..., "department": ...}``;
    a missing department means the department of the request. A single step has one
    member; a 合議 (parallel) step has two or more, who must all approve."""

    route = models.ForeignKey(
        ApprovalRoute, verbose_name=_("決裁ルート"), on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("順番"))
    kind = models.CharField(_("種類"), max_length=16, choices=StepKind.choices, default=StepKind.SINGLE)
    label = models.CharField(_("表示名"), max_length=100, blank=True)
    members = models.JSONField(_("決裁者"), default=list)

    class Meta:
        verbose_name = _("決裁ルートの段階")
        verbose_name_plural = _("決裁ルートの段階")
        ordering = ("route", "order")
        constraints = (models.UniqueConstraint(fields=("route", "order"), name="route_step_order_unique"),)

    def __str__(self) -> str:
        return f"{self.route.code} #{self.order}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from madoguchi.approvals.importer import step_problems

        problems = step_problems({"kind": self.kind, "members": self.members, "label": self.label})
        if problems:
            raise ValidationError({"members": problems})


class ApprovalRequestQuerySet(models.QuerySet["ApprovalRequest"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(status__in=FINAL).exists():
            raise Locked("a finished approval request cannot be changed")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise Locked("approval requests are kept")


class ApprovalRequest(models.Model):
    """One thing going through an approval route: a case decision, an internal
    document, … named by ``subject_kind`` and ``subject_id``."""

    Status = Status

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    subject_kind = models.CharField(_("対象の種類"), max_length=64)
    subject_id = models.CharField(_("対象のID"), max_length=64)
    title = models.CharField(_("件名"), max_length=200)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("起案部署"), on_delete=models.PROTECT, related_name="approval_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起案者"), on_delete=models.PROTECT, related_name="approval_requests"
    )
    route = models.ForeignKey(
        ApprovalRoute,
        verbose_name=_("決裁ルート"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    route_code = models.CharField(_("決裁ルートのコード"), max_length=64)
    route_name = models.CharField(_("決裁ルートの名称"), max_length=200)
    route_snapshot = models.JSONField(_("開始時の決裁ルート"), default=dict)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PENDING)
    current_step = models.PositiveSmallIntegerField(_("現在の段階"), default=0)
    version = models.PositiveIntegerField(_("版"), default=1)
    started_at = models.DateTimeField(_("起案日時"))
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("決裁")
        verbose_name_plural = _("決裁")
        ordering = ("-started_at", "-pk")
        indexes = (
            models.Index(fields=("subject_kind", "subject_id")),
            models.Index(fields=("status", "department")),
            models.Index(fields=("route_code", "finished_at")),
        )
        constraints = (
            models.CheckConstraint(condition=Q(status__in=Status.values), name="approval_status_valid"),
            models.CheckConstraint(
                condition=Q(status="pending", finished_at__isnull=True)
                | (~Q(status="pending") & Q(finished_at__isnull=False)),
                name="approval_finished_iff_not_pending",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="approval_version_positive"),
            models.UniqueConstraint(
                fields=("subject_kind", "subject_id"),
                condition=Q(status="pending"),
                name="approval_one_pending_per_subject",
            ),
        )

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and type(self).objects.filter(pk=self.pk, status__in=FINAL).exists():
            raise Locked("a finished approval request cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise Locked("approval requests are kept")

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.route_snapshot.get("steps", []))


class ApprovalSlot(models.Model):
    """One approver's box on a running request (a member of a step), copied from the
    route when the request starts. ``skipped``: a leading step the requester's own
    post already covers (a 係長 who drafts skips the 係長 step)."""

    request = models.ForeignKey(ApprovalRequest, verbose_name=_("決裁"), on_delete=models.CASCADE, related_name="slots")
    step_index = models.PositiveSmallIntegerField(_("段階"))
    member_index = models.PositiveSmallIntegerField(_("決裁者の番号"))
    kind = models.CharField(_("種類"), max_length=16, choices=StepKind.choices)
    role = models.CharField(_("役職"), max_length=16)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("部署"), on_delete=models.PROTECT, related_name="approval_slots"
    )
    skipped = models.BooleanField(_("省略"), default=False)

    class Meta:
        verbose_name = _("決裁欄")
        verbose_name_plural = _("決裁欄")
        ordering = ("request", "step_index", "member_index")
        constraints = (
            models.UniqueConstraint(fields=("request", "step_index", "member_index"), name="approval_slot_unique"),
        )
        indexes = (models.Index(fields=("role", "department")),)

    def __str__(self) -> str:
        return f"{self.request_id} {self.step_index}.{self.member_index} {self.role}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise Locked("the boxes of a request are fixed when it starts")
        super().save(*args, **kwargs)


class ApprovalActionQuerySet(models.QuerySet["ApprovalAction"]):
    def update(self, **kwargs: Any) -> int:
        raise Locked("approval actions are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise Locked("approval actions are append-only")


class ApprovalAction(models.Model):
    """A decision on a request (approve / reject / send back, in an approver's box)
    or its withdrawal by the requester. Append-only."""

    Action = Action

    request = models.ForeignKey(
        ApprovalRequest, verbose_name=_("決裁"), on_delete=models.PROTECT, related_name="actions"
    )
    slot = models.OneToOneField(
        ApprovalSlot,
        verbose_name=_("決裁欄"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="action",
    )
    step_index = models.PositiveSmallIntegerField(_("段階"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作した職員"), on_delete=models.PROTECT, related_name="+"
    )
    acting_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代決の対象（本来の決裁者）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("コメント"), blank=True)
    created_at = models.DateTimeField(_("日時"))
    stamp_name = models.CharField(_("印影の氏名"), max_length=200)
    stamp_role = models.CharField(_("印影の役職"), max_length=50, blank=True)
    stamp_department = models.CharField(_("印影の部署"), max_length=100, blank=True)
    stamp_date = models.DateField(_("印影の日付"))
    acting_for_name = models.CharField(_("代決の対象の氏名"), max_length=200, blank=True)

    objects = ApprovalActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("決裁の記録")
        verbose_name_plural = _("決裁の記録")
        ordering = ("created_at", "pk")
        constraints = (
            models.CheckConstraint(condition=Q(action__in=Action.values), name="approval_action_valid"),
            models.CheckConstraint(
                condition=Q(action="withdraw", slot__isnull=True) | (~Q(action="withdraw") & Q(slot__isnull=False)),
                name="approval_action_slot_iff_decision",
            ),
            models.CheckConstraint(
                condition=Q(acting_for__isnull=True) | ~Q(acting_for=F("actor")),
                name="approval_action_not_acting_for_self",
            ),
        )

    def __str__(self) -> str:
        return f"{self.request_id} {self.action} {self.stamp_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise Locked("approval actions are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise Locked("approval actions are append-only")

    @property
    def is_delegated(self) -> bool:
        return self.acting_for_id is not None


class Delegation(models.Model):
    """``delegate`` may decide in ``approver``'s place (代決) from ``starts_on`` to
    ``ends_on`` (both included), unless cancelled."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("決裁者"), on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代決者"),
        on_delete=models.CASCADE,
        related_name="delegations_received",
    )
    starts_on = models.DateField(_("開始日"))
    ends_on = models.DateField(_("終了日"))
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("設定日時"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("取消日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("代決の設定")
        verbose_name_plural = _("代決の設定")
        ordering = ("-starts_on", "-pk")
        constraints = (
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="delegation_period_valid"),
            models.CheckConstraint(condition=~Q(approver=F("delegate")), name="delegation_not_to_self"),
        )
        indexes = (models.Index(fields=("delegate", "starts_on", "ends_on")),)

    def __str__(self) -> str:
        return f"{self.approver} → {self.delegate} ({self.starts_on}–{self.ends_on})"


class InternalDocument(models.Model):
    """An internal document (起案文書) that goes through an approval route. ``status``
    follows its latest approval request."""

    Status = Status

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("本文"))
    department = models.ForeignKey(
        "core.Department", verbose_name=_("起案部署"), on_delete=models.PROTECT, related_name="internal_documents"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起案者"), on_delete=models.PROTECT, related_name="internal_documents"
    )
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("起案文書")
        verbose_name_plural = _("起案文書")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        decided = (Status.APPROVED, Status.REJECTED)
        if not self._state.adding and type(self).objects.filter(pk=self.pk, status__in=decided).exists():
            raise Locked("a decided document cannot be changed")
        super().save(*args, **kwargs)

    @property
    def revisable(self) -> bool:
        """Sent back or withdrawn: the author may revise it and start it again."""
        return self.status in (Status.SENT_BACK, Status.WITHDRAWN)


def attachment_upload_to(instance: DocumentAttachment, filename: str) -> str:
    extension = ("." + filename.rsplit(".", 1)[-1].lower())[:10] if "." in filename else ""
    return f"approvals/documents/{instance.document.public_id}/{uuid.uuid4().hex}{extension}"


class DocumentAttachment(models.Model):
    """A file attached to an internal document (type and size checked by
    ``services.attachment_check``), served to those who may see the request only."""

    document = models.ForeignKey(
        InternalDocument, verbose_name=_("起案文書"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("ファイル"), upload_to=attachment_upload_to, max_length=300)
    name = models.CharField(_("ファイル名"), max_length=200)
    size = models.PositiveIntegerField(_("サイズ（バイト）"))
    content_type = models.CharField(_("ファイルの種類"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("添付した職員"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("添付日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("添付ファイル")
        verbose_name_plural = _("添付ファイル")
        ordering = ("uploaded_at", "pk")

    def __str__(self) -> str:
        return self.name
