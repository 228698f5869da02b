"""Reads of form definitions."""

from __future__ import annotations

from madoguchi.forms.models import FormDefinition, FormStatus


def form_get_current(procedure_code: str) -> FormDefinition | None:
    """The latest published version of the procedure's form, or ``None``."""
    return (
        FormDefinition.objects.select_related("procedure")
        .filter(procedure__code=procedure_code, procedure__active=True, status=FormStatus.PUBLISHED)
        .order_by("-version")
        .first()
    )


def form_get_version(procedure_code: str, version: int) -> FormDefinition | None:
    """One version (for an application made with it), published or not."""
    return (
        FormDefinition.objects.select_related("procedure")
        .filter(procedure__code=procedure_code, version=version)
        .first()
    )
