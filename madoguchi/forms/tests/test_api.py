from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_current_form_of_a_procedure(client: Client, online_forms: None) -> None:
    response = client.get("/api/v1/forms/juminhyo-copy")
    assert response.status_code == 200
    body = response.json()
    assert body["procedure"] == "juminhyo-copy" and body["version"] == 1 and isinstance(body["id"], int)
    assert body["steps"][0]["key"] == "requester"
    assert body["steps"][0]["fields"][0]["type"] == "name"
    assert any(rule["show"] == ["proxy"] for rule in body["logic"] if "show" in rule)


def test_procedure_without_online_form_is_404(client: Client, online_forms: None) -> None:
    response = client.get("/api/v1/forms/shussei")
    assert response.status_code == 404
    assert "オンライン申請のフォームがありません" in response.json()["detail"]
    response = client.get("/api/v1/forms/no-such-procedure")
    assert response.status_code == 404
    assert "no-such-procedure" in response.json()["detail"]


def test_postal_code_lookup(client: Client) -> None:
    body = client.get("/api/v1/postal-codes/100-0001").json()
    assert body == {"code": "1000001", "prefecture": "東京都", "city": "千代田区", "town": "千代田"}
    assert client.get("/api/v1/postal-codes/9999999").status_code == 404
    assert client.get("/api/v1/postal-codes/12").status_code == 422
