"""Reads of the e-approval: which route applies, who may act on what (directly or as a
delegate), what a member of staff may see, the approval page's view of a request, and
the statistics (``approval_stats``) for the report page and the DX dashboard."""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.approvals.exceptions import (
    AlreadyActed,
    ApprovalError,
    NoRoute,
    NotAnApprover,
    NotStaff,
    RequestFinished,
    SelfApproval,
    SlotDecided,
)
from madoguchi.approvals.machine import DECIDED, FINAL, Action, Status
from madoguchi.approvals.models import (
    ApprovalAction,
    ApprovalRequest,
    ApprovalRoute,
    ApprovalSlot,
    Delegation,
    DocumentAttachment,
    InternalDocument,
    StepKind,
)
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Department, StaffRole, User


def role_label(role: str) -> str:
    try:
        return str(StaffRole.Role(role).label)
    except ValueError:
        return role


# -- routes --------------------------------------------------------------------------------
def _department(value: Department | str | None) -> Department | None:
    if value is None or isinstance(value, Department):
        return value
    return Department.objects.filter(code=value).first()


def approval_route_for(
    *, procedure: Procedure | str | None = None, department: Department | str | None = None
) -> ApprovalRoute:
    """The active route for a procedure (a route listing it; else one listing its
    department), or for a department (internal documents); else the default route.
    Raises ``NoRoute`` if there is none."""
    routes = ApprovalRoute.objects.filter(active=True)
    dept = _department(department)
    if procedure is not None:
        proc = procedure if isinstance(procedure, Procedure) else Procedure.objects.filter(code=procedure).first()
        if proc is not None:
            route = routes.filter(procedures=proc).order_by("code").first()
            if route is not None:
                return route
            dept = dept or proc.department
    if dept is not None:
        route = routes.filter(departments=dept).order_by("code").first()
        if route is not None:
            return route
    route = routes.filter(is_default=True).first()
    if route is None:
        raise NoRoute
    return route


def document_routes(*, department: Department) -> list[ApprovalRoute]:
    """Routes an internal document of ``department`` may take: the department's own
    route first, then every route marked for documents."""
    found: list[ApprovalRoute] = []
    try:
        found.append(approval_route_for(department=department))
    except NoRoute:
        pass
    for route in ApprovalRoute.objects.filter(active=True, for_documents=True).order_by("code"):
        if route not in found:
            found.append(route)
    return found


# -- who may act -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Capacity:
    """A (role, department) a member of staff may decide in: their own, or, with
    ``acting_for``, that of an approver whose delegate they are today (代決)."""

    role: str
    department_id: int
    acting_for: User | None = None


def delegations_active(*, delegate: User, on: dt.date | None = None) -> QuerySet[Delegation]:
    on = on or timezone.localdate()
    return Delegation.objects.filter(
        delegate=delegate, starts_on__lte=on, ends_on__gte=on, cancelled_at__isnull=True
    ).select_related("approver")


def capacities(user: Any, *, on: dt.date | None = None) -> list[Capacity]:
    """Everything ``user`` may decide in today: own roles first, then delegated ones.
    Empty for anyone who is not staff."""
    if not is_staff_account(user):
        return []
    own = [Capacity(r.role, r.department_id) for r in StaffRole.objects.filter(user=user).order_by("department_id")]
    delegated = []
    for delegation in delegations_active(delegate=user, on=on):
        if not is_staff_account(delegation.approver):
            continue
        for r in StaffRole.objects.filter(user=delegation.approver).order_by("department_id"):
            delegated.append(Capacity(r.role, r.department_id, delegation.approver))
    return own + delegated


def capacity_for_slot(capacities: list[Capacity], slot: ApprovalSlot, *, requester_id: int) -> Capacity | None:
    """The capacity in which one may fill ``slot`` (own before delegated), never on
    behalf of the requester."""
    for capacity in capacities:
        if capacity.acting_for is not None and capacity.acting_for.pk == requester_id:
            continue
        if capacity.role == slot.role and capacity.department_id == slot.department_id:
            return capacity
    return None


@dataclass(frozen=True)
class ActCheck:
    """Whether ``actor`` may decide on a request now: the box and the capacity
    (own or 代決) to do it in, or the refusal."""

    slot: ApprovalSlot | None = None
    capacity: Capacity | None = None
    error: ApprovalError | None = None


def act_check(*, request: ApprovalRequest, actor: Any) -> ActCheck:
    """The one place that decides who may approve, reject or send back ``request``
    at its current step (``services.approval_act`` applies it under a row lock).
    Refused: anyone not staff; any action on a finished request; the requester; who
    already decided in this step (in any capacity); who holds neither the role of an
    open box of the step nor a delegation from who does."""
    if not is_staff_account(actor):
        return ActCheck(error=NotStaff())
    if request.is_finished:
        return ActCheck(error=RequestFinished(str(Status(request.status).label)))
    if actor.pk == request.requester_id:
        return ActCheck(error=SelfApproval())
    index = request.current_step
    if ApprovalAction.objects.filter(request=request, step_index=index, actor_id=actor.pk).exists():
        return ActCheck(error=AlreadyActed())
    slots = list(request.slots.filter(step_index=index, skipped=False).order_by("member_index"))
    taken = set(ApprovalAction.objects.filter(request=request, slot__in=slots).values_list("slot_id", flat=True))
    caps = capacities(actor)
    for slot in slots:
        if slot.pk in taken:
            continue
        capacity = capacity_for_slot(caps, slot, requester_id=request.requester_id)
        if capacity is not None:
            return ActCheck(slot=slot, capacity=capacity)
    if any(capacity_for_slot(caps, slot, requester_id=request.requester_id) for slot in slots):
        return ActCheck(error=SlotDecided())
    return ActCheck(error=NotAnApprover(step_label(request.steps[index])))


@dataclass(frozen=True)
class PendingItem:
    request: ApprovalRequest
    slot: ApprovalSlot
    acting_for: User | None
    step_label: str


def pending_for(user: Any, *, limit: int = 200) -> list[PendingItem]:
    """決裁待ち: pending requests whose current step has an open box ``user`` may
    fill, in their own name or as a delegate, oldest first; one entry per request.
    The requester's own requests and steps ``user`` already decided are left out."""
    caps = capacities(user)
    if not caps:
        return []
    match = Q()
    for cap in caps:
        match |= Q(role=cap.role, department_id=cap.department_id)
    acted = ApprovalAction.objects.filter(
        request=OuterRef("request"), step_index=OuterRef("step_index"), actor_id=user.pk
    )
    slots = (
        ApprovalSlot.objects.filter(
            match,
            request__status=Status.PENDING,
            step_index=F("request__current_step"),
            skipped=False,
            action__isnull=True,
        )
        .exclude(request__requester_id=user.pk)
        .exclude(Exists(acted))
        .select_related("request", "request__department", "request__requester", "department")
        .order_by("request__started_at", "request_id", "member_index")
    )
    items: dict[int, PendingItem] = {}
    for slot in slots[: limit * 4]:
        if slot.request_id in items:
            continue
        capacity = capacity_for_slot(caps, slot, requester_id=slot.request.requester_id)
        if capacity is None:
            continue
        items[slot.request_id] = PendingItem(
            request=slot.request,
            slot=slot,
            acting_for=capacity.acting_for,
            step_label=step_label(slot.request.steps[slot.step_index]),
        )
        if len(items) >= limit:
            break
    return list(items.values())


# -- what one may see ------------------------------------------------------------------------
def _visible(user: Any) -> Q | None:
    """Who sees a request: the requester, staff of its department, staff of any
    department on its route, and today's delegates of those. ``None``: nobody."""
    if not is_staff_account(user):
        return None
    if user.is_superuser:
        return Q()
    own = set(StaffRole.objects.filter(user=user).values_list("department_id", flat=True))
    approvers = delegations_active(delegate=user).values_list("approver_id", flat=True)
    delegated = set(StaffRole.objects.filter(user_id__in=approvers).values_list("department_id", flat=True))
    on_route = ApprovalSlot.objects.filter(request=OuterRef("pk"), department_id__in=own | delegated)
    return Q(requester_id=user.pk) | Q(department_id__in=own) | Q(Exists(on_route))


def requests_visible_to(user: Any) -> QuerySet[ApprovalRequest]:
    condition = _visible(user)
    if condition is None:
        return ApprovalRequest.objects.none()
    return ApprovalRequest.objects.filter(condition)


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def approval_request_get_for_staff(*, user: Any, public_id: uuid.UUID | str) -> ApprovalRequest:
    """The request if ``user`` may see it; :class:`Http404` otherwise."""
    request = (
        requests_visible_to(user)
        .filter(public_id=_uuid(public_id))
        .select_related("department", "requester", "route")
        .first()
    )
    if request is None:
        raise Http404("approval request not found")
    return request


def requests_started_by(user: Any, *, limit: int = 50) -> list[ApprovalRequest]:
    if not is_staff_account(user):
        return []
    return list(
        ApprovalRequest.objects.filter(requester_id=user.pk)
        .select_related("department")
        .order_by("-started_at")[:limit]
    )


def document_for_request(request: ApprovalRequest) -> InternalDocument | None:
    if request.subject_kind != "document":
        return None
    try:
        key = uuid.UUID(request.subject_id)
    except ValueError:
        return None
    return InternalDocument.objects.filter(public_id=key).select_related("department", "author").first()


def document_get_for_staff(*, user: Any, public_id: uuid.UUID | str) -> InternalDocument:
    """The document if ``user`` may see one of its approval requests (or wrote it)."""
    key = _uuid(public_id)
    document = InternalDocument.objects.filter(public_id=key).select_related("department", "author").first()
    if document is None:
        raise Http404("document not found")
    if document.author_id == getattr(user, "pk", None) and is_staff_account(user):
        return document
    if not requests_visible_to(user).filter(subject_kind="document", subject_id=str(key)).exists():
        raise Http404("document not found")
    return document


def attachment_get_for_staff(*, user: Any, public_id: uuid.UUID | str, attachment_id: int) -> DocumentAttachment:
    document = document_get_for_staff(user=user, public_id=public_id)
    attachment = document.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("attachment not found")
    return attachment


def latest_request_for_document(document: InternalDocument) -> ApprovalRequest | None:
    return (
        ApprovalRequest.objects.filter(subject_kind="document", subject_id=str(document.public_id))
        .order_by("-started_at", "-pk")
        .first()
    )


# -- the approval page --------------------------------------------------------------------------
def member_label(member: dict[str, Any]) -> str:
    return f"{member.get('department_name', '')} {role_label(str(member.get('role', '')))}".strip()


def step_label(step: dict[str, Any]) -> str:
    if step.get("label"):
        return str(step["label"])
    return "・".join(member_label(m) for m in step.get("members", []))


@dataclass
class BoxView:
    """One approver's box on the route (a member of a step)."""

    label: str
    skipped: bool
    action: ApprovalAction | None
    open: bool


@dataclass
class StepView:
    number: int
    label: str
    parallel: bool
    state: str  # done, current, waiting, skipped, stopped
    boxes: list[BoxView] = field(default_factory=list)


@dataclass
class RequestView:
    request: ApprovalRequest
    steps: list[StepView]
    actions: list[ApprovalAction]
    can_act: bool
    acting_for: User | None
    already_acted: bool
    can_withdraw: bool

    @property
    def started_on(self) -> dt.date:
        return timezone.localdate(self.request.started_at)


def request_view(request: ApprovalRequest, *, user: Any) -> RequestView:
    """The route with its stamps, the history, and whether ``user`` may act now."""
    slots = list(request.slots.select_related("department").order_by("step_index", "member_index"))
    actions = list(request.actions.select_related("actor", "acting_for", "slot").order_by("created_at", "pk"))
    by_slot = {a.slot_id: a for a in actions if a.slot_id is not None}
    steps: list[StepView] = []
    for index, step in enumerate(request.steps):
        boxes = []
        for slot in (s for s in slots if s.step_index == index):
            member = step["members"][slot.member_index]
            action = by_slot.get(slot.pk)
            boxes.append(
                BoxView(
                    label=member_label(member),
                    skipped=slot.skipped,
                    action=action,
                    open=request.status == Status.PENDING and index == request.current_step and action is None,
                )
            )
        if step.get("skipped"):
            state = "skipped"
        elif index < request.current_step or request.status == Status.APPROVED:
            state = "done"
        elif index == request.current_step:
            state = "current" if request.status == Status.PENDING else "stopped"
        else:
            state = "waiting" if request.status == Status.PENDING else "stopped"
        steps.append(
            StepView(
                number=index + 1,
                label=step_label(step),
                parallel=step.get("kind") == StepKind.PARALLEL,
                state=state,
                boxes=boxes,
            )
        )
    check = act_check(request=request, actor=user)
    return RequestView(
        request=request,
        steps=steps,
        actions=actions,
        can_act=check.capacity is not None,
        acting_for=check.capacity.acting_for if check.capacity is not None else None,
        already_acted=isinstance(check.error, AlreadyActed),
        can_withdraw=request.status == Status.PENDING and request.requester_id == getattr(user, "pk", None),
    )


# -- delegations -----------------------------------------------------------------------------
def delegations_given(user: Any) -> list[Delegation]:
    today = timezone.localdate()
    return list(
        Delegation.objects.filter(approver_id=user.pk, ends_on__gte=today, cancelled_at__isnull=True)
        .select_related("delegate")
        .order_by("starts_on", "pk")
    )


def delegations_received(user: Any) -> list[Delegation]:
    today = timezone.localdate()
    return list(
        Delegation.objects.filter(delegate_id=user.pk, ends_on__gte=today, cancelled_at__isnull=True)
        .select_related("approver")
        .order_by("starts_on", "pk")
    )


def delegation_get_for_approver(*, user: Any, pk: int) -> Delegation:
    """The delegation if ``user`` set it; :class:`Http404` otherwise."""
    found = Delegation.objects.filter(pk=pk, approver_id=getattr(user, "pk", None)).first()
    if found is None:
        raise Http404("delegation not found")
    return found


def delegate_choices(user: Any) -> list[User]:
    """Staff who may be chosen as ``user``'s delegate: members of a department of
    ``user`` (not ``user``)."""
    departments = StaffRole.objects.filter(user_id=user.pk).values_list("department_id", flat=True)
    return list(
        User.objects.filter(kind=User.Kind.STAFF, is_active=True, staff_roles__department_id__in=departments)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("display_name", "email")
    )


# -- statistics ------------------------------------------------------------------------------------
@dataclass
class RouteStats:
    """Counts and lead times of one route (or of all routes: ``code == ""``).

    ``decided``: finished by an approver (approved + rejected + sent back), all of them
    electronically, so ``electronic_rate`` (electronic decisions / all decisions) is
    1.0 whenever there is a decision. Lead time: hours from the start to the decision,
    median and 90th percentile (linear interpolation), over the decided requests."""

    code: str
    name: str
    approved: int = 0
    rejected: int = 0
    sent_back: int = 0
    withdrawn: int = 0
    pending: int = 0
    electronic: int = 0
    lead_hours: list[float] = field(default_factory=list, repr=False)

    @property
    def decided(self) -> int:
        return self.approved + self.rejected + self.sent_back

    @property
    def electronic_rate(self) -> float | None:
        return self.electronic / self.decided if self.decided else None

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.lead_hours) if self.lead_hours else None

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.lead_hours, 90)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "decided": self.decided,
            "approved": self.approved,
            "rejected": self.rejected,
            "sent_back": self.sent_back,
            "withdrawn": self.withdrawn,
            "pending": self.pending,
            "electronic": self.electronic,
            "electronic_rate": self.electronic_rate,
            "median_hours": self.median_hours,
            "p90_hours": self.p90_hours,
        }


@dataclass
class ApprovalStats:
    routes: list[RouteStats]
    total: RouteStats

    def as_dict(self) -> dict[str, Any]:
        return {"routes": [r.as_dict() for r in self.routes], "total": self.total.as_dict()}


def percentile(values: list[float], pct: float) -> float | None:
    """The ``pct``-th percentile with linear interpolation between closest ranks
    (NumPy's default); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _since(value: dt.date | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def approval_stats(
    *, department: Department | str | None = None, since: dt.date | dt.datetime | None = None
) -> ApprovalStats:
    """Decisions per route: approved / rejected / sent back (and withdrawn), the
    e-approval rate and the lead time (median and p90 hours from start to decision),
    for requests of ``department`` (a ``Department`` or its code; all if ``None``)
    finished at or after ``since`` (a date is the start of that day, Asia/Tokyo).
    ``pending`` counts the requests still running, whenever they started."""
    requests = ApprovalRequest.objects.all()
    if department is not None:
        dept = _department(department)
        if dept is None:
            requests = requests.none()
        else:
            requests = requests.filter(department=dept)
    finished = requests.filter(status__in=FINAL)
    start = _since(since)
    if start is not None:
        finished = finished.filter(finished_at__gte=start)
    names = dict(ApprovalRoute.objects.values_list("code", "name"))
    stats: dict[str, RouteStats] = {}
    total = RouteStats(code="", name="")

    def row(code: str, name: str) -> RouteStats:
        if code not in stats:
            stats[code] = RouteStats(code=code, name=names.get(code, name))
        return stats[code]

    for code, name, status, started_at, finished_at in finished.values_list(
        "route_code", "route_name", "status", "started_at", "finished_at"
    ).iterator(chunk_size=5000):
        for target in (row(code, name), total):
            setattr(target, status, getattr(target, status) + 1)
            if status in DECIDED and finished_at is not None:
                target.electronic += 1
                target.lead_hours.append((finished_at - started_at).total_seconds() / 3600)
    for code, name in requests.filter(status=Status.PENDING).values_list("route_code", "route_name"):
        row(code, name).pending += 1
        total.pending += 1
    return ApprovalStats(routes=sorted(stats.values(), key=lambda r: r.code), total=total)


def staff_roles(user: Any) -> list[StaffRole]:
    """``user``'s roles with their departments (the departments one may draft in)."""
    return list(StaffRole.objects.filter(user_id=user.pk).select_related("department").order_by("department__code"))


# -- consistency -----------------------------------------------------------------------------------
def request_problems(request: ApprovalRequest) -> list[str]:
    """What is inconsistent in a request and its records (nothing, normally): boxes that
    do not match the route snapshot, an approval with a box missing, decisions out of
    their step, a person deciding twice in a step, a version that does not count the
    actions, a final status without its closing action. Used by the tests and by
    whoever audits the data."""
    problems: list[str] = []
    steps = request.steps
    slots = {s.pk: s for s in request.slots.all()}
    actions = list(request.actions.order_by("created_at", "pk"))
    decisions = [a for a in actions if a.action != Action.WITHDRAW]
    withdrawals = [a for a in actions if a.action == Action.WITHDRAW]
    expected = {(i, j) for i, step in enumerate(steps) for j in range(len(step["members"]))}
    if {(s.step_index, s.member_index) for s in slots.values()} != expected:
        problems.append("boxes do not match the route snapshot")
    for slot in slots.values():
        if slot.step_index < len(steps) and slot.skipped != bool(steps[slot.step_index].get("skipped")):
            problems.append(f"box {slot.step_index}.{slot.member_index}: skipped differs from the snapshot")
    skipped = [bool(step.get("skipped")) for step in steps]
    if skipped != sorted(skipped, reverse=True):
        problems.append("a step after the first approver's step is skipped")
    if request.version != 1 + len(actions):
        problems.append(f"version {request.version} does not count {len(actions)} actions")
    for action in decisions:
        box = slots.get(action.slot_id or 0)
        if box is None or box.skipped or box.step_index != action.step_index:
            problems.append(f"decision {action.pk} is not on an open box of its step")
        if action.actor_id == request.requester_id or action.acting_for_id == request.requester_id:
            problems.append(f"decision {action.pk} was taken by or for the requester")
    pairs = [(a.step_index, a.actor_id) for a in decisions]
    if len(pairs) != len(set(pairs)):
        problems.append("someone decided twice in one step")
    approved = {a.slot_id for a in decisions if a.action == Action.APPROVE}
    closing = [a for a in decisions if a.action != Action.APPROVE]

    def complete(index: int) -> bool:
        return all(s.pk in approved for s in slots.values() if s.step_index == index and not s.skipped)

    current = request.current_step
    status = Status(request.status)
    if (status == Status.PENDING) != (request.finished_at is None):
        problems.append("finished_at does not match the status")
    if status == Status.APPROVED:
        missing = [s for s in slots.values() if not s.skipped and s.pk not in approved]
        if missing:
            problems.append(f"approved with {len(missing)} box(es) not approved")
        if current != len(steps) or closing or withdrawals:
            problems.append("approved, but the route did not end with approvals")
    elif status == Status.PENDING:
        if not 0 <= current < len(steps) or skipped[current]:
            problems.append(f"pending at step {current}, which is not an open step")
        elif complete(current):
            problems.append("pending at a step whose boxes are all approved")
        if closing or withdrawals:
            problems.append("pending after a closing action")
    elif status in (Status.REJECTED, Status.SENT_BACK):
        wanted = Action.REJECT if status == Status.REJECTED else Action.SEND_BACK
        if [a.action for a in closing] != [wanted] or decisions[-1] is not closing[0] or withdrawals:
            problems.append(f"{status.value} without exactly one {wanted.value} as the last decision")
        elif closing[0].step_index != current:
            problems.append(f"{status.value} at step {closing[0].step_index}, but the request is at {current}")
    elif status == Status.WITHDRAWN:
        if len(withdrawals) != 1 or actions[-1] is not withdrawals[0] or closing:
            problems.append("withdrawn without exactly one withdrawal as the last action")
        elif withdrawals[0].actor_id != request.requester_id:
            problems.append("withdrawn by someone other than the requester")
    for action in decisions:
        index = action.step_index if action.step_index is not None else -1
        if index > current:
            problems.append(f"decision {action.pk} on step {index}, after the current step {current}")
        if index < current and not complete(index):
            problems.append(f"the request moved past step {index} before it was complete")
    return problems
