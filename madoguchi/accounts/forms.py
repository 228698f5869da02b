"""Forms of the account pages, rendered the GOV.UK way (see
``templates/accounts/includes/``): an error summary at the top that links to each
field, and at each field its hint and error, tied to the input by
``aria-describedby`` (``<id>-hint``, ``<id>-error``). Browser validation is off
(``novalidate``, no ``required`` attribute) so every message comes from the server,
in Japanese."""

from __future__ import annotations

import unicodedata
from typing import Any, cast

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from madoguchi.core.models import User

EMAIL_ERRORS = {
    "required": _("メールアドレスを入力してください"),
    "invalid": _("メールアドレスを name@example.jp のような形式で入力してください"),
    "max_length": _("メールアドレスは254文字以内で入力してください"),
}


class GovBoundField(BoundField):
    def build_widget_attrs(self, attrs: dict[str, Any], widget: forms.Widget | None = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        described = []
        if self.help_text:
            described.append(f"{self.auto_id}-hint")
        if self.errors:
            described.append(f"{self.auto_id}-error")
        if described:
            attrs["aria-describedby"] = " ".join(described)
        else:
            attrs.pop("aria-describedby", None)
        return attrs


class GovFormMixin:
    """Error summary entries and accessible field attributes for a Django form."""

    bound_field_class: type[BoundField] | None = GovBoundField
    use_required_attribute = False

    def error_summary(self) -> list[tuple[str, str]]:
        """``(anchor id, message)`` for every error: non-field errors first, each
        linked to the first field; then each field's errors, linked to that field."""
        form = cast(forms.BaseForm, self)
        bound = list(form)
        first_id = bound[0].id_for_label if bound else ""
        entries = [(first_id, str(message)) for message in form.non_field_errors()]
        for field in bound:
            entries += [(field.id_for_label, str(message)) for message in field.errors]
        return entries


def _email_field(autocomplete: str) -> forms.EmailField:
    return forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(
            attrs={"autocomplete": autocomplete, "spellcheck": "false", "autocapitalize": "none", "inputmode": "email"}
        ),
    )


class LoginForm(GovFormMixin, forms.Form):
    email = _email_field("username")
    password = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("パスワードを入力してください")},
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            # ``email=`` (the USERNAME_FIELD) so django-axes sees the same key in the
            # credentials as in the POST data and locks by email + IP.
            user = authenticate(request=self.request, email=email, password=password)
            if not isinstance(user, User):
                raise ValidationError(_("メールアドレスまたはパスワードが正しくありません"), code="invalid_login")
            self.user = user
        return cleaned

    def get_user(self) -> User:
        """The authenticated account (call after ``is_valid()`` returned True)."""
        if self.user is None:
            raise RuntimeError("the form has not authenticated anyone")
        return self.user


PASSWORD_HELP = _("10文字以上にしてください。よく使われるパスワードや数字だけのパスワードは使えません。")


def _new_password_fields(label: StrOrPromise) -> tuple[forms.CharField, forms.CharField]:
    first = forms.CharField(
        label=label,
        strip=False,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("パスワードを入力してください")},
    )
    second = forms.CharField(
        label=_("パスワード（確認のため、もう一度）"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("確認のため、パスワードをもう一度入力してください")},
    )
    return first, second


def _check_new_password(form: forms.Form, *, user: User, first: str, second: str) -> None:
    """Django's password validators on ``first``, then that ``second`` matches."""
    password1, password2 = form.cleaned_data.get(first), form.cleaned_data.get(second)
    if password1:
        try:
            password_validation.validate_password(password1, user=user)
        except ValidationError as exc:
            form.add_error(first, exc)
    if password1 and password2 and password1 != password2:
        form.add_error(second, _("パスワードが一致しません。同じパスワードを入力してください"))


class SignupForm(GovFormMixin, forms.Form):
    email = _email_field("email")
    password1, password2 = _new_password_fields(_("パスワード"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_new_password(self, user=User(email=cleaned.get("email") or ""), first="password1", second="password2")
        return cleaned


class PasswordSetForm(GovFormMixin, forms.Form):
    """The new password, from a password reset link. Built like Django's
    ``SetPasswordForm`` (``PasswordSetForm(user, data)``) for ``PasswordResetConfirmView``;
    the view saves through ``services.password_reset_complete``."""

    new_password1, new_password2 = _new_password_fields(_("新しいパスワード"))

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_new_password(self, user=self.user, first="new_password1", second="new_password2")
        return cleaned


class EmailForm(GovFormMixin, forms.Form):
    email = _email_field("email")


class TotpForm(GovFormMixin, forms.Form):
    code = forms.CharField(
        label=_("確認コード（6桁の数字）"),
        help_text=_("認証アプリに表示されている6桁の数字を入力してください。"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false", "size": "8"}
        ),
        error_messages={"required": _("確認コードを入力してください")},
    )

    def clean_code(self) -> str:
        code = "".join(unicodedata.normalize("NFKC", str(self.cleaned_data["code"])).split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValidationError(_("確認コードは6桁の数字で入力してください"), code="format")
        return code
