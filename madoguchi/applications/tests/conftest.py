from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.demo.ward import demo_load


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.PAYMENT_SANDBOX_SECRET = "test-sandbox-secret"


@pytest.fixture
def ward(db: Any) -> None:
    demo_load()


@pytest.fixture
def hanako(ward: None) -> User:
    return User.objects.get(email="hanako@example.jp")


@pytest.fixture
def ichiro(ward: None) -> User:
    return User.objects.get(email="ichiro@example.jp")


@pytest.fixture
def hanako_client(client: Client, hanako: User) -> Client:
    client.force_login(hanako)
    return client


@pytest.fixture
def free_juminhyo(ward: None) -> None:
    """juminhyo-copy without its fee, for the flows that do not pay."""
    Procedure.objects.filter(code="juminhyo-copy").update(fee_yen=None)


REQUESTER = {
    "name.family": "山田",
    "name.given": "花子",
    "name_kana.family": "ヤマダ",
    "name_kana.given": "ハナコ",
    "birth_date": "1988-04-12",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央一丁目1番1号",
    "phone": "03-1234-5678",
    "email": "hanako@example.jp",
    "relationship": "self",
}

API_DATA: dict[str, Any] = {
    "name": {"family": "山田", "given": "花子"},
    "name_kana": {"family": "ヤマダ", "given": "ハナコ"},
    "birth_date": "1988-04-12",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央一丁目1番1号",
    "phone": "03-1234-5678",
    "email": "hanako@example.jp",
    "relationship": "self",
    "scope": "all",
    "contents": [],
    "copies": 1,
    "purpose": "employment",
    "delivery": "mail",
    "declaration": True,
}


@pytest.fixture
def staff(ward: None) -> User:
    return User.objects.get(email="kumin-tanto@demo-ku.example.jp")


@pytest.fixture
def submitted(free_juminhyo: None, hanako: User) -> Any:
    """hanako's submitted juminhyo-copy application (made through the API service)."""
    from madoguchi.applications.services import application_create_and_submit

    application, _created = application_create_and_submit(
        applicant=hanako, procedure_code="juminhyo-copy", data=API_DATA, submission_key="fixture-key-0001"
    )
    return application
