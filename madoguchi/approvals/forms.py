"""Forms of the e-approval pages, rendered like the account pages (an error summary
that links to each field; hints and errors tied to their input). Browser validation
is off so that every message comes from the server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.forms import GovFormMixin
from madoguchi.approvals import services
from madoguchi.approvals.exceptions import AttachmentRefused
from madoguchi.approvals.machine import Action
from madoguchi.approvals.models import ApprovalRoute, DocumentAttachment
from madoguchi.core.models import Department, User


class ActForm(GovFormMixin, forms.Form):
    action = forms.ChoiceField(
        label=_("決裁の内容"),
        choices=[
            (Action.APPROVE.value, _("承認する")),
            (Action.SEND_BACK.value, _("差し戻す（起案者に戻して修正を求める）")),
            (Action.REJECT.value, _("否決する")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("決裁の内容を選んでください"), "invalid_choice": _("決裁の内容を選んでください")},
    )
    comment = forms.CharField(
        label=_("コメント"),
        required=False,
        max_length=services.MAX_COMMENT,
        help_text=_("差戻し・否決のときは理由を必ず書いてください。"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("コメントは2000文字以内で入力してください")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def error_summary(self) -> list[tuple[str, str]]:
        # A radio group's label points nowhere; link its errors to its first radio.
        return [(anchor or "id_action_0", message) for anchor, message in super().error_summary()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in (Action.REJECT, Action.SEND_BACK) and not (data.get("comment") or "").strip():
            self.add_error("comment", _("差戻し・否決の理由を入力してください"))
        return data


class WithdrawForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files from one ``<input type="file" multiple>``, each checked with
    ``services.attachment_check``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d is not None and d != ""]
        if any(not hasattr(upload, "name") or not hasattr(upload, "size") for upload in uploads):
            raise ValidationError(_("ファイルを添付し直してください"), code="invalid")
        errors = []
        for i, upload in enumerate(uploads):
            try:
                services.attachment_check(upload, count=i + 1)
            except AttachmentRefused as exc:
                errors.append(str(exc))
        if errors:
            raise ValidationError(errors)
        return uploads


class DocumentForm(GovFormMixin, forms.Form):
    title = forms.CharField(
        label=_("件名"),
        max_length=200,
        error_messages={
            "required": _("件名を入力してください"),
            "max_length": _("件名は200文字以内で入力してください"),
        },
    )
    body = forms.CharField(
        label=_("本文"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("起案の理由、内容、予算・日程などを書いてください。"),
        error_messages={
            "required": _("本文を入力してください"),
            "max_length": _("本文は20000文字以内で入力してください"),
        },
    )
    department = forms.ModelChoiceField(
        label=_("起案部署"),
        queryset=Department.objects.none(),
        empty_label=None,
        error_messages={"required": _("起案部署を選んでください"), "invalid_choice": _("起案部署を選んでください")},
    )
    route = forms.ModelChoiceField(
        label=_("決裁ルート"),
        queryset=ApprovalRoute.objects.none(),
        required=False,
        empty_label=_("部署の標準ルート"),
        help_text=_("他の課と合議する文書は、合議のあるルートを選んでください。"),
        error_messages={"invalid_choice": _("決裁ルートを一覧から選んでください")},
    )
    attachments = AttachmentsField(
        label=_("添付ファイル"),
        help_text=_("PDF、画像（PNG・JPEG）、Word、Excel、テキスト、CSV。1ファイル10 MBまで、10件まで。"),
    )

    def __init__(self, *args: Any, user: User, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        dept_field = self.fields["department"]
        assert isinstance(dept_field, forms.ModelChoiceField)  # noqa: S101 - declared above
        dept_field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments]).order_by("code")
        route_field = self.fields["route"]
        assert isinstance(route_field, forms.ModelChoiceField)  # noqa: S101 - declared above
        route_field.queryset = ApprovalRoute.objects.filter(active=True, for_documents=True).order_by("code")


class AttachmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ResubmitForm(DocumentForm):
    remove = AttachmentChoiceField(
        label=_("削除する添付ファイル"),
        queryset=DocumentAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, attachments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        remove = self.fields["remove"]
        assert isinstance(remove, forms.ModelMultipleChoiceField)  # noqa: S101 - declared above
        remove.queryset = attachments
        self.fields["department"].disabled = True


class DelegationForm(GovFormMixin, forms.Form):
    delegate = forms.ModelChoiceField(
        label=_("代決者"),
        queryset=User.objects.none(),
        empty_label=_("選んでください"),
        help_text=_("同じ部署の職員から選びます。"),
        error_messages={"required": _("代決者を選んでください"), "invalid_choice": _("代決者を一覧から選んでください")},
    )
    starts_on = forms.DateField(
        label=_("開始日"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("例: 2026-12-01"),
        error_messages={
            "required": _("開始日を入力してください"),
            "invalid": _("開始日を 2026-12-01 の形で入力してください"),
        },
    )
    ends_on = forms.DateField(
        label=_("終了日"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("この日まで代決できます。"),
        error_messages={
            "required": _("終了日を入力してください"),
            "invalid": _("終了日を 2026-12-01 の形で入力してください"),
        },
    )
    reason = forms.CharField(
        label=_("理由（任意）"),
        required=False,
        max_length=200,
        help_text=_("例: 出張、休暇"),
        error_messages={"max_length": _("理由は200文字以内で入力してください")},
    )

    def __init__(self, *args: Any, choices: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["delegate"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = User.objects.filter(pk__in=[u.pk for u in choices]).order_by("display_name", "email")
        today = timezone.localdate()
        self.fields["starts_on"].initial = today
        self.fields["ends_on"].initial = today + dt.timedelta(days=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("終了日は開始日と同じ日か、それより後の日にしてください。"))
        return data


class ReportForm(GovFormMixin, forms.Form):
    department = forms.ModelChoiceField(
        label=_("部署"),
        queryset=Department.objects.order_by("code"),
        required=False,
        empty_label=_("すべての部署"),
        error_messages={"invalid_choice": _("部署を一覧から選んでください")},
    )
    since = forms.DateField(
        label=_("この日以降に終わった決裁"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("空欄ならすべての期間です。"),
        error_messages={"invalid": _("日付を 2026-12-01 の形で入力してください")},
    )
