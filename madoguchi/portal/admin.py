"""A read-only admin view of consents (for answering a resident's question about what
they agreed to). Consents are changed only by the resident, on the portal; every list
and every opened record is audit-logged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.core.admin_audit import AuditedAdmin
from madoguchi.portal.models import Consent


@admin.register(Consent)
class ConsentAdmin(AuditedAdmin):
    audit_reads = True
    list_display = ("user", "purpose", "text_version", "granted_at", "withdrawn_at")
    list_filter = ("purpose",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "purpose", "text_version", "granted_at", "withdrawn_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
