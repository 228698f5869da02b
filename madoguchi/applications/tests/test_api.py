from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage

from .conftest import API_DATA

pytestmark = pytest.mark.usefixtures("free_juminhyo")


def _post(client: Client, body: dict[str, object]) -> object:
    return client.post("/api/v1/applications", data=json.dumps(body), content_type="application/json")


def test_create_list_and_detail(hanako_client: Client) -> None:
    key = uuid.uuid4().hex
    body = {"procedure": "juminhyo-copy", "data": API_DATA, "submission_key": key}
    created = _post(hanako_client, body)
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["status"] == "submitted" and out["reference_number"]
    assert {"path": "name", "label": "氏名", "value": "山田\u3000花子"} in out["answers"]

    again = _post(hanako_client, body)
    assert again.status_code == 200 and again.json()["id"] == out["id"]
    assert Application.objects.count() == 1
    assert OutboxMessage.objects.filter(channel="email").count() == 1

    listed = hanako_client.get("/api/v1/applications").json()
    assert [a["id"] for a in listed] == [out["id"]]
    detail = hanako_client.get(f"/api/v1/applications/{out['id']}")
    assert detail.status_code == 200 and detail.json()["reference_number"] == out["reference_number"]


def test_invalid_data_is_422_with_field_paths(hanako_client: Client) -> None:
    data = {**API_DATA, "name": {"family": "山田", "given": ""}, "phone": "12", "scope": "some"}
    data.pop("declaration")
    answer = _post(hanako_client, {"procedure": "juminhyo-copy", "data": data, "submission_key": uuid.uuid4().hex})
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert errors["name.given"] == "氏と名の両方を入力してください。"
    assert errors["phone"].startswith("電話番号を正しく入力してください")
    assert "persons" in errors and "declaration" in errors
    assert Application.objects.count() == 0


def test_missing_keys_are_422_and_anonymous_is_401(client: Client, hanako_client: Client) -> None:
    assert _post(hanako_client, {"procedure": "juminhyo-copy"}).status_code == 422
    client.logout()
    assert client.get("/api/v1/applications").status_code == 401


def test_other_residents_application_is_404(hanako_client: Client, ichiro: User) -> None:
    created = _post(
        hanako_client, {"procedure": "juminhyo-copy", "data": API_DATA, "submission_key": uuid.uuid4().hex}
    ).json()
    other = Client()
    other.force_login(ichiro)
    assert other.get(f"/api/v1/applications/{created['id']}").status_code == 404
    assert other.get("/api/v1/applications").json() == []


def test_a_repeat_whose_data_no_longer_passes_returns_the_earlier_application(hanako_client: Client) -> None:
    key = uuid.uuid4().hex
    created = _post(hanako_client, {"procedure": "juminhyo-copy", "data": API_DATA, "submission_key": key})
    assert created.status_code == 201
    # A retried request with changed (now invalid) data: the key decides, not the data.
    stale = {**API_DATA, "phone": "12"}
    again = _post(hanako_client, {"procedure": "juminhyo-copy", "data": stale, "submission_key": key})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    # A new key with the same invalid data is refused.
    fresh = _post(hanako_client, {"procedure": "juminhyo-copy", "data": stale, "submission_key": uuid.uuid4().hex})
    assert fresh.status_code == 422
    assert Application.objects.count() == 1


def test_another_residents_key_conflicts_and_leaves_nothing(hanako_client: Client, ichiro: User) -> None:
    key = uuid.uuid4().hex
    assert (
        _post(hanako_client, {"procedure": "juminhyo-copy", "data": API_DATA, "submission_key": key}).status_code == 201
    )
    number = Application.objects.get().reference_number
    other = Client()
    other.force_login(ichiro)
    answer = _post(other, {"procedure": "juminhyo-copy", "data": API_DATA, "submission_key": key})
    assert answer.status_code == 409
    # Nothing of the refused attempt is left behind.
    assert Application.objects.count() == 1
    assert Application.objects.get().reference_number == number
    assert OutboxMessage.objects.filter(channel="email").count() == 1
