"""The admin for notifications: a read-only view of the outbox for monitoring
(status, attempts, next attempt, last error) with the action 「今すぐ再送」, and a
read-only view of residents' inbox messages.

Message bodies are not shown: mails carry one-time links (e-mail verification,
password reset) that would let whoever reads them act as the resident. Both lists
hold personal data (addresses, accounts), so every list and every opened record is
audit-logged (``AuditedAdmin.audit_reads``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from madoguchi.core.admin_audit import AuditedAdmin
from madoguchi.core.models import User
from madoguchi.notifications.models import InboxMessage, OutboxMessage
from madoguchi.notifications.services import outbox_retry_now


class ReadOnlyAdmin(AuditedAdmin):
    audit_reads = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("to_address", "dedupe_key")
    ordering = ("-created_at", "-pk")
    date_hierarchy = "created_at"
    fields = (
        "channel",
        "user",
        "to_address",
        "subject",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_error",
        "created_at",
        "sent_at",
        "dedupe_key",
    )
    readonly_fields = fields
    actions = ["retry_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        return super().get_queryset(request).select_related("user").defer("body_text", "body_html", "attachments")

    @admin.display(description=_("宛先"))
    def recipient(self, obj: OutboxMessage) -> str:
        if obj.to_address:
            return obj.to_address
        return str(obj.user) if obj.user is not None else ""

    @admin.action(description=_("今すぐ再送"), permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        count = outbox_retry_now(message_ids=list(queryset.values_list("pk", flat=True)), actor=actor)
        self.message_user(
            request,
            ngettext("%(count)d件の通知を再送します。", "%(count)d件の通知を再送します。", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "subject", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("user__email",)
    ordering = ("-created_at", "-pk")
    fields = ("user", "subject", "link_url", "created_at", "read_at", "outbox_message")
    readonly_fields = fields
    raw_id_fields = ("user", "outbox_message")
