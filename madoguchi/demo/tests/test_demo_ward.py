from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from madoguchi.core.audit import audit_verify
from madoguchi.core.models import Resident, StaffRole, User
from madoguchi.demo.ward import RESIDENT_PASSWORD, demo_load

pytestmark = pytest.mark.django_db


def test_demo_ward_loads_once_and_again_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_load")
    out = capsys.readouterr().out
    assert "hanako@example.jp" in out and "demo-kumin-2026" in out
    counts = (User.objects.count(), Resident.objects.count(), StaffRole.objects.count())
    report = demo_load()
    assert not report.catalog.changed
    assert report.forms.created == [] and len(report.forms.unchanged) >= 15
    assert (User.objects.count(), Resident.objects.count(), StaffRole.objects.count()) == counts
    assert audit_verify()[1] == []


def test_demo_ward_has_every_staff_role_in_each_department() -> None:
    demo_load()
    roles = set(StaffRole.objects.filter(user__is_superuser=False).values_list("department__code", "role"))
    departments = set(StaffRole.objects.values_list("department__code", flat=True))
    assert len(departments) >= 10
    for dept in departments:
        assert {(dept, "tanto"), (dept, "kakaricho"), (dept, "kacho")} <= roles


def test_demo_resident_can_log_in(client: Client) -> None:
    demo_load()
    hanako = User.objects.get(email="hanako@example.jp")
    assert hanako.resident is not None and hanako.resident.household.members.count() == 3
    response = client.post("/accounts/login/", {"email": "hanako@example.jp", "password": RESIDENT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/guide/saved/").status_code == 200
