"""The decision of a case goes through the e-approval route (電子決裁) of its procedure
(``madoguchi.approvals``). This module is the only place where the cases app talks to
the approvals app: it starts the route for a proposed decision, shows the case on the
approval page, and turns the route's outcome into the case's decision."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.approvals.exceptions import ApprovalError, NoRoute
from madoguchi.approvals.hooks import Outcome, SubjectSummary, on_request_finished, subject_summary
from madoguchi.approvals.machine import Status as ApprovalStatus
from madoguchi.approvals.models import ApprovalRequest
from madoguchi.approvals.selectors import approval_route_for
from madoguchi.approvals.services import approval_request_start
from madoguchi.cases.models import Case
from madoguchi.core.models import User

SUBJECT_KIND = "case_decision"


def route_exists(case: Case) -> bool:
    try:
        approval_route_for(procedure=case.procedure)
    except NoRoute:
        return False
    return True


def start(case: Case, actor: User) -> ApprovalRequest:
    """Start the route for the proposed decision (inside the case's transaction)."""
    from madoguchi.cases.services import CaseError

    title = _("%(procedure)s の決定（受付番号 %(number)s、%(outcome)s）") % {
        "procedure": case.procedure.name,
        "number": case.reference_number,
        "outcome": case.get_outcome_display(),
    }
    try:
        return approval_request_start(
            subject_kind=SUBJECT_KIND,
            subject_id=str(case.pk),
            title=title,
            department=case.department,
            requester=actor,
            route=approval_route_for(procedure=case.procedure),
        )
    except ApprovalError as exc:
        raise CaseError(str(getattr(exc, "message", "") or exc)) from exc


@on_request_finished(SUBJECT_KIND)
def _finished(request: ApprovalRequest, outcome: Outcome) -> None:
    from madoguchi.cases.services import case_approval_finished

    case = Case.objects.filter(pk=int(request.subject_id)).first()
    if case is None:
        return
    last = request.actions.select_related("actor").order_by("-pk").first()
    actor = last.actor if last is not None else None
    comment = last.comment if last is not None else ""
    case_approval_finished(case=case, approved=outcome == ApprovalStatus.APPROVED, actor=actor, comment=comment)


@subject_summary(SUBJECT_KIND)
def _summary(request: ApprovalRequest) -> SubjectSummary | None:
    case = Case.objects.select_related("procedure").filter(pk=int(request.subject_id)).first()
    if case is None:
        return None
    fields = [
        (_("受付番号"), case.reference_number),
        (_("手続き"), case.procedure.name),
        (_("申請者"), case.applicant_name),
        (_("決定の内容"), case.get_outcome_display()),
    ]
    if case.decision_reason:
        fields.append((_("理由"), case.decision_reason))
    return SubjectSummary(
        title=request.title,
        fields=fields,
        links=[(_("案件を開く"), reverse("cases:detail", args=[case.reference_number]))],
    )
