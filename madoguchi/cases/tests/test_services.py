from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application
from madoguchi.applications.services import application_transition
from madoguchi.cases import services
from madoguchi.cases.models import Case, CaseEvent, Outcome
from madoguchi.cases.tests.conftest import staff
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage


def test_submitting_an_application_opens_its_case_in_the_department(application: Application) -> None:
    case = Case.objects.get(application=application)
    assert case.reference_number == application.reference_number
    assert case.department.code == "kumin"
    assert case.status == Status.SUBMITTED
    assert case.applicant_name == "山田 花子" and case.applicant_kana == "ヤマダハナコ"
    assert case.events.filter(kind=CaseEvent.Kind.RECEIVED).count() == 1
    # 住民票の写し: 標準処理期間 5 open days, ending at the end of an open day
    local_due = timezone.localtime(case.due_at)
    assert local_due.time() == dt.time(23, 59, 59)
    assert case.due_at > case.received_at + dt.timedelta(days=4)


def test_processing_due_skips_weekends_holidays_and_year_end() -> None:
    tz = timezone.get_current_timezone()
    friday = dt.datetime(2026, 12, 25, 10, 0, tzinfo=tz)  # 年末年始 is 12/29–1/3
    due = services.processing_due(friday, 2)
    assert timezone.localtime(due).date() == dt.date(2027, 1, 4)  # 12/28, then 1/4


def test_review_assigns_the_reviewer_and_mirrors_the_status(application: Application, tanto: User) -> None:
    case = application.case
    services.case_start_review(case=case, actor=tanto, expected_version=case.version)
    case.refresh_from_db()
    application.refresh_from_db()
    assert case.status == application.status == Status.IN_REVIEW
    assert case.assignee == tanto
    assert application.status_changes.filter(to_status=Status.IN_REVIEW).exists()
    assert AuditEvent.objects.filter(action="application.transition", actor=tanto).exists()


def test_a_stale_form_is_refused_and_changes_nothing(application: Application, tanto: User, kakaricho: User) -> None:
    case = application.case
    shown = case.version
    services.case_assign(case=case, assignee=tanto, actor=kakaricho, expected_version=shown)
    with pytest.raises(services.StaleCase):
        services.case_start_review(case=case, actor=tanto, expected_version=shown)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_a_tanto_cannot_assign_someone_else(application: Application, tanto: User, kakaricho: User) -> None:
    case = application.case
    with pytest.raises(services.NotAllowed):
        services.case_assign(case=case, assignee=kakaricho, actor=tanto, expected_version=None)
    services.case_assign(case=case, assignee=tanto, actor=tanto, expected_version=None)
    case.refresh_from_db()
    assert case.assignee == tanto


def test_staff_of_another_department_cannot_touch_the_case(application: Application, other_department: User) -> None:
    case = application.case
    with pytest.raises(services.NotAllowed):
        services.case_start_review(case=case, actor=other_department, expected_version=None)
    with pytest.raises(services.NotAllowed):
        services.case_add_note(case=case, actor=other_department, body="見ました")
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and not case.events.filter(kind=CaseEvent.Kind.NOTE).exists()


def test_cannot_assign_to_staff_of_another_department(
    application: Application, kakaricho: User, other_department: User
) -> None:
    with pytest.raises(services.NotAllowed):
        services.case_assign(case=application.case, assignee=other_department, actor=kakaricho, expected_version=None)


def test_bulk_assign_is_all_or_nothing(hanako: User, kakaricho: User, tanto: User) -> None:
    from madoguchi.cases.tests.conftest import submit

    cases = [submit(hanako).case for _ in range(3)]
    assert services.case_bulk_assign(cases=cases, assignee=tanto, actor=kakaricho) == 3
    assert Case.objects.filter(assignee=tanto).count() == 3
    with pytest.raises(services.NotAllowed):
        services.case_bulk_assign(cases=cases, assignee=None, actor=tanto)
    assert Case.objects.filter(assignee=tanto).count() == 3


def test_an_illegal_transition_is_refused(application: Application, tanto: User) -> None:
    case = application.case
    with pytest.raises(services.IllegalCaseTransition):
        services.case_complete(case=case, actor=tanto, expected_version=None)
    with pytest.raises(services.IllegalCaseTransition):
        services.case_propose_decision(
            case=case, actor=tanto, outcome=Outcome.GRANTED, reason="", expected_version=None
        )


def test_deciding_without_a_route_needs_a_kakaricho_and_locks_the_case(
    application: Application, tanto: User, kakaricho: User
) -> None:
    from madoguchi.approvals.models import ApprovalRoute

    ApprovalRoute.objects.update(active=False)
    case = application.case
    services.case_start_review(case=case, actor=tanto, expected_version=None)
    with pytest.raises(services.NotAllowed):
        services.case_propose_decision(
            case=case, actor=tanto, outcome=Outcome.GRANTED, reason="", expected_version=None
        )
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and case.outcome == ""
    services.case_propose_decision(
        case=case, actor=kakaricho, outcome=Outcome.GRANTED, reason="", expected_version=None
    )
    case.refresh_from_db()
    assert case.status == Status.DECIDED and case.is_locked and case.decided_at
    assert case.notice_file
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"case-notice-{case.pk}").count() == 2
    with pytest.raises(services.CaseLocked):
        services.case_assign(case=case, assignee=None, actor=kakaricho, expected_version=None)
    services.case_complete(case=case, actor=tanto, expected_version=None)
    case.refresh_from_db()
    assert case.status == Status.COMPLETED and case.closed_at


def test_refusing_needs_a_reason(application: Application, tanto: User, kakaricho: User) -> None:
    case = application.case
    services.case_start_review(case=case, actor=tanto, expected_version=None)
    with pytest.raises(services.CaseError):
        services.case_propose_decision(
            case=case, actor=kakaricho, outcome=Outcome.REFUSED, reason=" ", expected_version=None
        )


def test_the_residents_withdrawal_is_mirrored_and_bumps_the_version(application: Application, hanako: User) -> None:
    case = application.case
    before = case.version
    application_transition(application=application, target=Status.WITHDRAWN, actor=hanako)
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN and case.version > before and case.is_locked


def test_every_view_of_resident_data_is_audited(application: Application, tanto: User) -> None:
    services.case_record_viewed(case=application.case, actor=tanto, what="resident_record")
    event = AuditEvent.objects.filter(action="case.resident_data_viewed").get()
    assert event.actor == tanto and event.data["what"] == "resident_record"


def test_notes_are_validated(application: Application, tanto: User) -> None:
    with pytest.raises(services.CaseError):
        services.case_add_note(case=application.case, actor=tanto, body="   ")
    services.case_add_note(case=application.case, actor=tanto, body="電話で確認済み")
    assert application.case.events.filter(kind=CaseEvent.Kind.NOTE, message="電話で確認済み").exists()


def test_admin_role_sees_all_departments(application: Application) -> None:
    from madoguchi.cases.selectors import case_visible_to

    admin = User.objects.get(email="admin@demo-ku.example.jp")
    assert case_visible_to(admin).filter(pk=application.case.pk).exists()
    assert not case_visible_to(staff("kosodate", "tanto")).filter(pk=application.case.pk).exists()


def _approval_of(case: Case):  # type: ignore[no-untyped-def]
    from madoguchi.approvals.models import ApprovalRequest

    return ApprovalRequest.objects.get(subject_kind="case_decision", subject_id=str(case.pk))


def test_a_decision_goes_through_the_route_and_is_final_when_approved(
    application: Application, tanto: User, kakaricho: User, hanako: User
) -> None:
    from madoguchi.approvals.services import approval_act

    case = application.case
    case = services.case_start_review(case=case, actor=tanto, expected_version=None)
    services.case_propose_decision(
        case=case, actor=tanto, outcome=Outcome.GRANTED, reason="", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.status == Status.PENDING_APPROVAL and not case.notice_file
    request = _approval_of(case)
    approval_act(request=request, actor=kakaricho, action="approve", expected_version=request.version)
    case.refresh_from_db()
    assert case.status == Status.DECIDED and case.outcome == Outcome.GRANTED and case.notice_file
    assert case.events.filter(kind=CaseEvent.Kind.DECISION, actor=kakaricho).exists()
    assert application.status_changes.filter(to_status=Status.DECIDED).exists()


def test_a_rejected_decision_returns_to_review(application: Application, tanto: User, kakaricho: User) -> None:
    from madoguchi.approvals.services import approval_act

    case = application.case
    services.case_start_review(case=case, actor=tanto, expected_version=None)
    services.case_propose_decision(
        case=case, actor=tanto, outcome=Outcome.REFUSED, reason="要件を満たさない", expected_version=None
    )
    request = _approval_of(case)
    approval_act(
        request=request, actor=kakaricho, action="reject", comment="理由を具体的に", expected_version=request.version
    )
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and not case.decided_at
    returned = case.events.filter(kind=CaseEvent.Kind.APPROVAL).last()
    assert returned is not None and returned.message == "理由を具体的に"


def test_the_drafter_cannot_approve_their_own_decision(application: Application, kakaricho: User) -> None:
    from madoguchi.approvals.exceptions import ApprovalError
    from madoguchi.approvals.services import approval_act

    case = application.case
    services.case_start_review(case=case, actor=kakaricho, expected_version=None)
    try:
        services.case_propose_decision(
            case=case, actor=kakaricho, outcome=Outcome.GRANTED, reason="", expected_version=None
        )
    except services.CaseError:
        return  # a route with no approver after the drafter is refused as a whole
    request = _approval_of(case)
    with pytest.raises(ApprovalError):
        approval_act(request=request, actor=kakaricho, action="approve", expected_version=request.version)
    case.refresh_from_db()
    assert case.status == Status.PENDING_APPROVAL
