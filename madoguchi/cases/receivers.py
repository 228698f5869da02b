"""Keep cases in step with their applications (signals sent inside the applications'
transactions, so a case and its application never disagree)."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application
from madoguchi.cases.models import Case, CaseEvent
from madoguchi.cases.services import case_open
from madoguchi.core.models import User


def on_submitted(sender: Any, *, application: Application, **kwargs: Any) -> None:
    case_open(application=application)


def on_status_changed(
    sender: Any, *, application: Application, previous: str, actor: User | None, **kwargs: Any
) -> None:
    case = Case.objects.filter(application=application).first()
    if case is None:
        return
    Case.objects.filter(pk=case.pk).update(status=application.status, version=F("version") + 1)
    resident_acted = actor is not None and actor.pk == application.applicant_id
    if previous == Status.CORRECTION_REQUESTED and application.status == Status.IN_REVIEW and resident_acted:
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.RESUBMITTED, actor=actor)
    elif resident_acted or actor is None:
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.STATUS, actor=actor, data={"status": application.status}
        )
