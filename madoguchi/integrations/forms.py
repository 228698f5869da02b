"""Staff forms of the integration pages (API keys, webhooks, export)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.core.models import Department
from madoguchi.integrations.export import CSV, XLSX
from madoguchi.integrations.models import EventType
from madoguchi.integrations.selectors import departments_managed_by, export_procedures_for

MAX_EXPORT_DAYS = 366
MYNUMBER_PERMISSION = "applications.view_mynumber"


class DepartmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ErrorSummaryMixin:
    """``error_summary``: (anchor id, message) for the error summary at the top."""

    def error_summary(self) -> list[tuple[str, str]]:
        form: forms.Form = self  # type: ignore[assignment]
        items: list[tuple[str, str]] = []
        for name, errors in form.errors.items():
            anchor = f"id_{name}" if name in form.fields else "error-summary"
            if name in form.fields and isinstance(
                form.fields[name].widget, forms.CheckboxSelectMultiple | forms.RadioSelect
            ):
                anchor = f"id_{name}_0"
            items.extend((anchor, str(message)) for message in errors)
        return items


class ApiKeyForm(ErrorSummaryMixin, forms.Form):
    name = forms.CharField(
        label=_("名前"),
        max_length=100,
        help_text=_("どのシステムが使うキーか分かる名前にしてください（例：住民記録システム）。"),
        error_messages={"required": _("名前を入力してください。")},
    )
    departments = DepartmentChoiceField(
        label=_("対象の部署"),
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("このキーで読めるのは、選んだ部署の手続きの申請だけです。"),
        error_messages={"required": _("部署を1つ以上選んでください。")},
    )
    can_view_mynumber = forms.BooleanField(
        label=_("マイナンバーを表示する"),
        required=False,
        help_text=_("選ばない場合、マイナンバーは下4桁だけが返されます。"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["departments"].queryset = departments_managed_by(user)  # type: ignore[attr-defined]

    def clean_can_view_mynumber(self) -> bool:
        value = bool(self.cleaned_data.get("can_view_mynumber"))
        if value and not self.user.has_perm(MYNUMBER_PERMISSION):
            raise forms.ValidationError(_("マイナンバーを表示する権限がないため、この設定はできません。"))
        return value


def _http_url(value: str) -> None:
    if urlsplit(value).scheme not in ("http", "https"):
        raise forms.ValidationError(_("http:// または https:// で始まるURLを入力してください。"))


class WebhookForm(ErrorSummaryMixin, forms.Form):
    name = forms.CharField(label=_("名前"), max_length=100, error_messages={"required": _("名前を入力してください。")})
    target_url = forms.URLField(
        label=_("送信先URL"),
        max_length=500,
        assume_scheme="https",
        validators=[_http_url],
        help_text=_("例：https://kikan.example.lg.jp/madoguchi/webhook 。本番では https を使ってください。"),
        error_messages={
            "required": _("送信先URLを入力してください。"),
            "invalid": _("URLの形式が正しくありません。"),
        },
    )
    departments = DepartmentChoiceField(
        label=_("対象の部署"),
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("部署を1つ以上選んでください。")},
    )
    event_types = forms.MultipleChoiceField(
        label=_("通知するイベント"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(EventType.values),
        error_messages={"required": _("イベントを1つ以上選んでください。")},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = departments_managed_by(user)  # type: ignore[attr-defined]


class ExportForm(ErrorSummaryMixin, forms.Form):
    procedure = forms.ChoiceField(
        label=_("手続き"),
        error_messages={"required": _("手続きを選んでください。"), "invalid_choice": _("手続きを選び直してください。")},
    )
    date_from = forms.DateField(
        label=_("受付日（から）"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("開始日を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )
    date_to = forms.DateField(
        label=_("受付日（まで）"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("終了日を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )
    fmt = forms.ChoiceField(
        label=_("形式"),
        choices=[(CSV, _("CSV（UTF-8、Excelで開けます）")), (XLSX, _("Excel（.xlsx）"))],
        widget=forms.RadioSelect,
        initial=CSV,
        error_messages={"required": _("形式を選んでください。")},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        procedures = export_procedures_for(user)
        self.fields["procedure"].choices = [("", _("選択してください"))] + [  # type: ignore[attr-defined]
            (p.code, f"{p.name}（{p.department.name}）") for p in procedures
        ]
        today = timezone.localdate()
        self.fields["date_from"].initial = today.replace(day=1)
        self.fields["date_to"].initial = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("終了日は開始日より後の日付にしてください。"))
            elif (end - start).days >= MAX_EXPORT_DAYS:
                self.add_error("date_to", _("期間は1年以内にしてください。"))
        return data
