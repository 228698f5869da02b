"""Audit logging for the Django admin: every change made there, and every view of a
resident's personal data, goes into the hash-chained audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User


def _actor(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions are audit-logged. With
    ``audit_reads = True`` (models holding personal data), opening a record and
    listing or searching records are logged too."""

    audit_reads = False

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        audit_record(actor=_actor(request), action="admin.add", target=obj, data={"change": str(message)})
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        audit_record(actor=_actor(request), action="admin.change", target=obj, data={"change": str(message)})
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_record(actor=_actor(request), action="admin.delete", target=obj, data={"repr": str(obj)})
        return super().log_deletions(request, queryset)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.audit_reads and request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                audit_record(actor=_actor(request), action="personal_data.view", target=obj, data={"via": "admin"})
        return response

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if self.audit_reads and request.method == "GET" and response.status_code == 200:
            audit_record(
                actor=_actor(request),
                action="personal_data.list",
                data={"model": self.model._meta.label_lower, "query": request.GET.urlencode(), "via": "admin"},
            )
        return response
