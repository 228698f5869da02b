"""Writes of form definitions: create a version, publish it; and the form builder's
drafts (create, change one operation at a time, publish after every check, delete,
import, export), each in one transaction with its audit record."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from madoguchi.catalog.models import Procedure
from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.forms.builder import empty_definition
from madoguchi.forms.builder_checks import Problem, publish_problems, shape_problems
from madoguchi.forms.builder_io import BadExport, export_document, parse_export
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


# --- the form builder (staff) ---------------------------------------------------------
# Drafts made and changed in the browser (builder_views). Every write locks the row,
# checks the draft is still the one the page showed (its checksum), changes it in one
# transaction together with an audit record, and refuses with an exception otherwise.


class DraftExists(Exception):
    """The procedure already has a draft; finish or delete it first."""

    def __init__(self, form: FormDefinition) -> None:
        self.form = form
        super().__init__(f"{form} is an open draft")


class StaleDraft(Exception):
    """The draft changed since the page was shown (another staff member saved it)."""


class NotADraft(Exception):
    """The version is published; only a draft can change."""


class NewerVersionPublished(Exception):
    """A later version was published (e.g. by forms_import) after this draft was made."""


class DraftRefused(Exception):
    """The draft cannot be saved, published or imported; ``problems`` say why and where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems[:5]))


def _latest_published(procedure: Procedure) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure=procedure, status=FormStatus.PUBLISHED).order_by("-version").first()


def _lock_draft(form: FormDefinition, expected_checksum: str) -> FormDefinition:
    locked = FormDefinition.objects.select_for_update(of=("self",)).select_related("procedure").get(pk=form.pk)
    if locked.is_published:
        raise NotADraft(str(locked))
    if locked.checksum != expected_checksum:
        raise StaleDraft(str(locked))
    return locked


def form_draft_create(
    *, procedure: Procedure, actor: User, definition: dict[str, Any] | None = None, source: str = "copy"
) -> FormDefinition:
    """A new draft version of the procedure's form: a copy of the current published
    version, an empty form if there is none, or ``definition`` (an import). One draft
    per procedure at a time."""
    with transaction.atomic():
        Procedure.objects.select_for_update().filter(pk=procedure.pk).first()
        existing = FormDefinition.objects.filter(procedure=procedure, status=FormStatus.DRAFT).first()
        if existing is not None:
            raise DraftExists(existing)
        base = _latest_published(procedure)
        if definition is None:
            if base is not None:
                definition = copy.deepcopy(base.definition)
            else:
                definition, source = empty_definition(procedure.code, procedure.name), "empty"
        else:
            definition = copy.deepcopy(definition)
            problems = shape_problems(definition)
            if problems:
                raise DraftRefused(problems)
        definition["procedure"] = procedure.code
        latest = FormDefinition.objects.filter(procedure=procedure).aggregate(v=Max("version"))["v"] or 0
        form = FormDefinition.objects.create(
            procedure=procedure, version=latest + 1, definition=definition, status=FormStatus.DRAFT
        )
        audit_record(
            actor=actor,
            action="forms.draft_created",
            target=form,
            data={
                "procedure": procedure.code,
                "version": form.version,
                "source": source,
                "from_version": base.version if base is not None and source == "copy" else None,
                "checksum": form.checksum,
            },
        )
    return form


def form_draft_change(
    *,
    form: FormDefinition,
    actor: User,
    expected_checksum: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
    operation: str,
) -> tuple[FormDefinition, dict[str, Any]]:
    """Apply one builder operation (``change`` edits a copy of the definition in place
    and returns details for the audit record) to a draft. Refused with ``StaleDraft``
    when the draft changed since ``expected_checksum``; with ``DraftRefused`` when the
    result could not be shown in the editor. Nothing is saved on any exception."""
    with transaction.atomic():
        locked = _lock_draft(form, expected_checksum)
        definition = copy.deepcopy(locked.definition)
        details = change(definition) or {}
        definition["procedure"] = locked.procedure.code
        problems = shape_problems(definition)
        if problems:
            raise DraftRefused(problems)
        if definition == locked.definition:
            return locked, details
        before = locked.checksum
        locked.definition = definition
        locked.save(update_fields=["definition", "checksum"])
        audit_record(
            actor=actor,
            action="forms.draft_edited",
            target=locked,
            data={
                "procedure": locked.procedure.code,
                "version": locked.version,
                "operation": operation,
                **details,
                "before": before,
                "after": locked.checksum,
            },
        )
    return locked, details


def form_draft_publish(*, form: FormDefinition, actor: User, expected_checksum: str) -> FormDefinition:
    """Publish a draft after every builder check (``builder_checks.publish_problems``,
    which ends with the schema): it becomes the procedure's current form; applications
    already started keep the version they were made with."""
    with transaction.atomic():
        Procedure.objects.select_for_update().filter(pk=form.procedure_id).first()
        locked = _lock_draft(form, expected_checksum)
        previous = _latest_published(locked.procedure)
        if previous is not None and previous.version > locked.version:
            raise NewerVersionPublished(str(previous))
        problems = publish_problems(locked.definition, procedure_code=locked.procedure.code)
        if problems:
            raise DraftRefused(problems)
        form_publish(form=locked)
        audit_record(
            actor=actor,
            action="forms.published",
            target=locked,
            data={
                "procedure": locked.procedure.code,
                "version": locked.version,
                "previous_version": previous.version if previous is not None else None,
                "checksum": locked.checksum,
            },
        )
    return locked


def form_draft_delete(*, form: FormDefinition, actor: User, expected_checksum: str) -> None:
    """Throw a draft away (a published version is never deleted)."""
    with transaction.atomic():
        locked = _lock_draft(form, expected_checksum)
        audit_record(
            actor=actor,
            action="forms.draft_deleted",
            target=locked,
            data={"procedure": locked.procedure.code, "version": locked.version, "checksum": locked.checksum},
        )
        locked.delete()


def form_draft_import(*, procedure: Procedure, actor: User, text: str | bytes) -> FormDefinition:
    """A draft for ``procedure`` from a form exported as JSON (by this or another
    ward's madoguchi). The file must pass the same checks as publishing; the
    procedure code inside is replaced by ``procedure``'s."""
    try:
        definition = parse_export(text)
    except BadExport as exc:
        raise DraftRefused(exc.problems) from exc
    definition["procedure"] = procedure.code
    problems = publish_problems(definition, procedure_code=procedure.code)
    if problems:
        raise DraftRefused(problems)
    return form_draft_create(procedure=procedure, actor=actor, definition=definition, source="import")


def form_export(*, form: FormDefinition, actor: User) -> dict[str, Any]:
    """The version as a shareable JSON document (recorded in the audit log)."""
    document = export_document(form)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="forms.exported",
            target=form,
            data={"procedure": form.procedure.code, "version": form.version, "checksum": form.checksum},
        )
    return document
