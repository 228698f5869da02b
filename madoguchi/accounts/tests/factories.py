from __future__ import annotations

import datetime as dt

import factory

from madoguchi.core.models import Department, Household, Resident, StaffRole, User

PASSWORD = "kuyakusho-Sakura-2026"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    household_number = factory.Sequence(lambda n: f"H{n:07d}")
    postal_code = "123-4567"
    address = factory.Sequence(lambda n: f"東京都デモ区桜町1丁目{n + 1}番3号")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    resident_number = factory.Sequence(lambda n: f"R{n:08d}")
    family_name = "山田"
    given_name = factory.Iterator(["花子", "太郎", "一郎", "さくら"])
    family_name_kana = "ヤマダ"
    given_name_kana = factory.Iterator(["ハナコ", "タロウ", "イチロウ", "サクラ"])
    birth_date = factory.Sequence(lambda n: dt.date(1980, 1, 1) + dt.timedelta(days=37 * n))
    sex = Resident.Sex.FEMALE
    household = factory.SubFactory(HouseholdFactory)
    relationship = "世帯主"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.jp")
    kind = User.Kind.RESIDENT
    email_verified_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    kind = User.Kind.STAFF
    email = factory.Sequence(lambda n: f"staff{n}@demo-ku.example.jp")
    email_verified_at = None


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"部署{n}")


class StaffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(StaffFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = StaffRole.Role.TANTO
