from __future__ import annotations

import uuid
from typing import Any

import pytest

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_create_and_submit
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.demo.ward import demo_load

JUMINHYO: dict[str, Any] = {
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


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.STAFF_REQUIRE_2FA = False


@pytest.fixture
def ward(db: Any) -> None:
    demo_load()
    Procedure.objects.filter(code="juminhyo-copy").update(fee_yen=None)


@pytest.fixture
def hanako(ward: None) -> User:
    return User.objects.get(email="hanako@example.jp")


@pytest.fixture
def ichiro(ward: None) -> User:
    return User.objects.get(email="ichiro@example.jp")


def staff(department: str, role: str) -> User:
    return User.objects.get(email=f"{department}-{role}@demo-ku.example.jp")


@pytest.fixture
def tanto(ward: None) -> User:
    return staff("kumin", "tanto")


@pytest.fixture
def kakaricho(ward: None) -> User:
    return staff("kumin", "kakaricho")


@pytest.fixture
def other_department(ward: None) -> User:
    return staff("kosodate", "kakaricho")


def submit(applicant: User, **changes: Any) -> Application:
    application, _created = application_create_and_submit(
        applicant=applicant,
        procedure_code="juminhyo-copy",
        data={**JUMINHYO, **changes},
        submission_key=uuid.uuid4().hex,
    )
    return application


@pytest.fixture
def application(hanako: User) -> Application:
    return submit(hanako)
