"""Helpers shared by the form builder tests (plain functions, used with the ``db`` and
``online_forms`` fixtures of this package's conftest)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import StaffRoleFactory, UserFactory
from madoguchi.core.models import Department, User
from madoguchi.forms.models import FormDefinition, FormStatus

KUMIN_FORM = "juminhyo-copy"  # 区民課, has a published form
KUMIN_NO_FORM = "tennyu"  # 区民課, no form yet
KOSEKI_FORM = "koseki-tohon"  # 戸籍住民課


def staff(department: str = "kumin", role: str = "kakaricho") -> User:
    user: User = StaffRoleFactory(department=Department.objects.get(code=department), role=role).user
    return user


def resident() -> User:
    user: User = UserFactory()
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, form: FormDefinition, *args: Any) -> str:
    return reverse(f"formbuilder:{name}", args=[form.procedure.code, form.version, *args])


def draft_of(code: str) -> FormDefinition:
    return FormDefinition.objects.select_related("procedure").get(procedure__code=code, status=FormStatus.DRAFT)


def new_draft(client: Client, code: str = KUMIN_FORM) -> FormDefinition:
    response = client.post(reverse("formbuilder:new", args=[code]))
    assert response.status_code == 302, response.status_code
    return draft_of(code)


def fresh(form: FormDefinition) -> FormDefinition:
    return FormDefinition.objects.select_related("procedure").get(pk=form.pk)


def op(client: Client, form: FormDefinition, op_name: str, **data: Any) -> Any:
    """POST one editor operation with the draft's current token."""
    current = fresh(form)
    return client.post(url("edit", current), {"token": current.checksum, "op": op_name, **data})


def field_keys(form: FormDefinition, step: int) -> list[str]:
    return [f["key"] for f in fresh(form).definition["steps"][step]["fields"]]


@pytest.mark.django_db
def test_helpers_make_a_kakaricho_of_kumin(catalog: None) -> None:
    user = staff()
    assert user.staff_roles.get().department.code == "kumin"
