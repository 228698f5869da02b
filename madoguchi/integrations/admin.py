"""Read-only admin views of the integration records (changes go through the staff pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.core.admin_audit import AuditedAdmin
from madoguchi.integrations.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription


class ReadOnlyAdmin(AuditedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "can_view_mynumber", "created_at", "last_used_at", "revoked_at")
    exclude = ("secret_hash",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("name", "target_url", "is_active", "created_at")
    exclude = ("secret_encrypted",)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "status_code", "error", "duration_ms")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "event_type", "reference_number", "status", "attempts", "last_status_code")
    list_filter = ("status", "event_type")
    inlines = (WebhookAttemptInline,)
