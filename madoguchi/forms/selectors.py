"""Reads of form definitions, and who may use the form builder."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet

from madoguchi.accounts.selectors import is_staff_account, staff_roles_for
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Department, StaffRole
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


# --- the form builder (staff) ---------------------------------------------------------
# Who may build forms: staff with role 係長 (kakaricho) or higher in the procedure's
# department, and staff with the admin role in any department (or superusers) for
# every procedure. Everyone else is refused (PermissionDenied → 403).

BUILDER_ROLE = "kakaricho"


def builder_department_ids(user: Any) -> set[int] | None:
    """Ids of the departments whose forms ``user`` may build; ``None`` means all."""
    if not is_staff_account(user):
        return set()
    if user.is_superuser:
        return None
    roles = staff_roles_for(user)
    if any(r.role == StaffRole.Role.ADMIN for r in roles):
        return None
    needed = StaffRole.RANK[BUILDER_ROLE]
    return {r.department_id for r in roles if StaffRole.RANK.get(r.role, 0) >= needed}


def builder_may_use(user: Any) -> bool:
    departments = builder_department_ids(user)
    return departments is None or bool(departments)


def builder_may_edit(user: Any, procedure: Procedure) -> bool:
    departments = builder_department_ids(user)
    return departments is None or procedure.department_id in departments


def builder_procedures(user: Any, *, department: str = "") -> QuerySet[Procedure]:
    """The procedures whose forms ``user`` may build, with their form versions (newest
    first) prefetched."""
    departments = builder_department_ids(user)
    qs = Procedure.objects.filter(active=True).select_related("department")
    if departments is not None:
        qs = qs.filter(department_id__in=departments)
    if department:
        qs = qs.filter(department__code=department)
    versions = FormDefinition.objects.only(
        "id", "procedure_id", "version", "status", "created_at", "published_at", "checksum"
    ).order_by("-version")
    return qs.prefetch_related(Prefetch("form_definitions", queryset=versions)).order_by("department__code", "code")


def builder_departments(user: Any) -> QuerySet[Department]:
    departments = builder_department_ids(user)
    qs = Department.objects.order_by("code")
    return qs if departments is None else qs.filter(pk__in=departments)


def builder_procedure_get(*, user: Any, code: str) -> Procedure:
    """The procedure if ``user`` may build its form; ``Procedure.DoesNotExist`` or
    ``PermissionDenied``."""
    procedure = Procedure.objects.select_related("department").get(code=code)
    if not builder_may_edit(user, procedure):
        raise PermissionDenied("form builder: not allowed for this department")
    return procedure


def builder_form_get(*, user: Any, code: str, version: int) -> FormDefinition:
    """One version of a procedure's form for the builder (access as above);
    ``DoesNotExist`` of the procedure or the form, or ``PermissionDenied``."""
    procedure = builder_procedure_get(user=user, code=code)
    form = FormDefinition.objects.get(procedure=procedure, version=version)
    form.procedure = procedure
    return form


def builder_open_draft(procedure: Procedure) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure=procedure, status=FormStatus.DRAFT).first()
