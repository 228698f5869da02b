"""Property tests: the transition table, and random sequences of actions by random
people (approvers, delegates, the requester, other departments, a resident; with
current or stale versions) that never leave a request inconsistent."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from madoguchi.approvals import hooks, machine
from madoguchi.approvals.exceptions import ApprovalError
from madoguchi.approvals.machine import FINAL, TRANSITIONS, Action, IllegalTransition, Status
from madoguchi.approvals.models import ApprovalRequest, ApprovalRoute, Delegation
from madoguchi.approvals.selectors import request_problems
from madoguchi.approvals.services import approval_act, approval_request_start, approval_request_withdraw
from madoguchi.core.models import Department, User

from .conftest import StaffMaker, make_route


@given(
    current=st.sampled_from(list(Status)), action=st.sampled_from(list(Action)), target=st.sampled_from(list(Status))
)
def test_check_transition_follows_the_table(current: Status, action: Action, target: Status) -> None:
    if current == Status.PENDING and target in TRANSITIONS[action]:
        assert machine.check_transition(current, action, target) == target
    else:
        with pytest.raises(IllegalTransition):
            machine.check_transition(current, action, target)


def test_every_status_but_pending_is_final() -> None:
    assert set(Status) - FINAL == {Status.PENDING}
    assert set(TRANSITIONS) == set(Action)


ACTORS = ["requester", "kakaricho", "kakaricho2", "kacho", "bosai", "chiiki", "delegate", "other", "resident"]
ACTIONS = ["approve", "approve", "approve", "reject", "send_back", "withdraw", "bogus"]
OPS = st.lists(st.tuples(st.sampled_from(ACTORS), st.sampled_from(ACTIONS), st.booleans(), st.booleans()), max_size=12)
ROUTES = st.sampled_from(["single", "sequential", "gougi", "gougi-first"])
#: The approvers of each shape in an order that approves it: a sequence may begin with
#: the first few of them, so that later steps, approval and the lock are exercised too.
HAPPY = {
    "single": ["kakaricho"],
    "sequential": ["kakaricho", "kacho"],
    "gougi": ["kakaricho", "chiiki", "kacho", "bosai"],
    "gougi-first": ["bosai", "chiiki", "kacho"],
}
_subjects = itertools.count(1)


@pytest.fixture
def cast(make_staff: StaffMaker, resident: User) -> dict[str, User]:
    people = {
        "requester": make_staff("kumin", "tanto"),
        "kakaricho": make_staff("kumin", "kakaricho"),
        "kakaricho2": make_staff("kumin", "kakaricho"),
        "kacho": make_staff("kumin", "kacho"),
        "bosai": make_staff("bosai", "kacho"),
        "chiiki": make_staff("chiiki", "kacho"),
        "delegate": make_staff("kumin", "tanto"),
        "other": make_staff("zeimu", "kakaricho"),
        "resident": resident,
    }
    today = timezone.localdate()
    Delegation.objects.create(approver=people["kacho"], delegate=people["delegate"], starts_on=today, ends_on=today)
    return people


@pytest.fixture
def shapes(catalog: None) -> dict[str, ApprovalRoute]:
    return {
        "single": make_route("p-single", [[("kakaricho", None)]]),
        "sequential": make_route("p-seq", [[("kakaricho", None)], [("kacho", None)]]),
        "gougi": make_route(
            "p-gougi", [[("kakaricho", None)], [("kacho", None), ("kacho", "bosai"), ("kacho", "chiiki")]]
        ),
        "gougi-first": make_route("p-gougi-first", [[("kacho", "bosai"), ("kacho", "chiiki")], [("kacho", None)]]),
    }


@pytest.mark.django_db
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=ROUTES, lead=st.integers(min_value=0, max_value=4), tail=OPS)
def test_random_actions_never_leave_a_request_inconsistent(
    cast: dict[str, User],
    shapes: dict[str, ApprovalRoute],
    shape: str,
    lead: int,
    tail: list[tuple[str, str, bool, bool]],
) -> None:
    ops = [(who, "approve", False, False) for who in HAPPY[shape][:lead]] + tail
    finished: list[str] = []

    def record(request: ApprovalRequest, outcome: Status) -> None:
        assert request.status == outcome  # called after the request is saved, in its transaction
        finished.append(outcome.value)

    hooks.on_request_finished.connect("property", record)
    try:
        request = approval_request_start(
            subject_kind="property",
            subject_id=str(next(_subjects)),
            title="決裁のテスト",
            department=Department.objects.get(code="kumin"),
            requester=cast["requester"],
            route=shapes[shape],
        )
        for who, action, stale, with_comment in ops:
            before = ApprovalRequest.objects.get(pk=request.pk)
            given = ApprovalRequest.objects.get(pk=request.pk)  # the services refresh what they are given
            count = before.actions.count()
            version = before.version - 1 if stale else before.version
            try:
                if action == "withdraw":
                    approval_request_withdraw(request=given, actor=cast[who], expected_version=version)
                else:
                    approval_act(
                        request=given,
                        actor=cast[who],
                        action=action,
                        comment="理由" if with_comment else "",
                        expected_version=version,
                    )
            except ApprovalError:
                after = ApprovalRequest.objects.get(pk=request.pk)
                # A refusal changes nothing.
                assert (after.status, after.version, after.current_step) == (
                    before.status,
                    before.version,
                    before.current_step,
                )
                assert after.actions.count() == count
            else:
                after = ApprovalRequest.objects.get(pk=request.pk)
                assert before.status == Status.PENDING and not stale and who not in ("resident", "other")
                assert after.version == before.version + 1 and after.actions.count() == count + 1
            if before.is_finished:
                assert after.status == before.status  # locked
            assert request_problems(after) == []
        final = ApprovalRequest.objects.get(pk=request.pk)
        assert finished == ([final.status] if final.is_finished else [])
        note_event(f"{shape}: {final.status}")
    finally:
        hooks.on_request_finished.disconnect("property", record)


@pytest.mark.django_db
def test_request_problems_reports_an_approval_with_a_box_missing(
    cast: dict[str, User], shapes: dict[str, ApprovalRoute]
) -> None:
    """The checker itself can fail: an approval forced past a 合議 with one box empty."""
    request = approval_request_start(
        subject_kind="property",
        subject_id="forced",
        title="決裁のテスト",
        department=Department.objects.get(code="kumin"),
        requester=cast["requester"],
        route=shapes["gougi"],
    )
    approval_act(request=request, actor=cast["kakaricho"], action="approve", expected_version=1)
    approval_act(request=request, actor=cast["bosai"], action="approve", expected_version=2)
    assert request_problems(request) == []
    ApprovalRequest.objects.filter(pk=request.pk).update(
        status=Status.APPROVED, current_step=2, finished_at=timezone.now()
    )
    request.refresh_from_db()
    problems: list[Any] = request_problems(request)
    assert any("not approved" in p for p in problems)
