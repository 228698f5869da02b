from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.tests.factories import HouseholdFactory, ResidentFactory, StaffFactory, UserFactory
from madoguchi.core.models import Resident, User


@pytest.fixture(autouse=True)
def _portal_test_settings(settings: Any) -> Iterator[None]:
    settings.IDENTITY_PROVIDERS = ["demo"]
    settings.STAFF_REQUIRE_2FA = False
    settings.LANGUAGE_CODE = "ja"
    yield


@pytest.fixture
def resident(db: Any) -> Resident:
    household = HouseholdFactory(postal_code="123-4567", address="東京都デモ区桜町1丁目2番3号")
    head = ResidentFactory(
        household=household,
        family_name="桜井",
        given_name="花子",
        family_name_kana="サクライ",
        given_name_kana="ハナコ",
        birth_date="1985-04-01",
        relationship="世帯主",
        resident_number="R1",
    )
    ResidentFactory(
        household=household,
        family_name="桜井",
        given_name="健太",
        family_name_kana="サクライ",
        given_name_kana="ケンタ",
        birth_date="2019-05-01",
        relationship="子",
        sex=Resident.Sex.MALE,
        resident_number="R2",
    )
    return head


@pytest.fixture
def account(resident: Resident) -> User:
    return UserFactory(resident=resident, display_name="桜井 花子")


@pytest.fixture
def other_account(db: Any) -> User:
    other = ResidentFactory(
        family_name="鈴木", given_name="次郎", family_name_kana="スズキ", given_name_kana="ジロウ", resident_number="R9"
    )
    return UserFactory(resident=other)


@pytest.fixture
def staff(db: Any) -> User:
    return StaffFactory()


@pytest.fixture
def logged_in(client: Client, account: User) -> Client:
    client.force_login(account)
    return client
