"""The fictional demo ward (デモ区): its residents, households and staff.

``demo_load`` imports the catalog and creates these records; running it again
changes nothing. Every name, address and number here is made up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from madoguchi.appointments.demo import appointments_demo_load
from madoguchi.approvals.importer import approvals_import
from madoguchi.catalog.importer import ImportReport, catalog_import
from madoguchi.core.models import Department, Household, Resident, StaffRole, User
from madoguchi.forms.importer import FormsReport, forms_import
from madoguchi.reservations.demo import reservations_demo_load

RESIDENT_PASSWORD = "demo-kumin-2026"  # noqa: S105 - published demo login
STAFF_PASSWORD = "demo-shokuin-2026"  # noqa: S105 - published demo login
ADMIN_EMAIL = "admin@demo-ku.example.jp"

# household number, postal code, address, members:
# (resident number, 氏, 名, 氏カナ, 名カナ, birth date, sex, 続柄, account email or "")
HOUSEHOLDS: list[tuple[str, str, str, list[tuple[str, str, str, str, str, str, str, str, str]]]] = [
    (
        "H0001",
        "100-0001",
        "東京都デモ区中央一丁目1番1号",
        [
            ("R0001", "山田", "花子", "ヤマダ", "ハナコ", "1988-04-12", "female", "世帯主", "hanako@example.jp"),
            ("R0002", "山田", "太郎", "ヤマダ", "タロウ", "1986-09-30", "male", "夫", ""),
            ("R0003", "山田", "陽菜", "ヤマダ", "ヒナ", "2019-06-01", "female", "子", ""),
        ],
    ),
    (
        "H0002",
        "100-0002",
        "東京都デモ区桜町二丁目3番4号 さくらハイツ201",
        [("R0004", "佐藤", "一郎", "サトウ", "イチロウ", "1951-01-15", "male", "世帯主", "ichiro@example.jp")],
    ),
    (
        "H0003",
        "100-0003",
        "東京都デモ区港南三丁目5番6号",
        [
            (
                "R0005",
                "グエン",
                "ヴァン アン",
                "グエン",
                "ヴァン アン",
                "1996-11-03",
                "male",
                "世帯主",
                "an@example.jp",
            ),
        ],
    ),
    (
        "H0004",
        "100-0004",
        "東京都デモ区緑が丘四丁目7番8号",
        [
            ("R0006", "鈴木", "美咲", "スズキ", "ミサキ", "1992-02-29", "female", "世帯主", ""),
            ("R0007", "鈴木", "蓮", "スズキ", "レン", "2024-08-20", "male", "子", ""),
        ],
    ),
]

# department code → [(email, name, role)]
STAFF_ROLES = ["tanto", "kakaricho", "kacho"]


@dataclass
class DemoReport:
    catalog: ImportReport
    forms: FormsReport
    residents: int
    staff: int


def _user(email: str, *, name: str, kind: str, password_hash: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        # Every demo account of a kind shares one published password; hashing it once
        # (not once per account) keeps loading the demo ward fast.
        user = User(
            username=email,
            email=email,
            password=password_hash,
            kind=kind,
            display_name=name,
            email_verified_at=timezone.now(),
        )
        user.save(force_insert=True)
    return user


@transaction.atomic
def demo_load() -> DemoReport:
    report = catalog_import(directory=settings.CATALOG_DIR)
    forms = forms_import()
    approvals_import()
    appointments_demo_load()
    resident_hash = make_password(RESIDENT_PASSWORD)
    staff_hash = make_password(STAFF_PASSWORD)
    residents = 0
    for number, postal, address, members in HOUSEHOLDS:
        household, _ = Household.objects.get_or_create(
            household_number=number, defaults={"postal_code": postal, "address": address}
        )
        for rn, fam, giv, fam_k, giv_k, born, sex, rel, email in members:
            resident, _ = Resident.objects.get_or_create(
                resident_number=rn,
                defaults={
                    "family_name": fam,
                    "given_name": giv,
                    "family_name_kana": fam_k,
                    "given_name_kana": giv_k,
                    "birth_date": dt.date.fromisoformat(born),
                    "sex": sex,
                    "household": household,
                    "relationship": rel,
                },
            )
            residents += 1
            if email:
                account = _user(email, name=f"{fam} {giv}", kind=User.Kind.RESIDENT, password_hash=resident_hash)
                if account.resident_id is None:
                    account.resident = resident
                    account.save(update_fields=["resident"])
    staff = 0
    for dept in Department.objects.all():
        for role in STAFF_ROLES:
            email = f"{dept.code}-{role}@demo-ku.example.jp"
            label = dict(StaffRole.Role.choices)[role]
            user = _user(email, name=f"{dept.name}{label}", kind=User.Kind.STAFF, password_hash=staff_hash)
            StaffRole.objects.get_or_create(user=user, department=dept, defaults={"role": role})
            staff += 1
    if not User.objects.filter(email=ADMIN_EMAIL).exists():
        admin = User.objects.create_superuser(
            username=ADMIN_EMAIL,
            email=ADMIN_EMAIL,
            password=STAFF_PASSWORD,
            kind=User.Kind.STAFF,
            display_name="情報政策課 管理者",
            email_verified_at=timezone.now(),
        )
        for dept in Department.objects.all():
            StaffRole.objects.get_or_create(user=admin, department=dept, defaults={"role": StaffRole.Role.ADMIN})
    reservations_demo_load()
    return DemoReport(catalog=report, forms=forms, residents=residents, staff=staff + 1)
