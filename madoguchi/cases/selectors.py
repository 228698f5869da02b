"""Reads of cases. Access is decided here: staff see the cases of the departments in
which they hold a role; the admin role, superusers and holders of the permission
``cases.view_all_departments`` see every department's. For anyone else a case does
not exist (404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.applications.machine import OPEN, Status
from madoguchi.cases.models import Case, CaseEvent
from madoguchi.core.japanese import add_open_days
from madoguchi.core.models import StaffRole, User


def _roles(user: Any) -> dict[int, int]:
    """department id → rank of the user's role there (cached on the user object)."""
    cached = getattr(user, "_case_roles", None)
    if cached is None:
        cached = {r.department_id: StaffRole.RANK.get(r.role, 0) for r in StaffRole.objects.filter(user=user)}
        user._case_roles = cached
    return cached


def sees_all_departments(user: Any) -> bool:
    if not is_staff_account(user):
        return False
    return bool(
        user.is_superuser
        or user.has_perm("cases.view_all_departments")
        or any(rank >= StaffRole.RANK["admin"] for rank in _roles(user).values())
    )


def staff_department_ids(user: Any) -> set[int] | None:
    """The departments whose cases ``user`` sees; None means all of them."""
    if not is_staff_account(user):
        return set()
    if sees_all_departments(user):
        return None
    return set(_roles(user))


def staff_can_handle(user: Any, case: Case) -> bool:
    departments = staff_department_ids(user)
    return departments is None or case.department_id in departments


def staff_has_rank(user: Any, department_id: int, role: str) -> bool:
    if not is_staff_account(user):
        return False
    if user.is_superuser:
        return True
    roles = _roles(user)
    needed = StaffRole.RANK[role]
    return roles.get(department_id, 0) >= needed or any(r >= StaffRole.RANK["admin"] for r in roles.values())


def case_visible_to(user: Any) -> QuerySet[Case]:
    departments = staff_department_ids(user)
    cases = Case.objects.all()
    if departments is None:
        return cases
    return cases.filter(department_id__in=departments)


def case_get_for_staff(*, user: Any, reference_number: str) -> Case:
    case = (
        case_visible_to(user)
        .select_related("application__form_definition", "application__applicant", "procedure", "department", "assignee")
        .filter(reference_number=reference_number)
        .first()
    )
    if case is None:
        raise Http404
    return case


@dataclass
class InboxFilters:
    """The inbox's filters, as given in the query string (all optional)."""

    department: int | None = None
    status: str = ""
    procedure: str = ""
    channel: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    assignee: str = ""  # "me", "none" or a user id
    overdue: bool = False
    q: str = ""
    sort: str = "received"
    errors: dict[str, str] = field(default_factory=dict)


SORTS = {
    "received": ("-received_at", "-pk"),
    "oldest": ("received_at", "pk"),
    "due": ("due_at", "pk"),
}


def case_inbox(*, user: User, filters: InboxFilters, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The department inbox: the cases ``user`` may see, filtered and sorted. Without a
    status filter, cases still being handled are shown (not decided or withdrawn)."""
    now = now or timezone.now()
    cases = case_visible_to(user).select_related("procedure", "assignee")
    if filters.department:
        cases = cases.filter(department_id=filters.department)
    if filters.status == "all":
        pass
    elif filters.status:
        cases = cases.filter(status=filters.status)
    else:
        cases = cases.filter(status__in=OPEN)
    if filters.procedure:
        cases = cases.filter(procedure__code=filters.procedure)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    tz = timezone.get_current_timezone()
    if filters.received_from:
        cases = cases.filter(received_at__gte=dt.datetime.combine(filters.received_from, dt.time.min, tzinfo=tz))
    if filters.received_to:
        end = dt.datetime.combine(filters.received_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        cases = cases.filter(received_at__lt=end)
    if filters.assignee == "me":
        cases = cases.filter(assignee=user)
    elif filters.assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        cases = cases.filter(assignee_id=int(filters.assignee))
    if filters.overdue:
        cases = cases.filter(status__in=OPEN, due_at__lt=now)
    q = filters.q.strip()
    if q:
        from madoguchi.core.japanese import to_katakana

        kana = to_katakana(q).replace(" ", "").replace("\u3000", "")
        cases = cases.filter(
            Q(reference_number__startswith=q) | Q(applicant_name__contains=q) | Q(applicant_kana__contains=kana)
        )
    return cases.order_by(*SORTS.get(filters.sort, SORTS["received"]))


def sla_state(case: Case, now: dt.datetime | None = None) -> str:
    """``overdue`` (期限超過), ``soon`` (期限まで2開庁日以内), ``ok`` or ``closed``."""
    if case.status not in OPEN:
        return "closed"
    now = now or timezone.now()
    if now > case.due_at:
        return "overdue"
    soon = add_open_days(timezone.localtime(now).date(), 2)
    if timezone.localtime(case.due_at).date() <= soon:
        return "soon"
    return "ok"


def case_events(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("created_at", "pk")


def department_staff(department_id: int) -> list[User]:
    return list(
        User.objects.filter(staff_roles__department_id=department_id, is_active=True).order_by("email").distinct()
    )


def status_choices() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in Status if s not in (Status.DRAFT, Status.AWAITING_PAYMENT)]


def notice_documents(application: Any) -> list[tuple[str, str]]:
    """The decision notice on the resident's page of the application, once issued."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    case = Case.objects.filter(application=application).exclude(notice_file="").first()
    if case is None:
        return []
    return [(str(_("決定通知書（PDF）")), reverse("notices:download", args=[application.public_id]))]
