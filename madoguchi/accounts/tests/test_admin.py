from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import DepartmentFactory, ResidentFactory, StaffFactory, UserFactory
from madoguchi.core.audit import audit_record
from madoguchi.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return UserFactory(kind=User.Kind.STAFF, is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    client.force_login(superuser)
    return client


def test_admin_pages_load_in_japanese_for_a_superuser(admin_client: Client, superuser: User) -> None:
    resident = ResidentFactory()
    department = DepartmentFactory()
    event = audit_record(actor=superuser, action="test.event")
    urls = [
        reverse("admin:index"),
        reverse("admin:core_user_changelist"),
        reverse("admin:core_user_add"),
        reverse("admin:core_user_change", args=[superuser.pk]),
        reverse("admin:core_department_changelist"),
        reverse("admin:core_department_change", args=[department.pk]),
        reverse("admin:core_household_changelist"),
        reverse("admin:core_household_change", args=[resident.household.pk]),
        reverse("admin:core_resident_changelist"),
        reverse("admin:core_resident_change", args=[resident.pk]),
        reverse("admin:core_auditevent_changelist"),
        reverse("admin:core_auditevent_change", args=[event.pk]),
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert "アカウント" in admin_client.get(reverse("admin:index")).content.decode()
    change = admin_client.get(reverse("admin:core_user_change", args=[superuser.pk])).content.decode()
    assert "totp_secret" not in change  # the TOTP secret is never shown


def test_audit_log_cannot_be_added_changed_or_deleted(admin_client: Client, superuser: User) -> None:
    event = audit_record(actor=superuser, action="test.event")
    assert admin_client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:core_auditevent_delete", args=[event.pk])).status_code == 403
    admin_client.post(reverse("admin:core_auditevent_change", args=[event.pk]), {"action": "tampered"})
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_admin_creates_account_by_email(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:core_user_add"),
        {
            "email": "new.staff@demo-ku.example.jp",
            "kind": "staff",
            "display_name": "新人 職員",
            "usable_password": "true",
            "password1": "Kuyakusho-Shinjin-2026",
            "password2": "Kuyakusho-Shinjin-2026",
            "staff_roles-TOTAL_FORMS": "0",
            "staff_roles-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="new.staff@demo-ku.example.jp")
    assert user.kind == User.Kind.STAFF
    assert user.check_password("Kuyakusho-Shinjin-2026")
    assert user.username


def test_admin_action_resets_two_factor(admin_client: Client, superuser: User) -> None:
    staff = StaffFactory(totp_secret="JBSWY3DPEHPK3PXP", totp_confirmed_at="2026-01-01T00:00:00+09:00")
    response = admin_client.post(
        reverse("admin:core_user_changelist"), {"action": "reset_two_factor", "_selected_action": [staff.pk]}
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.totp_secret == "" and staff.totp_confirmed_at is None
    assert AuditEvent.objects.filter(action="accounts.staff_totp_reset", actor=superuser).exists()


def test_admin_login_goes_through_the_staff_login(client: Client) -> None:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    login = client.get(response["Location"], follow=False)
    assert login.status_code == 302
    assert login["Location"].startswith(reverse("accounts:staff_login"))


def test_admin_requires_the_totp_step_when_2fa_is_required(admin_client: Client, settings: Any) -> None:
    settings.STAFF_REQUIRE_2FA = True
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_residents_cannot_open_the_admin(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get(reverse("admin:core_user_changelist")).status_code == 302
