from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.accounts.tests.factories import (
    ResidentFactory,
    StaffFactory,
    StaffRoleFactory,
    UserFactory,
)
from madoguchi.core.models import Department, User
from madoguchi.reservations.models import Event, Facility, Group, LotteryRound, Room, TimeBlock
from madoguchi.reservations.rules import person_key
from madoguchi.reservations.services.lottery import lottery_round_create


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ja"
    settings.STAFF_REQUIRE_2FA = False
    settings.PAYMENT_SANDBOX_SECRET = "test-sandbox-secret"


def aware(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, hh, mm))


#: A Monday, well inside a month with no holidays on weekdays in its second week.
NOW = aware(2030, 6, 3, 10, 0)


@pytest.fixture
def department(db: Any) -> Department:
    found, _created = Department.objects.get_or_create(code="chiiki", defaults={"name": "地域振興課"})
    return found


def make_facility(department: Department | None, **changes: Any) -> Facility:
    values: dict[str, Any] = {
        "code": "chuo-kaikan",
        "name": "中央区民会館",
        "name_kana": "チュウオウクミンカイカン",
        "kind": Facility.Kind.COMMUNITY_HALL,
        "department": department,
        "address_city": "デモ区",
        "address_town": "中央一丁目",
        "address_block": "2-3",
        "phone": "03-5555-0001",
        "accessibility": "車椅子対応エレベーター\n多機能トイレ",
        "eligibility": Facility.Eligibility.BOTH,
        "monthly_limit": 2,
        "advance_days": 60,
        "cancel_days": 3,
        "payment_days": 3,
        "calendar": Facility.Calendar.YEAR_END,
    }
    values.update(changes)
    facility = Facility.objects.create(**values)
    TimeBlock.objects.create(
        facility=facility, code="morning", name="午前", start_time=dt.time(9), end_time=dt.time(12), sort_order=1
    )
    TimeBlock.objects.create(
        facility=facility, code="afternoon", name="午後", start_time=dt.time(13), end_time=dt.time(17), sort_order=2
    )
    TimeBlock.objects.create(
        facility=facility, code="night", name="夜間", start_time=dt.time(18), end_time=dt.time(21), sort_order=3
    )
    Room.objects.create(facility=facility, code="room-a", name="集会室A", capacity=30, fee_yen=0, sort_order=1)
    Room.objects.create(facility=facility, code="room-b", name="集会室B", capacity=20, fee_yen=1200, sort_order=2)
    return facility


@pytest.fixture
def facility(department: Department) -> Facility:
    return make_facility(department)


@pytest.fixture
def free_room(facility: Facility) -> Room:
    return facility.rooms.get(code="room-a")


@pytest.fixture
def paid_room(facility: Facility) -> Room:
    return facility.rooms.get(code="room-b")


@pytest.fixture
def morning(facility: Facility) -> TimeBlock:
    return facility.time_blocks.get(code="morning")


def make_resident(**changes: Any) -> User:
    """A resident account linked to a resident record (区内在住)."""
    resident = ResidentFactory(**{k: v for k, v in changes.items() if k != "email"})
    return UserFactory(resident=resident, **({"email": changes["email"]} if "email" in changes else {}))


@pytest.fixture
def resident(db: Any) -> User:
    return make_resident()


@pytest.fixture
def other_resident(db: Any) -> User:
    return make_resident()


def make_group(user: User, *, approved: bool = True, name: str = "デモ区卓球クラブ") -> Group:
    resident = user.resident
    assert resident is not None
    address = resident.household.address
    return Group.objects.create(
        name=name,
        name_kana="デモクタッキュウクラブ",
        activity="卓球の練習",
        member_count=12,
        representative=user,
        rep_name=resident.full_name,
        rep_birth_date=resident.birth_date,
        rep_address=address,
        rep_resident=resident,
        person_key=person_key(name=resident.full_name, birth_date=resident.birth_date, address=address),
        status=Group.Status.APPROVED if approved else Group.Status.PENDING,
        card_number=f"G-{user.pk}-{name}" if approved else None,
    )


@pytest.fixture
def group(resident: User) -> Group:
    return make_group(resident)


def staff_member(department: Department, role: str = "tanto") -> User:
    return StaffRoleFactory(department=department, role=role).user


@pytest.fixture
def tanto(department: Department) -> User:
    return staff_member(department, "tanto")


@pytest.fixture
def kakaricho(department: Department) -> User:
    return staff_member(department, "kakaricho")


@pytest.fixture
def other_department_staff(db: Any) -> User:
    other, _created = Department.objects.get_or_create(code="kosodate", defaults={"name": "子育て支援課"})
    return staff_member(other, "kacho")


@pytest.fixture
def staff_without_role(db: Any) -> User:
    return StaffFactory()


MakeRound = Callable[..., LotteryRound]


@pytest.fixture
def make_round(facility: Facility, kakaricho: User) -> MakeRound:
    """A lottery for July 2030 whose window is open at ``NOW``."""

    def make(**changes: Any) -> LotteryRound:
        values: dict[str, Any] = {
            "actor": kakaricho,
            "facility": facility,
            "month": dt.date(2030, 7, 1),
            "opens_at": aware(2030, 6, 1),
            "closes_at": aware(2030, 6, 10),
            "confirm_deadline": aware(2030, 6, 17),
            "first_come_opens_at": aware(2030, 6, 20),
            "max_entries": 3,
            "max_wins": 2,
        }
        values.update(changes)
        return lottery_round_create(**values)

    return make


def make_event(department: Department | None, **changes: Any) -> Event:
    values: dict[str, Any] = {
        "department": department,
        "title": "親子で楽しむ工作教室",
        "title_kana": "オヤコデタノシムコウサクキョウシツ",
        "description": "牛乳パックで工作をします。",
        "starts_at": aware(2030, 6, 15, 10),
        "ends_at": aware(2030, 6, 15, 12),
        "place_name": "中央区民会館 集会室A",
        "address": "東京都デモ区中央一丁目2-3",
        "capacity": 2,
        "application_closes_at": aware(2030, 6, 14, 17),
        "organizer": "デモ区地域振興課",
    }
    values.update(changes)
    return Event.objects.create(**values)


@pytest.fixture
def event(department: Department) -> Event:
    return make_event(department)
