"""Payments in the admin: read only (changes go through ``services``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.payments.models import Payment, PaymentEvent, Refund


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentEventInline(_ReadOnlyInline):
    model = PaymentEvent
    fields = ("received_at", "event_id", "type", "outcome", "detail")
    readonly_fields = fields


class RefundInline(_ReadOnlyInline):
    model = Refund
    fields = ("created_at", "amount_yen", "reason", "provider_reference", "created_by")
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "description", "amount_yen", "status", "provider", "created_at")
    list_filter = ("status", "provider", "purpose")
    search_fields = ("=public_id", "=provider_reference", "=object_id")
    inlines = (PaymentEventInline, RefundInline)
