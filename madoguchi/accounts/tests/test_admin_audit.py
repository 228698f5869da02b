"""The admin leaves a trail: reads of personal data, and every change, go into the
hash-chained audit log; and only people allowed into the admin get that far."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import (
    PASSWORD,
    DepartmentFactory,
    ResidentFactory,
    StaffFactory,
    UserFactory,
)
from madoguchi.core.audit import audit_verify
from madoguchi.core.models import AuditEvent, Department, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return StaffFactory(is_staff=True, is_superuser=True, display_name="管理 太郎")


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    client.force_login(superuser)
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _assert_chain_intact() -> None:
    count, problems = audit_verify()
    assert count > 0
    assert problems == []


def test_opening_a_resident_in_the_admin_is_audited(admin_client: Client, superuser: User) -> None:
    resident = ResidentFactory(family_name="山田", given_name="花子")
    response = admin_client.get(reverse("admin:core_resident_change", args=[resident.pk]))
    assert response.status_code == 200
    assert "花子" in response.content.decode()
    [event] = _events("personal_data.view")
    assert event.target_type == "core.resident"
    assert event.target_id == str(resident.pk)
    assert event.actor == superuser
    assert event.actor_label == "管理 太郎"
    assert event.data["via"] == "admin"
    _assert_chain_intact()


def test_listing_and_searching_residents_is_audited(admin_client: Client, superuser: User) -> None:
    ResidentFactory(family_name="山田")
    changelist = reverse("admin:core_resident_changelist")
    assert admin_client.get(changelist).status_code == 200
    response = admin_client.get(changelist, {"q": "山田"})
    assert response.status_code == 200
    events = _events("personal_data.list")
    assert len(events) == 2
    assert all(e.actor == superuser and e.data["model"] == "core.resident" for e in events)
    assert events[0].data["query"] == ""
    assert events[1].data["query"] == "q=%E5%B1%B1%E7%94%B0"  # q=山田
    _assert_chain_intact()


def test_households_and_accounts_are_personal_data_too(admin_client: Client) -> None:
    resident = ResidentFactory()
    account = UserFactory(resident=resident)
    admin_client.get(reverse("admin:core_household_change", args=[resident.household.pk]))
    admin_client.get(reverse("admin:core_user_change", args=[account.pk]))
    admin_client.get(reverse("admin:core_household_changelist"))
    admin_client.get(reverse("admin:core_user_changelist"))
    views = {(e.target_type, e.target_id) for e in _events("personal_data.view")}
    assert views == {("core.household", str(resident.household.pk)), ("core.user", str(account.pk))}
    assert {e.data["model"] for e in _events("personal_data.list")} == {"core.household", "core.user"}
    _assert_chain_intact()


def test_autocomplete_searches_for_residents_are_audited(admin_client: Client, superuser: User) -> None:
    ResidentFactory(family_name="山田", given_name="花子")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "core", "model_name": "user", "field_name": "resident", "term": "山田"},
    )
    assert response.status_code == 200
    assert "山田 花子" in json.dumps(response.json(), ensure_ascii=False)
    [event] = _events("personal_data.list")
    assert event.actor == superuser
    assert event.data["model"] == "core.resident"
    assert event.data["via"] == "admin-autocomplete"
    assert "term=" in event.data["query"]


def test_departments_are_not_personal_data(admin_client: Client) -> None:
    department = DepartmentFactory()
    admin_client.get(reverse("admin:core_department_change", args=[department.pk]))
    admin_client.get(reverse("admin:core_department_changelist"))
    assert not AuditEvent.objects.filter(action__startswith="personal_data.").exists()


def test_editing_a_department_is_audited(admin_client: Client, superuser: User) -> None:
    department = DepartmentFactory(code="test-madoguchi", name="窓口課")
    response = admin_client.post(
        reverse("admin:core_department_change", args=[department.pk]),
        {
            "code": "test-madoguchi",
            "name": "窓口課（本庁舎）",
            "name_en": "",
            "location": "1階",
            "location_en": "",
            "phone": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    department.refresh_from_db()
    assert department.name == "窓口課（本庁舎）"
    [event] = _events("admin.change")
    assert event.actor == superuser
    assert event.target_type == "core.department"
    assert event.target_id == str(department.pk)
    assert "名称" in event.data["change"] and "窓口の場所" in event.data["change"]
    _assert_chain_intact()


def test_adding_and_deleting_in_the_admin_is_audited(admin_client: Client, superuser: User) -> None:
    response = admin_client.post(
        reverse("admin:core_department_add"),
        {"code": "shimin-soudan", "name": "市民相談課", "name_en": "", "location": "", "location_en": "", "phone": ""},
    )
    assert response.status_code == 302
    department = Department.objects.get(code="shimin-soudan")
    [added] = _events("admin.add")
    assert (added.target_type, added.target_id, added.actor) == ("core.department", str(department.pk), superuser)

    response = admin_client.post(reverse("admin:core_department_delete", args=[department.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Department.objects.filter(pk=department.pk).exists()
    [deleted] = _events("admin.delete")
    assert deleted.target_id == str(department.pk)
    assert deleted.data["repr"] == "市民相談課"
    _assert_chain_intact()


def test_admin_setting_a_password_is_audited(admin_client: Client, superuser: User) -> None:
    staff = StaffFactory()
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": "Atarashii-Pasuwado-2026", "password2": "Atarashii-Pasuwado-2026", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    staff.refresh_from_db()
    assert staff.check_password("Atarashii-Pasuwado-2026")
    [event] = _events("admin.change")
    assert event.actor == superuser
    assert (event.target_type, event.target_id) == ("core.user", str(staff.pk))
    assert "password" in event.data["change"]
    _assert_chain_intact()


def test_admin_adding_an_account_is_audited(admin_client: Client, superuser: User) -> None:
    response = admin_client.post(
        reverse("admin:core_user_add"),
        {
            "email": "new.staff@demo-ku.example.jp",
            "kind": "staff",
            "display_name": "新人 職員",
            "usable_password": "false",
            "staff_roles-TOTAL_FORMS": "0",
            "staff_roles-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.staff@demo-ku.example.jp")
    [event] = _events("admin.add")
    assert (event.target_type, event.target_id, event.actor) == ("core.user", str(user.pk), superuser)


# -- who may open the admin ------------------------------------------------------------
def test_resident_account_cannot_open_the_admin(client: Client) -> None:
    resident_account = UserFactory(resident=ResidentFactory())
    assert resident_account.kind == User.Kind.RESIDENT
    client.force_login(resident_account)
    for url in (
        reverse("admin:index"),
        reverse("admin:core_resident_changelist"),
        reverse("admin:core_resident_change", args=[resident_account.resident.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action__startswith="personal_data.").exists()


def test_resident_logged_in_on_the_resident_page_cannot_open_the_admin(client: Client) -> None:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    resident_account = UserFactory()
    client.post(reverse("accounts:login"), {"email": resident_account.email, "password": PASSWORD})
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_without_admin_permissions_cannot_open_the_resident_admin(client: Client) -> None:
    resident = ResidentFactory()
    plain_staff = StaffFactory()  # kind staff, not allowed into the admin at all
    client.force_login(plain_staff)
    assert client.get(reverse("admin:core_resident_changelist")).status_code == 302

    admin_staff = StaffFactory(is_staff=True)  # may enter the admin, but has no permissions
    client.force_login(admin_staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:core_resident_changelist")).status_code == 403
    assert client.get(reverse("admin:core_resident_change", args=[resident.pk])).status_code == 403
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "core", "model_name": "user", "field_name": "resident", "term": "山田"},
    )
    assert autocomplete.status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="personal_data.").exists()


def test_staff_with_view_permission_is_audited_like_a_superuser(client: Client) -> None:
    resident = ResidentFactory()
    viewer = StaffFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_resident", content_type__app_label="core"))
    client.force_login(viewer)
    response = client.get(reverse("admin:core_resident_change", args=[resident.pk]))
    assert response.status_code == 200
    [event] = _events("personal_data.view")
    assert event.actor == viewer
    assert event.target_id == str(resident.pk)
