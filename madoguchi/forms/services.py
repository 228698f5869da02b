"""Writes of form definitions: create a draft version, publish it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from madoguchi.catalog.models import Procedure
from madoguchi.forms.models import FormDefinition, FormStatus, PublishedFormIsImmutable
from madoguchi.forms.schema import DefinitionError, validate_definition


class InvalidDefinition(Exception):
    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


def form_create_version(*, procedure: Procedure, definition: dict[str, Any], publish: bool = False) -> FormDefinition:
    """A new version (the highest so far + 1) of the procedure's form."""
    errors = validate_definition(definition)
    if errors:
        raise InvalidDefinition(errors)
    with transaction.atomic():
        Procedure.objects.select_for_update().filter(pk=procedure.pk).first()
        latest = FormDefinition.objects.filter(procedure=procedure).aggregate(v=Max("version"))["v"] or 0
        return FormDefinition.objects.create(
            procedure=procedure,
            version=latest + 1,
            definition=definition,
            status=FormStatus.PUBLISHED if publish else FormStatus.DRAFT,
            published_at=timezone.now() if publish else None,
        )


def form_publish(*, form: FormDefinition) -> FormDefinition:
    """Publish a draft. A published version is final."""
    if form.is_published:
        raise PublishedFormIsImmutable(f"{form} is already published")
    errors = validate_definition(form.definition)
    if errors:
        raise InvalidDefinition(errors)
    form.status = FormStatus.PUBLISHED
    form.published_at = timezone.now()
    form.save(update_fields=["status", "published_at", "checksum"])
    return form
