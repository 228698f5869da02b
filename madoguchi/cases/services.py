"""Writes of cases. Each service does its whole change in one ``transaction.atomic``
with an audit record and a case event.

A staff form carries the case ``version`` it was shown with (``expected_version``):
when another member of staff changed the case in between, :class:`StaleCase` is raised
and nothing changes. Status changes go through ``applications.services
.application_transition`` (the applications app owns the state machine); the case
mirrors the status in ``receivers.py``. A decided case is locked (:class:`CaseLocked`).

Who may do what (checked here, with ``selectors.staff_can_handle``):

- any staff member of the case's department: start the review, claim it (assign to
  themselves), write notes, request a correction, propose a decision, hand it over;
- 係長 or higher of the department: assign others, bulk-assign, decide directly a
  procedure that has no approval route.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from madoguchi.applications import links, machine
from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application
from madoguchi.applications.services import (
    applicant_language,
    application_notify,
    application_transition,
    procedure_name,
    resume_url,
)
from madoguchi.cases.models import Case, CaseEvent, Outcome
from madoguchi.cases.selectors import staff_can_handle, staff_has_rank
from madoguchi.core.audit import audit_record
from madoguchi.core.japanese import add_open_days, to_katakana
from madoguchi.core.models import User

DEFAULT_PROCESSING_DAYS = 10


class CaseError(Exception):
    """A refused case action; ``message`` says why, for the member of staff."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class StaleCase(CaseError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "この案件は、画面を開いた後にほかの職員が更新しました。最新の内容を確認してから、もう一度操作してください。"
            )
        )


class CaseLocked(CaseError):
    def __init__(self) -> None:
        super().__init__(_("この案件は決定済みのため、変更できません。"))


class NotAllowed(CaseError):
    pass


class IllegalCaseTransition(CaseError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            _("「%(current)s」の案件を「%(target)s」にすることはできません。")
            % {"current": Status(current).label, "target": Status(target).label}
        )


# -- opening ----------------------------------------------------------------------------
def _first_answer(application: Application, field_type: str) -> str:
    definition = application.form_definition.definition
    data = application.data if isinstance(application.data, dict) else {}
    for step in definition.get("steps", []):
        for field in step.get("fields", []):
            if field.get("type") == field_type:
                value = data.get(field["key"])
                if isinstance(value, dict):
                    return " ".join(str(value.get(k, "")) for k in ("family", "given")).strip()
                if isinstance(value, str):
                    return value
    return ""


def _applicant_names(application: Application) -> tuple[str, str]:
    name = _first_answer(application, "name")
    kana = _first_answer(application, "kana")
    applicant = application.applicant
    resident = application.resident or (getattr(applicant, "resident", None) if applicant is not None else None)
    if resident is not None:
        name = name or resident.full_name
        kana = kana or resident.full_name_kana
    if not name and applicant is not None:
        name = applicant.display_name or applicant.email
    kana = to_katakana(kana).replace(" ", "").replace("\u3000", "")
    return name[:200], kana[:200]


def processing_due(received: dt.datetime, days: int | None) -> dt.datetime:
    """The end of the ``days``-th open office day after ``received`` (標準処理期間)."""
    if days is None:
        days = int(getattr(settings, "CASES_DEFAULT_PROCESSING_DAYS", DEFAULT_PROCESSING_DAYS))
    local = timezone.localtime(received)
    last = add_open_days(local.date(), days)
    end = dt.datetime.combine(last, dt.time(23, 59, 59), tzinfo=local.tzinfo)
    return end


def case_open(*, application: Application) -> Case:
    """Open the case of a just-submitted application (inside its transaction; an
    application is submitted once, and a second case for it is refused by the
    database)."""
    received = application.submitted_at or timezone.now()
    name, kana = _applicant_names(application)
    case = Case.objects.create(
        application=application,
        reference_number=application.reference_number or "",
        procedure=application.procedure,
        department_id=application.procedure.department_id,
        status=application.status,
        channel=application.channel,
        applicant_name=name,
        applicant_kana=kana,
        received_at=received,
        due_at=processing_due(received, application.procedure.processing_days),
    )
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.RECEIVED, data={"channel": application.channel})
    return case


# -- helpers ----------------------------------------------------------------------------
def _lock(case: Case, expected_version: int | None) -> Case:
    # The application row first: the resident's changes (withdrawal, resubmission)
    # lock it before the case, so both paths take the locks in the same order.
    Application.objects.select_for_update().filter(pk=case.application_id).first()
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("application", "procedure", "department")
        .get(pk=case.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleCase
    return locked


def _touch(case: Case, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=["version", "updated_at", *fields])


def _event(case: Case, kind: str, actor: User | None, message: str = "", **data: Any) -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, actor=actor, message=message, data=data)


def _audit(case: Case, actor: User | None, action: str, **data: Any) -> None:
    audit_record(
        actor=actor,
        action=f"case.{action}",
        target=case,
        data={"reference_number": case.reference_number, "department": case.department.code, **data},
    )


def _require_handler(case: Case, actor: User) -> None:
    if not staff_can_handle(actor, case):
        raise NotAllowed(_("この案件を扱う権限がありません。"))


def _require_open(case: Case) -> None:
    if case.is_locked:
        raise CaseLocked


def _transition(case: Case, target: str, actor: User, note: str = "", **audit: Any) -> None:
    if not machine.can_transition(case.status, target):
        raise IllegalCaseTransition(case.status, target)
    application_transition(application=case.application, target=target, actor=actor, note=note, **audit)
    case.refresh_from_db(fields=["status", "version"])


# -- assignment and notes ---------------------------------------------------------------
def case_assign(*, case: Case, assignee: User | None, actor: User, expected_version: int | None) -> Case:
    """Assign the case to ``assignee`` (None: nobody). A 担当 may only take a case
    for themselves or give it up; assigning others needs 係長 or higher."""
    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_handler(locked, actor)
        _require_open(locked)
        if (assignee is not None and assignee.pk != actor.pk) or (
            assignee is None and locked.assignee_id not in (None, actor.pk)
        ):
            if not staff_has_rank(actor, locked.department_id, "kakaricho"):
                raise NotAllowed(_("ほかの職員を担当者にするには、係長以上の権限が必要です。"))
        if assignee is not None and not staff_can_handle(assignee, locked):
            raise NotAllowed(_("%(name)s さんはこの部署の職員ではありません。") % {"name": assignee})
        if locked.assignee_id == (assignee.pk if assignee else None):
            return locked
        previous = locked.assignee_id
        locked.assignee = assignee
        _touch(locked, "assignee")
        _event(
            locked,
            CaseEvent.Kind.ASSIGNED,
            actor,
            str(assignee) if assignee else "",
            assignee=assignee.pk if assignee else None,
            previous=previous,
        )
        _audit(locked, actor, "assign", assignee=assignee.pk if assignee else None, previous=previous)
    return locked


def case_bulk_assign(*, cases: Iterable[Case], assignee: User | None, actor: User) -> int:
    """Assign several cases at once (係長 or higher); decided cases are skipped.
    All or nothing: a case the actor may not assign aborts the whole change."""
    count = 0
    with transaction.atomic():
        for case in cases:
            if not staff_has_rank(actor, case.department_id, "kakaricho"):
                raise NotAllowed(_("まとめて担当者を設定するには、係長以上の権限が必要です。"))
            try:
                case_assign(case=case, assignee=assignee, actor=actor, expected_version=None)
            except CaseLocked:
                continue
            count += 1
    return count


def case_add_note(*, case: Case, actor: User, body: str) -> CaseEvent:
    """An internal note (職員のメモ): never shown to the resident."""
    body = body.strip()
    if not body:
        raise CaseError(_("メモを入力してください。"))
    if len(body) > 4000:
        raise CaseError(_("メモは4000文字以内で入力してください。"))
    with transaction.atomic():
        locked = _lock(case, None)
        _require_handler(locked, actor)
        event = _event(locked, CaseEvent.Kind.NOTE, actor, body)
        _audit(locked, actor, "note", length=len(body))
    return event


def case_record_viewed(*, case: Case, actor: User, what: str) -> None:
    """Log that ``actor`` looked at the resident's data (申請内容, 住民記録, 添付)."""
    with transaction.atomic():
        _event(case, CaseEvent.Kind.RECORD_VIEWED, actor, what=what)
        _audit(case, actor, "resident_data_viewed", what=what)


# -- handling ---------------------------------------------------------------------------
def case_start_review(*, case: Case, actor: User, expected_version: int | None) -> Case:
    """受付 → 審査中; an unassigned case is assigned to whoever starts the review."""
    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_handler(locked, actor)
        _require_open(locked)
        _transition(locked, Status.IN_REVIEW, actor)
        if locked.assignee_id is None:
            locked.assignee = actor
            _event(locked, CaseEvent.Kind.ASSIGNED, actor, str(actor), assignee=actor.pk, previous=None)
        _touch(locked, "assignee")
        _event(locked, CaseEvent.Kind.STATUS, actor, status=Status.IN_REVIEW)
    return locked


def case_complete(*, case: Case, actor: User, expected_version: int | None) -> Case:
    """決定 → 交付・完了: what was applied for has been handed over."""
    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_handler(locked, actor)
        if locked.status != Status.DECIDED:
            raise IllegalCaseTransition(locked.status, Status.COMPLETED)
        _transition(locked, Status.COMPLETED, actor)
        locked.closed_at = timezone.now()
        _touch(locked, "closed_at")
        _event(locked, CaseEvent.Kind.STATUS, actor, status=Status.COMPLETED)
    return locked


def case_request_correction(
    *, case: Case, actor: User, items: Mapping[str, str], note: str, expected_version: int | None
) -> Case:
    """補正依頼: ask the resident to correct the fields in ``items`` (path → message)."""
    from madoguchi.applications.services import application_request_correction

    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_handler(locked, actor)
        _require_open(locked)
        if not machine.can_transition(locked.status, Status.CORRECTION_REQUESTED):
            raise IllegalCaseTransition(locked.status, Status.CORRECTION_REQUESTED)
        application_request_correction(application=locked.application, items=items, note=note, actor=actor)
        locked.refresh_from_db(fields=["status", "version"])
        _touch(locked)
        _event(locked, CaseEvent.Kind.CORRECTION, actor, note, fields=sorted(items))
    return locked


def _decide(case: Case, actor: User | None, outcome: str, reason: str) -> None:
    """Make the decision final: status 決定, lock, notice to the resident."""
    from madoguchi.cases.notices import notice_issue

    application_transition(application=case.application, target=Status.DECIDED, actor=actor, outcome=outcome)
    case.refresh_from_db(fields=["status", "version"])
    case.outcome = outcome
    case.decision_reason = reason
    case.decided_at = timezone.now()
    _touch(case, "outcome", "decision_reason", "decided_at")
    _event(case, CaseEvent.Kind.DECISION, actor, reason, outcome=outcome)
    _audit(case, actor, "decide", outcome=outcome)
    notice_issue(case=case)


def case_propose_decision(*, case: Case, actor: User, outcome: str, reason: str, expected_version: int | None) -> Case:
    """Draft the decision (決定の起案). With an approval route for the procedure, it goes
    to 決裁中 and is decided when the route approves it; without one, a 係長 or higher
    decides at once."""
    if outcome not in Outcome.values:
        raise CaseError(_("決定の内容を選んでください。"))
    reason = reason.strip()
    if outcome == Outcome.REFUSED and not reason:
        raise CaseError(_("却下する場合は、理由を入力してください。"))
    from madoguchi.cases import approval

    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_handler(locked, actor)
        _require_open(locked)
        if locked.status != Status.IN_REVIEW:
            raise IllegalCaseTransition(locked.status, Status.PENDING_APPROVAL)
        locked.outcome = outcome
        locked.decision_reason = reason
        if approval.route_exists(locked):
            _transition(locked, Status.PENDING_APPROVAL, actor, outcome=outcome)
            _touch(locked, "outcome", "decision_reason")
            approval.start(locked, actor)
            _event(locked, CaseEvent.Kind.APPROVAL, actor, reason, outcome=outcome, step="started")
        else:
            if not staff_has_rank(actor, locked.department_id, "kakaricho"):
                raise NotAllowed(_("決裁ルートのない手続きは、係長以上が決定します。"))
            _decide(locked, actor, outcome, reason)
    return locked


def case_approval_finished(*, case: Case, approved: bool, actor: User | None, comment: str = "") -> None:
    """The approval route of the decision ended (called by ``approval.py`` inside the
    approval's transaction): approved → 決定; rejected or sent back → 審査中 again."""
    locked = _lock(case, None)
    if locked.status != Status.PENDING_APPROVAL:
        return
    if approved:
        _decide(locked, actor, locked.outcome, locked.decision_reason)
        return
    application_transition(application=locked.application, target=Status.IN_REVIEW, actor=actor)
    locked.refresh_from_db(fields=["status", "version"])
    _touch(locked)
    _event(locked, CaseEvent.Kind.APPROVAL, actor, comment, step="returned")


def case_store_notice(*, case: Case, pdf: bytes) -> None:
    """Keep the issued notice and tell the resident where to find it."""
    path = default_storage.save(f"notices/{case.application.public_id}/notice.pdf", ContentFile(pdf))
    case.notice_file = path
    _touch(case, "notice_file")
    _event(case, CaseEvent.Kind.NOTICE, None, path=path)
    application = case.application
    language = applicant_language(application)
    with translation.override(language):
        subject = _("【%(ward)s】決定通知書を交付しました（受付番号 %(number)s）") % {
            "ward": settings.WARD_NAME,
            "number": case.reference_number,
        }
        values = {
            "procedure": procedure_name(application, language),
            "number": case.reference_number,
            "ward": settings.WARD_NAME,
        }
        if application.applicant is None:  # no account: the signed link opens the application
            body = _(
                "次の申請について決定しました。決定通知書（PDF）は、次のリンクから申請のページを開いて"
                "確認できます（%(days)s日間有効）。\n%(url)s\n\n手続き: %(procedure)s\n受付番号: %(number)s\n\n%(ward)s"
            ) % {**values, "days": links.link_days(), "url": resume_url(application)}
        else:
            body = (
                _(
                    "次の申請について決定しました。決定通知書（PDF）はオンライン窓口のマイページで確認できます。\n\n"
                    "手続き: %(procedure)s\n受付番号: %(number)s\n\n%(ward)s"
                )
                % values
            )
    application_notify(
        application=application,
        key=f"case-notice-{case.pk}",
        subject=subject,
        inbox_subject=subject,
        body=body,
        link=reverse("notices:download", args=[application.public_id]),
    )
