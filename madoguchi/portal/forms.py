"""The contact-details form of the profile page, rendered like the account forms
(error summary at the top, error and hint at each field; see ``accounts.forms``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.forms import GovFormMixin
from madoguchi.portal.services import clean_phone


class ContactForm(GovFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("電話番号"),
        required=False,
        max_length=32,
        help_text=_("日中に連絡がとれる番号。例：03-1234-5678、090-1234-5678。空欄にすると削除します。"),
        error_messages={"max_length": _("電話番号を正しく入力してください（例：03-1234-5678、090-1234-5678）。")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("表示言語"),
        choices=[],
        error_messages={
            "required": _("表示言語を選択してください"),
            "invalid_choice": _("表示言語を一覧から選択してください"),
        },
    )

    def __init__(self, *args: Any, with_phone: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preferred_language"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]
        if not with_phone:
            del self.fields["phone"]

    def clean_phone(self) -> str:
        value = clean_phone(self.cleaned_data.get("phone") or "")
        if value is None:
            raise forms.ValidationError(_("電話番号を正しく入力してください（例：03-1234-5678、090-1234-5678）。"))
        return value
