from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SandboxPayForm(forms.Form):
    """The test cards on the sandbox's payment page."""

    use_required_attribute = False

    choice = forms.ChoiceField(
        label=_("テスト用のカード"),
        choices=[
            ("approve", _("承認される（成功）")),
            ("decline", _("カード会社に拒否される")),
            ("cancel", _("キャンセル")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("テスト用のカードを選んでください。")},
    )

    def error_summary(self) -> list[tuple[str, str]]:
        """``(anchor id, message)`` for every error, each linked to its field."""
        return [
            (self[name].id_for_label or f"id_{name}_0", str(msg)) for name, errs in self.errors.items() for msg in errs
        ]
