from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from madoguchi.accounts.tests.factories import StaffFactory, UserFactory
from madoguchi.approvals.importer import approvals_import
from madoguchi.approvals.models import ApprovalRoute, RouteStep
from madoguchi.core.models import Department, StaffRole, User


@pytest.fixture(autouse=True)
def _approvals_settings(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "ja"
    settings.STAFF_REQUIRE_2FA = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield


@pytest.fixture
def routes(catalog: None) -> None:
    """The demo ward's routes (data/routes.yaml)."""
    approvals_import()


StaffMaker = Callable[..., User]


@pytest.fixture
def make_staff(catalog: None) -> StaffMaker:
    """``make_staff("kumin", "kacho")``: a member of staff with that role (and more
    roles with ``also=[(dept, role)]``)."""

    def make(department: str, role: str, *, name: str = "", also: list[tuple[str, str]] | None = None) -> User:
        user = StaffFactory(display_name=name or f"{department}{role}")
        for code, r in [(department, role), *(also or [])]:
            StaffRole.objects.create(user=user, department=Department.objects.get(code=code), role=r)
        return user

    return make


@pytest.fixture
def kumin(make_staff: StaffMaker) -> dict[str, User]:
    """担当, 係長 and 課長 of 区民課."""
    return {
        "tanto": make_staff("kumin", "tanto", name="区民 担当"),
        "kakaricho": make_staff("kumin", "kakaricho", name="区民 係長"),
        "kacho": make_staff("kumin", "kacho", name="区民 課長"),
    }


@pytest.fixture
def resident(db: Any) -> User:
    return UserFactory(display_name="山田 花子")


def make_route(code: str, steps: list[list[tuple[str, str | None]]], **values: Any) -> ApprovalRoute:
    """A route whose steps are lists of (role, department code or None) members."""
    route = ApprovalRoute.objects.create(code=code, name=values.pop("name", code), **values)
    for i, members in enumerate(steps):
        RouteStep.objects.create(
            route=route,
            order=i + 1,
            kind="single" if len(members) == 1 else "parallel",
            members=[{"role": role, "department": dept} for role, dept in members],
        )
    return route


@pytest.fixture
def standard(catalog: None) -> ApprovalRoute:
    """係長 → 課長 of the request's department."""
    return make_route("test-standard", [[("kakaricho", None)], [("kacho", None)]], is_default=True)


@pytest.fixture
def gougi(catalog: None) -> ApprovalRoute:
    """係長 → 合議 (課長 of the department, 防災課長, 地域振興課長) → 課長 again is not
    needed: the 合議 is the last step."""
    return make_route(
        "test-gougi",
        [[("kakaricho", None)], [("kacho", None), ("kacho", "bosai"), ("kacho", "chiiki")]],
        for_documents=True,
    )
