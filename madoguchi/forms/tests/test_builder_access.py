"""Who may use the form builder: 係長 or higher of the procedure's department, or the
admin role anywhere. Everyone else is refused, on every page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.forms.models import FormDefinition, FormStatus
from madoguchi.forms.selectors import form_get_current
from madoguchi.forms.tests.test_builder_helpers import (
    KOSEKI_FORM,
    KUMIN_FORM,
    client_for,
    new_draft,
    resident,
    staff,
    url,
)

pytestmark = pytest.mark.django_db


def pages(form: FormDefinition) -> list[tuple[str, str]]:
    """(method, url) of every builder page of one draft."""
    return [
        ("get", url("editor", form)),
        ("post", url("edit", form)),
        ("post", url("publish", form)),
        ("get", url("delete", form)),
        ("post", url("delete", form)),
        ("get", url("export", form)),
        ("get", url("json", form)),
        ("post", url("json", form)),
        ("get", url("preview", form)),
        ("get", url("field", form, 0, 0)),
        ("post", url("field", form, 0, 0)),
        ("get", url("subfield", form, 2, 1, 0)),
        ("get", url("rule_new", form)),
        ("post", url("rule", form, 0)),
    ]


@pytest.fixture
def kumin_draft(online_forms: None) -> FormDefinition:
    return new_draft(client_for(staff("kumin", "kakaricho")))


def call(client: Client, method: str, path: str) -> Any:
    return getattr(client, method)(path)


def test_kakaricho_kacho_and_admin_of_the_department_may_build(online_forms: None) -> None:
    for role in ("kakaricho", "kacho", "admin"):
        client = client_for(staff("kumin", role))
        assert client.get(reverse("formbuilder:list")).status_code == 200
        draft = new_draft(client)
        assert client.get(url("editor", draft)).status_code == 200
        draft.delete()


def test_admin_role_in_any_department_may_build_every_procedures_form(online_forms: None) -> None:
    client = client_for(staff("koseki", "admin"))
    draft = new_draft(client, KUMIN_FORM)
    assert client.get(url("editor", draft)).status_code == 200
    assert KUMIN_FORM in client.get(reverse("formbuilder:list")).content.decode()


def test_tanto_gets_403_everywhere(kumin_draft: FormDefinition) -> None:
    client = client_for(staff("kumin", "tanto"))
    assert client.get(reverse("formbuilder:list")).status_code == 403
    assert client.get(reverse("formbuilder:import")).status_code == 403
    assert client.post(reverse("formbuilder:new", args=[KUMIN_FORM])).status_code == 403
    for method, path in pages(kumin_draft):
        assert call(client, method, path).status_code == 403, (method, path)


def test_kakaricho_of_another_department_gets_403_on_this_departments_forms(kumin_draft: FormDefinition) -> None:
    client = client_for(staff("koseki", "kacho"))
    assert client.get(reverse("formbuilder:list")).status_code == 200  # their own department's forms
    assert KUMIN_FORM not in client.get(reverse("formbuilder:list")).content.decode()
    assert client.post(reverse("formbuilder:new", args=[KUMIN_FORM])).status_code == 403
    for method, path in pages(kumin_draft):
        assert call(client, method, path).status_code == 403, (method, path)
    assert FormDefinition.objects.filter(procedure__code=KUMIN_FORM).count() == 2  # nothing was made


def test_resident_gets_403(kumin_draft: FormDefinition) -> None:
    client = client_for(resident())
    assert client.get(reverse("formbuilder:list")).status_code == 403
    assert client.post(reverse("formbuilder:new", args=[KOSEKI_FORM])).status_code == 403
    for method, path in pages(kumin_draft):
        assert call(client, method, path).status_code == 403, (method, path)


def test_anonymous_is_sent_to_the_staff_login(kumin_draft: FormDefinition) -> None:
    response = Client().get(url("editor", kumin_draft))
    assert response.status_code == 302 and reverse("accounts:staff_login") in response["Location"]


def test_import_into_another_departments_procedure_is_refused(online_forms: None) -> None:
    kumin = client_for(staff("kumin", "kakaricho"))
    exported = kumin.get(url("export", form_get_current(KUMIN_FORM))).content  # type: ignore[arg-type]
    koseki = client_for(staff("koseki", "kakaricho"))
    response = koseki.post(reverse("formbuilder:import"), {"procedure": KUMIN_FORM, "json": exported.decode()})
    assert response.status_code == 400
    assert "取り込む先の手続きを選んでください" in response.content.decode()
    assert not FormDefinition.objects.filter(procedure__code=KUMIN_FORM, status=FormStatus.DRAFT).exists()


def test_unknown_procedure_or_version_is_404(online_forms: None) -> None:
    client = client_for(staff("kumin", "kakaricho"))
    assert client.get(reverse("formbuilder:editor", args=["no-such-procedure", 1])).status_code == 404
    assert client.get(reverse("formbuilder:editor", args=[KUMIN_FORM, 99])).status_code == 404
    assert client.post(reverse("formbuilder:new", args=["no-such-procedure"])).status_code == 404
