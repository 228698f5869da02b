"""Forms of the reservation pages, rendered like the account pages (error summary at
the top, hint and error at each field). They only parse input; every rule lives in the
services, whose refusals the views put back on the field they concern."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.forms import GovFormMixin
from madoguchi.core.japanese import parse_date
from madoguchi.core.models import Department
from madoguchi.reservations import errors
from madoguchi.reservations.models import Facility, Group, Slot


def add_refusal(form: forms.BaseForm, refusal: errors.Refused) -> None:
    """Show a service's refusal at its field (or at the top of the form)."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


class JapaneseDateField(forms.CharField):
    """A date typed as 2030-06-05, 2030/6/5, 2030年6月5日 or 令和12年6月5日."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> dt.date | None:
        text = super().clean(value)
        if not text:
            return None
        parsed = parse_date(text)
        if parsed is None:
            raise forms.ValidationError(_("日付を 2030-06-05 や 令和12年6月5日 のように入力してください。"))
        return parsed


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("日時を入力してください。"),
                "invalid": _("日時を 2030-06-05 09:00 のように入力してください。"),
            },
        )
        super().__init__(**kwargs)


class BookingForm(GovFormMixin, forms.Form):
    group = forms.TypedChoiceField(label=_("予約する名義"), coerce=str, required=False)
    workplace = forms.CharField(
        label=_("区内の勤務先・学校（区外にお住まいの方）"),
        required=False,
        max_length=100,
        help_text=_("区の住民記録と結びついていないアカウントで、個人として予約する場合に入力してください。"),
    )
    purpose = forms.CharField(
        label=_("利用目的"),
        max_length=200,
        error_messages={"required": _("利用目的を入力してください。")},
        help_text=_("例: 自治会の定例会、合唱の練習"),
    )
    attendees = forms.IntegerField(
        label=_("利用人数"),
        min_value=1,
        max_value=1000,
        error_messages={
            "required": _("利用人数を入力してください。"),
            "invalid": _("利用人数を数字で入力してください。"),
            "min_value": _("利用人数を1人以上で入力してください。"),
            "max_value": _("利用人数を1000人以下で入力してください。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, facility: Facility, groups: Sequence[Group], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        if facility.accepts_individuals:
            choices.append(("", str(_("個人として予約する"))))
        if facility.accepts_groups:
            choices += [(str(g.public_id), str(_("団体: %(name)s") % {"name": g.name})) for g in groups]
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ChoiceField)  # noqa: S101 - declared above
        group_field.choices = choices
        if not facility.accepts_individuals:
            self.fields["group"].required = True
            self.fields["group"].error_messages["required"] = _("予約する団体を選んでください。")


class GroupForm(GovFormMixin, forms.Form):
    name = forms.CharField(
        label=_("団体名"), max_length=100, error_messages={"required": _("団体名を入力してください。")}
    )
    name_kana = forms.CharField(
        label=_("団体名（フリガナ）"),
        max_length=200,
        error_messages={"required": _("団体名のフリガナを入力してください。")},
    )
    activity = forms.CharField(
        label=_("活動内容"), max_length=200, error_messages={"required": _("活動内容を入力してください。")}
    )
    member_count = forms.IntegerField(
        label=_("会員数（代表者を含む）"),
        min_value=1,
        max_value=200,
        error_messages={
            "required": _("会員数を入力してください。"),
            "invalid": _("会員数を数字で入力してください。"),
            "min_value": _("会員数を1人以上で入力してください。"),
            "max_value": _("会員数を200人以下で入力してください。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    rep_phone = forms.CharField(
        label=_("代表者の電話番号"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    rep_name = forms.CharField(
        label=_("代表者の氏名"), max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    rep_birth_date = JapaneseDateField(label=_("代表者の生年月日"), required=False, help_text=_("例: 1980-04-01"))
    rep_address = forms.CharField(
        label=_("代表者の住所"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def __init__(self, *args: Any, has_resident_record: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_resident_record:
            # The representative's identity comes from the resident record.
            for name in ("rep_name", "rep_birth_date", "rep_address"):
                del self.fields[name]


class MemberForm(GovFormMixin, forms.Form):
    name = forms.CharField(
        label=_("会員の氏名"), max_length=100, error_messages={"required": _("会員の氏名を入力してください。")}
    )
    name_kana = forms.CharField(label=_("会員の氏名（フリガナ）"), max_length=200, required=False)
    in_ward = forms.BooleanField(label=_("区内に在住・在勤・在学している"), required=False, initial=True)


def _slot_label(slot: Slot) -> str:
    return f"{slot.room.name} {slot.block.name}（{slot.block.start_time:%H:%M}〜{slot.block.end_time:%H:%M}）"


WEEKDAYS = "月火水木金土日"


def slot_choices(slots: Sequence[Slot]) -> list[tuple[str, Any]]:
    """Choices grouped by date (``<optgroup>``)."""
    grouped: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    for slot in slots:
        day = f"{slot.date.month}/{slot.date.day}（{WEEKDAYS[slot.date.weekday()]}）"
        grouped.setdefault(day, []).append((str(slot.pk), f"{day} {_slot_label(slot)}"))
    return [("", str(_("選択しない"))), *grouped.items()]


class LotteryApplicationForm(GovFormMixin, forms.Form):
    group = forms.TypedChoiceField(
        label=_("申し込む団体"), coerce=str, error_messages={"required": _("申し込む団体を選んでください。")}
    )

    def __init__(self, *args: Any, groups: Sequence[Group], slots: Sequence[Slot], entries: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ChoiceField)  # noqa: S101 - declared above
        group_field.choices = [("", str(_("選択してください"))), *((str(g.public_id), g.name) for g in groups)]
        choices = slot_choices(slots)
        self.entry_numbers = list(range(1, entries + 1))
        for number in self.entry_numbers:
            for rank, label in (("first", _("第1希望")), ("second", _("第2希望"))):
                self.fields[f"entry_{number}_{rank}"] = forms.TypedChoiceField(
                    label=str(label),
                    choices=choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    error_messages={"invalid_choice": _("選んだ枠はこの抽選の対象ではありません。")},
                )

    def entries(self) -> list[tuple[Any, ...]]:
        """``[(number, 1st field, 2nd field)]`` for the template."""
        return [(n, self[f"entry_{n}_first"], self[f"entry_{n}_second"]) for n in self.entry_numbers]

    def choice_pairs(self) -> list[tuple[int | None, int | None]]:
        data = self.cleaned_data
        return [(data.get(f"entry_{n}_first"), data.get(f"entry_{n}_second")) for n in self.entry_numbers]


class LotteryRoundForm(GovFormMixin, forms.Form):
    facility = forms.ModelChoiceField(
        label=_("施設"), queryset=Facility.objects.none(), error_messages={"required": _("施設を選んでください。")}
    )
    month = forms.CharField(
        label=_("対象月"),
        max_length=7,
        help_text=_("例: 2030-07"),
        error_messages={"required": _("対象月を入力してください。")},
    )
    opens_at = LocalDateTimeField(label=_("申込受付開始"))
    closes_at = LocalDateTimeField(label=_("申込受付終了"))
    confirm_deadline = LocalDateTimeField(label=_("当選者の確定・支払期限"))
    first_come_opens_at = LocalDateTimeField(label=_("空き枠の先着順受付開始"))
    max_entries = forms.IntegerField(label=_("1団体の申込枠数"), min_value=1, max_value=20, initial=3)
    max_wins = forms.IntegerField(label=_("1団体の当選枠数（上限）"), min_value=1, max_value=20, initial=2)

    def __init__(self, *args: Any, facilities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        facility_field = self.fields["facility"]
        assert isinstance(facility_field, forms.ModelChoiceField)  # noqa: S101 - declared above
        facility_field.queryset = facilities

    def clean_month(self) -> dt.date:
        text = self.cleaned_data["month"].strip()
        try:
            year, month = (int(part) for part in text.replace("/", "-").split("-"))
            return dt.date(year, month, 1)
        except ValueError as exc:
            raise forms.ValidationError(_("対象月を 2030-07 のように入力してください。")) from exc


class EventForm(GovFormMixin, forms.Form):
    title = forms.CharField(
        label=_("イベント名"), max_length=200, error_messages={"required": _("イベント名を入力してください。")}
    )
    title_kana = forms.CharField(label=_("イベント名（カナ）"), max_length=300, required=False)
    description = forms.CharField(label=_("説明"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    department = forms.ModelChoiceField(
        label=_("担当部署"),
        queryset=Department.objects.none(),
        error_messages={"required": _("担当部署を選んでください。")},
    )
    facility = forms.ModelChoiceField(label=_("会場の施設"), queryset=Facility.objects.none(), required=False)
    place_name = forms.CharField(
        label=_("場所名称"), max_length=200, error_messages={"required": _("場所名称を入力してください。")}
    )
    starts_at = LocalDateTimeField(label=_("開始日時"))
    ends_at = LocalDateTimeField(label=_("終了日時"))
    application_closes_at = LocalDateTimeField(label=_("申込締切"))
    capacity = forms.IntegerField(
        label=_("定員"),
        min_value=1,
        max_value=100000,
        error_messages={"required": _("定員を入力してください。"), "min_value": _("定員を1人以上で入力してください。")},
    )
    fee_yen = forms.IntegerField(label=_("参加費（円、当日会場でお支払い）"), min_value=0, initial=0, required=False)
    organizer = forms.CharField(label=_("主催者"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("連絡先電話番号"), max_length=32, required=False)

    def __init__(self, *args: Any, departments: Any, facilities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("department", departments), ("facility", facilities)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
            field.queryset = queryset


class CheckinForm(GovFormMixin, forms.Form):
    code = forms.CharField(
        label=_("受付コード"),
        max_length=500,
        help_text=_(
            "QRコードを読み取ると自動で入ります。読み取れない場合は、参加者の画面に表示された受付コードを入力してください。"
        ),
        error_messages={"required": _("受付コードを入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class GroupReviewForm(GovFormMixin, forms.Form):
    note = forms.CharField(label=_("審査メモ（登録しない場合は理由）"), max_length=300, required=False)


def today() -> dt.date:
    return timezone.localdate()
