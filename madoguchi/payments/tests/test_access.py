"""Only the payer sees a payment: in the API and on the return page."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import UserFactory
from madoguchi.core.models import User
from madoguchi.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_payer_reads_status_and_amount(client: Client, resident: User, pending_payment: Payment) -> None:
    client.force_login(resident)
    response = client.get(f"/api/v1/payments/{pending_payment.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(pending_payment.public_id)
    assert (body["status"], body["amount_yen"], body["currency"]) == ("pending", 300, "JPY")
    assert body["status_label"] == "支払い手続き中"


def test_another_resident_gets_404(client: Client, pending_payment: Payment) -> None:
    client.force_login(UserFactory())
    assert client.get(f"/api/v1/payments/{pending_payment.public_id}").status_code == 404
    assert client.get(f"/api/v1/payments/{uuid.uuid4()}").status_code == 404
    assert client.get(reverse("payments:return", args=[pending_payment.public_id])).status_code == 404


def test_anonymous_is_not_let_in(client: Client, pending_payment: Payment) -> None:
    assert client.get(f"/api/v1/payments/{pending_payment.public_id}").status_code == 401
    response = client.get(reverse("payments:return", args=[pending_payment.public_id]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_return_page_shows_the_recorded_state(client: Client, resident: User, pending_payment: Payment) -> None:
    client.force_login(resident)
    html = client.get(reverse("payments:return", args=[pending_payment.public_id])).content.decode()
    assert "お支払いの結果を確認しています。" in html
    assert "300円" in html
