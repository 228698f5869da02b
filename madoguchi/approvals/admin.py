"""E-approval in the admin. Routes are editable (the YAML file stays the source: the
next ``approvals_import`` overwrites what differs from it); requests, their decisions,
delegations and internal documents are read only (they change through ``services``).
Every change and every opened request is audit-logged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.approvals.models import (
    ApprovalAction,
    ApprovalRequest,
    ApprovalRoute,
    ApprovalSlot,
    Delegation,
    DocumentAttachment,
    InternalDocument,
    RouteStep,
)
from madoguchi.core.admin_audit import AuditedAdmin


class ReadOnlyAdmin(AuditedAdmin):
    audit_reads = True

    def has_add_permission(self, request: HttpRequest) -> bool:
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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RouteStepInline(admin.TabularInline):
    model = RouteStep
    extra = 0
    fields = ("order", "kind", "label", "members")


@admin.register(ApprovalRoute)
class ApprovalRouteAdmin(AuditedAdmin):
    list_display = ("code", "name", "is_default", "for_documents", "active", "data_version")
    list_filter = ("active", "is_default", "for_documents")
    search_fields = ("code", "name")
    filter_horizontal = ("procedures", "departments")
    readonly_fields = ("data_version", "updated_at")
    inlines = (RouteStepInline,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: requests keep a link to their route


class SlotInline(_ReadOnlyInline):
    model = ApprovalSlot
    fields = ("step_index", "member_index", "kind", "role", "department", "skipped")
    readonly_fields = fields


class ActionInline(_ReadOnlyInline):
    model = ApprovalAction
    fields = ("created_at", "action", "step_index", "stamp_name", "stamp_role", "acting_for_name", "comment")
    readonly_fields = fields


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("title", "subject_kind", "department", "route_code", "status", "started_at", "finished_at")
    list_filter = ("status", "subject_kind", "route_code")
    search_fields = ("=public_id", "=subject_id", "title")
    inlines = (SlotInline, ActionInline)


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ("approver", "delegate", "starts_on", "ends_on", "cancelled_at")
    list_filter = ("starts_on",)


class AttachmentInline(_ReadOnlyInline):
    model = DocumentAttachment
    fields = ("name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields


@admin.register(InternalDocument)
class InternalDocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "department", "author", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("=public_id", "title")
    inlines = (AttachmentInline,)
