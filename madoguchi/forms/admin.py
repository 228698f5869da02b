from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.forms.models import FormDefinition


@admin.register(FormDefinition)
class FormDefinitionAdmin(admin.ModelAdmin[FormDefinition]):
    """Read-only: forms are edited as data files and loaded with ``forms_import``."""

    list_display = ["procedure", "version", "status", "published_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["procedure__code", "procedure__name"]
    readonly_fields = ["procedure", "version", "definition", "status", "checksum", "created_at", "published_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
