"""The approval services: sequential and 合議 steps, delegation (代決), every refusal,
the finished hook, audit records and the lock on finished requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from madoguchi.approvals import hooks
from madoguchi.approvals.exceptions import (
    AlreadyActed,
    AlreadyPending,
    CommentRequired,
    DelegationRefused,
    InvalidAction,
    NoApproverLeft,
    NotAnApprover,
    NotInDepartment,
    NotRequester,
    NotStaff,
    RequestFinished,
    SelfApproval,
    SlotDecided,
    StaleVersion,
)
from madoguchi.approvals.machine import Status
from madoguchi.approvals.models import ApprovalAction, ApprovalRequest, ApprovalRoute, ApprovalSlot, Locked, RouteStep
from madoguchi.approvals.selectors import act_check, pending_for
from madoguchi.approvals.services import (
    approval_act,
    approval_request_start,
    approval_request_withdraw,
    delegation_cancel,
    delegation_set,
)
from madoguchi.core.models import AuditEvent, Department, User

from .conftest import StaffMaker, make_route

pytestmark = pytest.mark.django_db


def start(route: ApprovalRoute, requester: User, *, department: str = "kumin", subject: str = "1") -> ApprovalRequest:
    return approval_request_start(
        subject_kind="test_case",
        subject_id=subject,
        title="住民票の写しの交付決定",
        department=Department.objects.get(code=department),
        requester=requester,
        route=route,
    )


def act(request: ApprovalRequest, actor: User, action: str = "approve", comment: str = "") -> ApprovalAction:
    request.refresh_from_db()
    return approval_act(request=request, actor=actor, action=action, comment=comment, expected_version=request.version)


@pytest.fixture
def finished_calls() -> Any:
    calls: list[tuple[str, str, str]] = []

    def record(request: ApprovalRequest, outcome: Status) -> None:
        calls.append((request.subject_id, outcome.value, request.status))

    hooks.on_request_finished.connect("test_case", record)
    yield calls
    hooks.on_request_finished.disconnect("test_case", record)


# -- sequential ---------------------------------------------------------------------------
def test_sequential_route_goes_kakaricho_then_kacho_and_approves(
    standard: ApprovalRoute, kumin: dict[str, User], finished_calls: list[Any]
) -> None:
    request = start(standard, kumin["tanto"])
    assert request.status == Status.PENDING and request.current_step == 0 and request.version == 1
    assert [s["members"][0]["role"] for s in request.steps] == ["kakaricho", "kacho"]

    with pytest.raises(NotAnApprover):  # 課長 must wait for the 係長
        act(request, kumin["kacho"])
    act(request, kumin["kakaricho"])
    request.refresh_from_db()
    assert (request.status, request.current_step, request.version) == (Status.PENDING, 1, 2)
    assert finished_calls == []

    stamp = act(request, kumin["kacho"], comment="適正")
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.finished_at is not None
    assert request.current_step == 2 and request.version == 3
    assert (stamp.stamp_name, stamp.stamp_role, stamp.stamp_department) == ("区民 課長", "課長", "区民課")
    assert stamp.stamp_date == timezone.localdate() and not stamp.is_delegated
    assert finished_calls == [("1", "approved", "approved")]


def test_route_edits_after_the_start_do_not_change_a_running_request(
    standard: ApprovalRoute, kumin: dict[str, User]
) -> None:
    request = start(standard, kumin["tanto"])
    RouteStep.objects.filter(route=standard, order=2).delete()
    standard.name = "変更後"
    standard.save()
    act(request, kumin["kakaricho"])
    request.refresh_from_db()
    assert request.status == Status.PENDING and request.route_name == "test-standard"
    act(request, kumin["kacho"])
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_a_kakaricho_who_drafts_skips_the_kakaricho_step(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["kakaricho"])
    assert request.current_step == 1 and request.steps[0]["skipped"] is True
    assert ApprovalSlot.objects.get(request=request, step_index=0).skipped
    act(request, kumin["kacho"])
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_a_kacho_cannot_start_a_route_with_nobody_above(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    with pytest.raises(NoApproverLeft):
        start(standard, kumin["kacho"])
    assert not ApprovalRequest.objects.exists()


def test_only_staff_of_the_department_may_start(
    standard: ApprovalRoute, make_staff: StaffMaker, resident: User
) -> None:
    with pytest.raises(NotInDepartment):
        start(standard, make_staff("zeimu", "tanto"))
    with pytest.raises(NotStaff):
        start(standard, resident)


def test_one_running_request_per_subject(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    with pytest.raises(AlreadyPending):
        start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"], "send_back", comment="添付が足りません")
    again = start(standard, kumin["tanto"])  # after 差戻し the requester starts again
    assert again.status == Status.PENDING and again.pk != request.pk


# -- parallel (合議) ------------------------------------------------------------------------
def test_parallel_step_needs_every_member(
    gougi: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker, finished_calls: list[Any]
) -> None:
    bosai, chiiki = make_staff("bosai", "kacho"), make_staff("chiiki", "kacho")
    request = start(gougi, kumin["tanto"])
    with pytest.raises(NotAnApprover):
        act(request, bosai)  # the 合議 comes after the 係長
    act(request, kumin["kakaricho"])
    act(request, chiiki)
    act(request, kumin["kacho"])
    request.refresh_from_db()
    assert request.status == Status.PENDING and request.current_step == 1
    assert [i.request.pk for i in pending_for(bosai)] == [request.pk]
    assert pending_for(chiiki) == []
    act(request, bosai)
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    assert ApprovalAction.objects.filter(request=request, action="approve").count() == 4
    assert len(finished_calls) == 1


def test_one_member_rejecting_a_parallel_step_rejects_the_request(
    gougi: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker, finished_calls: list[Any]
) -> None:
    bosai, chiiki = make_staff("bosai", "kacho"), make_staff("chiiki", "kacho")
    request = start(gougi, kumin["tanto"])
    act(request, kumin["kakaricho"])
    act(request, bosai)
    act(request, chiiki, "reject", comment="予算の裏付けがありません")
    request.refresh_from_db()
    assert request.status == Status.REJECTED
    assert finished_calls == [("1", "rejected", "rejected")]
    with pytest.raises(RequestFinished):
        act(request, kumin["kacho"])


def test_the_same_person_cannot_fill_two_boxes_of_a_parallel_step(
    gougi: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    both = make_staff("bosai", "kacho", also=[("chiiki", "kacho")])
    request = start(gougi, kumin["tanto"])
    act(request, kumin["kakaricho"])
    act(request, both)
    with pytest.raises(AlreadyActed):
        act(request, both)


# -- refusals ----------------------------------------------------------------------------------
def test_wrong_person_other_department_and_resident_are_refused(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker, resident: User
) -> None:
    request = start(standard, kumin["tanto"])
    other_kakaricho = make_staff("zeimu", "kakaricho")
    for actor, error in (
        (kumin["kacho"], NotAnApprover),  # a higher role is not the 係長's box (no implicit 代決)
        (other_kakaricho, NotAnApprover),  # the right role in another department
        (make_staff("kumin", "tanto"), NotAnApprover),
        (resident, NotStaff),
        (kumin["tanto"], SelfApproval),
    ):
        with pytest.raises(error) as refused:
            act(request, actor)
        assert str(refused.value)  # a message to show
    with pytest.raises(NotAnApprover, match="区民課 係長"):
        act(request, other_kakaricho)
    request.refresh_from_db()
    assert request.version == 1 and not ApprovalAction.objects.exists()


def test_acting_twice_is_refused(standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker) -> None:
    second_kakaricho = make_staff("kumin", "kakaricho")
    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"])
    with pytest.raises(NotAnApprover):  # the step has moved on: not the 課長
        act(request, kumin["kakaricho"])
    gougi = make_route("two-kakaricho", [[("kakaricho", None), ("kacho", None)]])
    other = start(gougi, kumin["tanto"], subject="2")
    act(other, kumin["kakaricho"])
    with pytest.raises(AlreadyActed, match="二度"):
        act(other, kumin["kakaricho"])
    with pytest.raises(SlotDecided):  # another 係長: the 係長's box is filled
        act(other, second_kakaricho)


def test_nothing_changes_a_decided_request(
    standard: ApprovalRoute, kumin: dict[str, User], finished_calls: list[Any]
) -> None:
    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"])
    act(request, kumin["kacho"])
    request.refresh_from_db()
    with pytest.raises(RequestFinished, match="終了"):
        act(request, kumin["kacho"], "reject", comment="やはり否決")
    with pytest.raises(RequestFinished):
        approval_request_withdraw(request=request, actor=kumin["tanto"], expected_version=request.version)
    request.title = "改ざん"
    with pytest.raises(Locked):
        request.save()
    with pytest.raises(Locked):
        ApprovalRequest.objects.filter(pk=request.pk).update(status="pending")
    with pytest.raises(Locked):
        request.delete()
    action = ApprovalAction.objects.filter(request=request).first()
    assert action is not None
    action.comment = "改ざん"
    with pytest.raises(Locked):
        action.save()
    with pytest.raises(Locked):
        ApprovalAction.objects.filter(request=request).update(comment="x")
    with pytest.raises(Locked):
        ApprovalAction.objects.filter(request=request).delete()
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.title == "住民票の写しの交付決定"
    assert len(finished_calls) == 1


def test_a_stale_form_is_refused(standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker) -> None:
    request = start(standard, kumin["tanto"])
    page_version = request.version
    act(request, kumin["kakaricho"])  # someone acted after the 課長 opened the page…
    request.refresh_from_db()
    with pytest.raises(StaleVersion, match="最新"):
        approval_act(request=request, actor=kumin["kacho"], action="approve", expected_version=page_version)
    request.refresh_from_db()
    assert request.status == Status.PENDING and request.version == page_version + 1


def test_reject_and_send_back_need_a_reason_and_unknown_actions_are_refused(
    standard: ApprovalRoute, kumin: dict[str, User]
) -> None:
    request = start(standard, kumin["tanto"])
    for action in ("reject", "send_back"):
        with pytest.raises(CommentRequired):
            act(request, kumin["kakaricho"], action, comment="   ")
    for action in ("withdraw", "delete", ""):
        with pytest.raises(InvalidAction):
            act(request, kumin["kakaricho"], action)


def test_send_back_returns_it_to_the_requester(
    standard: ApprovalRoute, kumin: dict[str, User], finished_calls: list[Any]
) -> None:
    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"])
    act(request, kumin["kacho"], "send_back", comment="金額を確認してください")
    request.refresh_from_db()
    assert request.status == Status.SENT_BACK and request.current_step == 1
    assert finished_calls == [("1", "sent_back", "sent_back")]


def test_only_the_requester_withdraws(
    standard: ApprovalRoute, kumin: dict[str, User], finished_calls: list[Any]
) -> None:
    request = start(standard, kumin["tanto"])
    with pytest.raises(NotRequester):
        approval_request_withdraw(request=request, actor=kumin["kakaricho"], expected_version=1)
    with pytest.raises(StaleVersion):
        approval_request_withdraw(request=request, actor=kumin["tanto"], expected_version=7)
    approval_request_withdraw(request=request, actor=kumin["tanto"], expected_version=1)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert finished_calls == [("1", "withdrawn", "withdrawn")]


def test_a_hook_that_fails_rolls_the_decision_back(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    def broken(request: ApprovalRequest, outcome: Status) -> None:
        raise RuntimeError("cases app down")

    hooks.on_request_finished.connect("test_case", broken)
    try:
        request = start(standard, kumin["tanto"])
        act(request, kumin["kakaricho"])
        with pytest.raises(RuntimeError):
            act(request, kumin["kacho"])
    finally:
        hooks.on_request_finished.disconnect("test_case", broken)
    request.refresh_from_db()
    assert request.status == Status.PENDING and request.version == 2
    assert ApprovalAction.objects.filter(request=request).count() == 1


def test_the_database_allows_one_running_request_per_subject(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            subject_kind=request.subject_kind,
            subject_id=request.subject_id,
            title="二重",
            department=request.department,
            requester=request.requester,
            route_code="x",
            route_name="x",
            started_at=timezone.now(),
        )


# -- delegation (代決) -------------------------------------------------------------------------------
def test_a_delegate_acts_for_the_absent_kacho_within_the_period(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    today = timezone.localdate()
    delegation_set(approver=kumin["kacho"], delegate=kumin["kakaricho"], starts_on=today, ends_on=today, reason="出張")
    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"])
    assert [(i.request.pk, i.acting_for) for i in pending_for(kumin["kakaricho"])] == [(request.pk, kumin["kacho"])]
    stamp = act(request, kumin["kakaricho"])  # the 係長 stamps the 課長's box as 代決
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    assert stamp.acting_for == kumin["kacho"] and stamp.actor == kumin["kakaricho"]
    assert stamp.acting_for_name == "区民 課長" and stamp.stamp_role == "課長" and stamp.is_delegated
    event = AuditEvent.objects.filter(action="approvals.approve").latest("id")
    assert event.data["acting_for"] == kumin["kacho"].pk


def test_a_delegation_outside_its_period_gives_no_right(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    delegate = make_staff("kumin", "tanto", name="代理")
    today = timezone.localdate()
    future = delegation_set(
        approver=kumin["kacho"],
        delegate=delegate,
        starts_on=today + dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=3),
    )
    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"])
    with pytest.raises(NotAnApprover):
        act(request, delegate)  # not yet
    assert pending_for(delegate) == []
    delegation_cancel(delegation=future, actor=kumin["kacho"])
    current = delegation_set(approver=kumin["kacho"], delegate=delegate, starts_on=today, ends_on=today)
    request.refresh_from_db()
    assert act_check(request=request, actor=delegate).capacity is not None
    delegation_cancel(delegation=current, actor=kumin["kacho"])
    with pytest.raises(NotAnApprover):
        act(request, delegate)  # cancelled
    # A delegation that ended yesterday (set directly: the service refuses past periods).
    from madoguchi.approvals.models import Delegation

    Delegation.objects.create(
        approver=kumin["kacho"],
        delegate=delegate,
        starts_on=today - dt.timedelta(days=5),
        ends_on=today - dt.timedelta(days=1),
    )
    with pytest.raises(NotAnApprover):
        act(request, delegate)


def test_a_delegate_cannot_act_for_the_requester_or_themselves(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    today = timezone.localdate()
    with pytest.raises(DelegationRefused):
        delegation_set(approver=kumin["kacho"], delegate=kumin["kacho"], starts_on=today, ends_on=today)
    with pytest.raises(DelegationRefused):
        delegation_set(approver=kumin["kacho"], delegate=make_staff("zeimu", "kacho"), starts_on=today, ends_on=today)
    with pytest.raises(DelegationRefused):
        delegation_set(
            approver=kumin["kacho"], delegate=kumin["tanto"], starts_on=today, ends_on=today - dt.timedelta(days=1)
        )
    # The 係長 is the 課長's delegate and drafts a request: still no self-approval.
    delegation_set(approver=kumin["kacho"], delegate=kumin["kakaricho"], starts_on=today, ends_on=today)
    with pytest.raises(DelegationRefused):  # overlapping period
        delegation_set(approver=kumin["kacho"], delegate=kumin["tanto"], starts_on=today, ends_on=today)
    request = start(standard, kumin["kakaricho"])
    with pytest.raises(SelfApproval):
        act(request, kumin["kakaricho"])


# -- audit -------------------------------------------------------------------------------------------
def test_every_decision_is_in_the_audit_log(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    from madoguchi.core.audit import audit_verify

    request = start(standard, kumin["tanto"])
    act(request, kumin["kakaricho"], comment="確認しました")
    act(request, kumin["kacho"], "send_back", comment="再確認")
    events = list(AuditEvent.objects.filter(target_type="approvals.approvalrequest", target_id=str(request.pk)))
    assert [e.action for e in events] == ["approvals.start", "approvals.approve", "approvals.send_back"]
    assert [e.actor for e in events] == [kumin["tanto"], kumin["kakaricho"], kumin["kacho"]]
    assert events[2].data["status"] == "sent_back" and events[2].data["comment_sha256"]
    assert "再確認" not in str(events[2].data)
    checked, problems = audit_verify()
    assert checked >= 3 and problems == []
