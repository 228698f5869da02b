"""Sharing forms as JSON: export a version, import it as a draft of a chosen
procedure, with bad files refused clearly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from madoguchi.core.models import AuditEvent
from madoguchi.forms.builder_io import FORMAT, FORMAT_VERSION
from madoguchi.forms.models import FormDefinition, FormStatus
from madoguchi.forms.selectors import form_get_current
from madoguchi.forms.tests.test_builder_helpers import KUMIN_FORM, KUMIN_NO_FORM, client_for, draft_of, staff, url

pytestmark = pytest.mark.django_db
IMPORT = reverse("formbuilder:import")


@pytest.fixture
def client(online_forms: None) -> Client:
    return client_for(staff())


def export(client: Client, code: str = KUMIN_FORM) -> dict[str, Any]:
    response = client.get(url("export", form_get_current(code)))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="{code}-v1.json"'
    document: dict[str, Any] = json.loads(response.content)
    return document


def test_export_has_a_format_marker_version_and_the_definition(client: Client) -> None:
    document = export(client)
    current = form_get_current(KUMIN_FORM)
    assert document["format"] == FORMAT and document["format_version"] == FORMAT_VERSION
    assert document["procedure"] == KUMIN_FORM and document["version"] == 1 and document["status"] == "published"
    assert document["definition"] == current.definition and document["checksum"] == current.checksum
    assert AuditEvent.objects.filter(action="forms.exported", target_id=str(current.pk)).exists()


def test_export_then_import_gives_the_same_definition(client: Client) -> None:
    document = export(client)
    upload = SimpleUploadedFile("form.json", json.dumps(document, ensure_ascii=False).encode(), "application/json")
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "file": upload})
    assert response.status_code == 302
    draft = draft_of(KUMIN_FORM)
    assert draft.definition == document["definition"]
    assert draft.checksum == document["checksum"]
    assert AuditEvent.objects.get(action="forms.draft_created", target_id=str(draft.pk)).data["source"] == "import"


def test_import_into_another_procedure_takes_that_procedures_code(client: Client) -> None:
    document = export(client)
    response = client.post(IMPORT, {"procedure": KUMIN_NO_FORM, "json": json.dumps(document)})
    assert response.status_code == 302
    draft = draft_of(KUMIN_NO_FORM)
    assert draft.version == 1 and draft.definition["procedure"] == KUMIN_NO_FORM
    assert {k: v for k, v in draft.definition.items() if k != "procedure"} == {
        k: v for k, v in document["definition"].items() if k != "procedure"
    }


def test_bad_json_is_shown_with_its_line(client: Client) -> None:
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "json": '{\n "format": "madoguchi-form",\n}'})
    html = response.content.decode()
    assert response.status_code == 400 and "JSON として読めません（3行目" in html
    assert not FormDefinition.objects.filter(status=FormStatus.DRAFT).exists()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"title": "x", "steps": []}, "madoguchi から書き出したフォームのファイルではありません"),
        (
            {"format": FORMAT, "format_version": 99, "definition": {}},
            "このファイルの形式の版（99）には対応していません",
        ),
        ({"format": FORMAT, "format_version": 1}, "definition（フォームの定義）がありません"),
    ],
)
def test_file_that_is_not_an_export_is_refused(client: Client, document: dict[str, Any], message: str) -> None:
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "json": json.dumps(document)})
    assert response.status_code == 400 and message in response.content.decode()


def test_definition_that_would_not_publish_is_refused_with_each_problem(client: Client) -> None:
    document = export(client)
    document["definition"]["steps"][0]["fields"][1]["key"] = "name"
    document["definition"]["logic"][0]["show"] = ["ghost"]
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "json": json.dumps(document, ensure_ascii=False)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "このファイルは取り込めません" in html
    assert "ステップ「請求者」の項目「フリガナ」: キー「name」が2回使われています" in html
    assert "ルール1: 対象の「ghost」はこのフォームにありません" in html
    assert not FormDefinition.objects.filter(status=FormStatus.DRAFT).exists()


def test_non_utf8_file_and_missing_input_are_refused(client: Client) -> None:
    upload = SimpleUploadedFile("form.json", "{}".encode("utf-16"), "application/json")
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "file": upload})
    assert response.status_code == 400 and "UTF-8 の JSON ファイルを選んでください" in response.content.decode()
    response = client.post(IMPORT, {"procedure": "", "json": ""})
    html = response.content.decode()
    assert "取り込む先の手続きを選んでください" in html and "JSON を貼り付けてください" in html


def test_import_when_a_draft_exists_is_refused(client: Client) -> None:
    document = export(client)
    client.post(reverse("formbuilder:new", args=[KUMIN_FORM]))
    response = client.post(IMPORT, {"procedure": KUMIN_FORM, "json": json.dumps(document)})
    assert response.status_code == 400 and "編集中の下書き（第2版）があります" in response.content.decode()
    assert FormDefinition.objects.filter(procedure__code=KUMIN_FORM, status=FormStatus.DRAFT).count() == 1
