"""The Django admin (in Japanese) for configuration: accounts and staff roles,
departments, the resident registry, and a read-only view of the audit log.

Every admin class is an ``AuditedAdmin`` (``core.admin_audit``): additions, changes
(including a password set by an administrator) and deletions go into the audit log,
and for the models holding personal data (accounts, households, residents,
``audit_reads = True``) so does every opening of a record and every list or search,
including the searches behind the autocomplete fields.

The admin has no login of its own: ``admin.site.login`` sends people to the staff
login (password, then TOTP when ``STAFF_REQUIRE_2FA`` is set), and
``admin.site.has_permission`` also requires the TOTP step, so the admin cannot be used
to skip two-factor authentication.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, SetUnusablePasswordMixin, UserChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts import services, twofactor
from madoguchi.core.admin_audit import AuditedAdmin
from madoguchi.core.audit import audit_record
from madoguchi.core.models import AuditEvent, Department, Household, Resident, StaffRole, User

# -- the admin uses the staff login --------------------------------------------------
_default_has_permission = admin.site.has_permission


def _admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:staff_login"))


def _admin_has_permission(request: HttpRequest) -> bool:
    if not _default_has_permission(request):
        return False
    return not settings.STAFF_REQUIRE_2FA or twofactor.session_is_verified(request)


admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.has_permission = _admin_has_permission  # type: ignore[method-assign]


# -- audit of the autocomplete searches ------------------------------------------------
class AutocompleteAuditedAdmin(AuditedAdmin):
    """An ``AuditedAdmin`` that, with ``audit_reads``, also audits the searches the
    admin's autocomplete widgets send to this model: they list records too, but do
    not go through ``changelist_view``."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        result = super().get_search_results(request, queryset, search_term)
        match = request.resolver_match
        if self.audit_reads and match is not None and match.view_name == "admin:autocomplete":
            user = request.user
            audit_record(
                actor=user if isinstance(user, User) else None,
                action="personal_data.list",
                data={
                    "model": self.model._meta.label_lower,
                    "query": request.GET.urlencode(),
                    "via": "admin-autocomplete",
                },
            )
        return result


# -- accounts --------------------------------------------------------------------------
class AccountCreationForm(SetUnusablePasswordMixin, BaseUserCreationForm):
    usable_password = SetUnusablePasswordMixin.create_usable_password_field()

    class Meta:
        model = User
        fields = ("email", "kind", "display_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].required = False
        self.fields["password2"].required = False
        if not self.instance.username:
            self.instance.username = f"u-{uuid.uuid4().hex}"

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"].strip())
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("このメールアドレスは既に登録されています"), code="unique")
        return email


class AccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0
    verbose_name = _("役職")
    verbose_name_plural = _("部署と役職")


@admin.register(User)
class AccountAdmin(AutocompleteAuditedAdmin, UserAdmin):
    audit_reads = True  # personal data: every view, list and search is audited
    form = AccountChangeForm
    add_form = AccountCreationForm
    ordering = ("email",)
    list_display = ("email", "display_name", "kind", "is_active", "email_verified", "two_factor", "is_superuser")
    list_filter = ("kind", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "display_name")
    readonly_fields = ("last_login", "date_joined", "totp_confirmed_at")
    autocomplete_fields = ("resident",)
    inlines = (StaffRoleInline,)
    actions = ("reset_two_factor",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("基本情報"), {"fields": ("display_name", "kind", "preferred_language", "resident")}),
        (_("確認と二要素認証"), {"fields": ("email_verified_at", "totp_confirmed_at")}),
        (
            _("管理画面の権限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("日時"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "kind", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    @admin.display(boolean=True, description=_("メール確認"))
    def email_verified(self, obj: User) -> bool:
        return obj.email_verified_at is not None

    @admin.display(boolean=True, description=_("二要素認証"))
    def two_factor(self, obj: User) -> bool:
        return obj.totp_confirmed_at is not None

    @admin.action(description=_("二要素認証を再設定させる（次回ログイン時に登録し直し）"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        count = 0
        for user in queryset:
            services.staff_totp_reset(user=user, actor=actor)
            count += 1
        self.message_user(request, _("%(count)d件の二要素認証を再設定しました。") % {"count": count}, messages.SUCCESS)


# -- departments and the resident registry ---------------------------------------------
@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "location", "phone")
    search_fields = ("code", "name", "name_en")
    ordering = ("code",)


class ResidentInline(admin.TabularInline):
    model = Resident
    extra = 0
    fields = ("resident_number", "family_name", "given_name", "birth_date", "sex", "relationship")
    show_change_link = True


@admin.register(Household)
class HouseholdAdmin(AutocompleteAuditedAdmin):
    audit_reads = True  # personal data: every view, list and search is audited
    list_display = ("household_number", "postal_code", "address")
    search_fields = ("household_number", "address", "postal_code")
    ordering = ("household_number",)
    inlines = (ResidentInline,)


@admin.register(Resident)
class ResidentAdmin(AutocompleteAuditedAdmin):
    audit_reads = True  # personal data: every view, list and search is audited
    list_display = ("resident_number", "family_name", "given_name", "full_name_kana", "birth_date", "sex", "household")
    list_filter = ("sex",)
    search_fields = ("resident_number", "family_name", "given_name", "family_name_kana", "given_name_kana")
    autocomplete_fields = ("household",)
    list_select_related = ("household",)
    ordering = ("resident_number",)

    @admin.display(description=_("フリガナ"))
    def full_name_kana(self, obj: Resident) -> str:
        return obj.full_name_kana


# -- the audit log: read only ----------------------------------------------------------
@admin.register(AuditEvent)
class AuditEventAdmin(AuditedAdmin):
    list_display = ("seq", "at", "actor_label", "action", "target_type", "target_id", "ip_address")
    list_filter = ("action", "target_type")
    search_fields = ("action", "actor_label", "target_id")
    date_hierarchy = "at"
    ordering = ("-seq",)
    list_select_related = ("actor",)

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEvent | None = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
