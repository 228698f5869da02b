"""Writes of the e-approval. Each service does its whole change in one
``transaction.atomic``, with its audit record (sealed into the hash chain when the
transaction commits) and, when a request finishes, the ``on_request_finished`` hooks
of its subject.

Flow: the owner of a subject (the cases app for a decision on an application, this
app for an internal document) picks a route (``selectors.approval_route_for``) and
calls ``approval_request_start``: the route's steps are copied into the request (its
snapshot and one box per approver), leading steps that the requester's own post
already covers are skipped (a 係長 who drafts does not approve as 係長), and the
request waits at its first step. Each approver of the current step calls
``approval_act`` with the ``version`` their page showed: approve fills their box
(with the electronic stamp) and, once every box of the step is filled, moves on to
the next step or, after the last one, approves the request; reject ends it (否決);
send back ends it and returns it to the requester (差戻し), who revises the subject
and starts a new request. The requester may withdraw a running request (取下げ).
A delegate (``delegation_set``) may act in an absent approver's place within the
delegation's dates; the stamp then says 代決. Every refusal raises an
``exceptions.ApprovalError`` with the reason, and changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.approvals import machine, selectors
from madoguchi.approvals.exceptions import (
    AlreadyPending,
    AttachmentRefused,
    CommentRequired,
    DelegationRefused,
    DocumentLocked,
    InvalidAction,
    NoApproverLeft,
    NotInDepartment,
    NotRequester,
    NotStaff,
    RequestFinished,
    RouteUnavailable,
    StaleVersion,
)
from madoguchi.approvals.hooks import on_request_finished
from madoguchi.approvals.machine import Action, Status
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
from madoguchi.approvals.selectors import approval_route_for as approval_route_for  # a read; here for callers
from madoguchi.core.audit import audit_record
from madoguchi.core.models import Department, StaffRole, User

DOCUMENT = "document"

#: Longest comment kept with a decision.
MAX_COMMENT = 2000


# -- starting -----------------------------------------------------------------------------------
def _rank_in(user: User, department: Department) -> int:
    role = StaffRole.objects.filter(user=user, department=department).values_list("role", flat=True).first()
    return StaffRole.RANK.get(role or "", 0)


def route_snapshot(*, route: ApprovalRoute, department: Department, requester: User) -> dict[str, Any]:
    """The route as this request will follow it: members' departments resolved (none
    given: the request's department), and leading single steps that the requester's
    own post covers (same department, same or lower rank) marked ``skipped``."""
    departments = {d.code: d for d in Department.objects.all()}
    rank = _rank_in(requester, department)
    steps: list[dict[str, Any]] = []
    leading = True
    for step in route.steps.order_by("order"):
        members = []
        for member in step.members:
            dept = departments.get(member.get("department") or "", department)
            members.append(
                {
                    "role": member["role"],
                    "role_label": selectors.role_label(member["role"]),
                    "department": dept.code,
                    "department_name": dept.name,
                }
            )
        skipped = (
            leading
            and step.kind == StepKind.SINGLE
            and members[0]["department"] == department.code
            and StaffRole.RANK.get(members[0]["role"], 0) <= rank
        )
        leading = leading and skipped
        steps.append({"kind": step.kind, "label": step.label, "members": members, "skipped": skipped})
    return {
        "code": route.code,
        "name": route.name,
        "name_en": route.name_en,
        "data_version": route.data_version,
        "steps": steps,
    }


def approval_request_start(
    *,
    subject_kind: str,
    subject_id: str,
    title: str,
    department: Department,
    requester: User,
    route: ApprovalRoute,
) -> ApprovalRequest:
    """Start ``route`` for a subject. Refused (``ApprovalError``): a requester who is not
    staff of ``department``, an inactive route, a route with no approver after the
    requester, a subject that already has a running request."""
    if not is_staff_account(requester):
        raise NotStaff
    if not StaffRole.objects.filter(user=requester, department=department).exists():
        raise NotInDepartment
    if not route.active:
        raise RouteUnavailable
    snapshot = route_snapshot(route=route, department=department, requester=requester)
    first = next((i for i, step in enumerate(snapshot["steps"]) if not step["skipped"]), None)
    if first is None:
        raise NoApproverLeft
    departments = {d.code: d for d in Department.objects.all()}
    try:
        with transaction.atomic():
            if ApprovalRequest.objects.filter(
                subject_kind=subject_kind, subject_id=str(subject_id), status=Status.PENDING
            ).exists():
                raise AlreadyPending
            request = ApprovalRequest.objects.create(
                subject_kind=subject_kind,
                subject_id=str(subject_id),
                title=title[:200],
                department=department,
                requester=requester,
                route=route,
                route_code=route.code,
                route_name=route.name,
                route_snapshot=snapshot,
                current_step=first,
                started_at=timezone.now(),
            )
            ApprovalSlot.objects.bulk_create(
                ApprovalSlot(
                    request=request,
                    step_index=i,
                    member_index=j,
                    kind=step["kind"],
                    role=member["role"],
                    department=departments[member["department"]],
                    skipped=step["skipped"],
                )
                for i, step in enumerate(snapshot["steps"])
                for j, member in enumerate(step["members"])
            )
            audit_record(
                actor=requester,
                action="approvals.start",
                target=request,
                data={
                    "subject_kind": subject_kind,
                    "subject_id": str(subject_id),
                    "title": request.title,
                    "department": department.code,
                    "route": route.code,
                    "steps": [selectors.step_label(s) for s in snapshot["steps"]],
                    "skipped": [i for i, s in enumerate(snapshot["steps"]) if s["skipped"]],
                },
            )
    except IntegrityError as exc:  # a concurrent start for the same subject
        raise AlreadyPending from exc
    return request


# -- deciding -------------------------------------------------------------------------------------
def _stamp_name(user: User) -> str:
    return (user.display_name or user.get_full_name() or user.email)[:200]


def _finish(request: ApprovalRequest, status: Status, fields: list[str]) -> None:
    request.status = status
    request.finished_at = timezone.now()
    request.save(update_fields=[*fields, "status", "finished_at", "version", "updated_at"])
    on_request_finished.run(request, status)


def approval_act(
    *,
    request: ApprovalRequest,
    actor: User,
    action: str,
    comment: str = "",
    expected_version: int,
) -> ApprovalAction:
    """Approve, reject or send back ``request`` at its current step, as ``actor`` (or
    as the delegate of its approver). ``expected_version`` is the version the actor's
    page showed. Refused (``ApprovalError``, nothing changed): not staff; a finished
    request (locked); the requester; not an approver of the current step nor their
    delegate; a second decision by the same person in a step; a page that is out of
    date (someone acted meanwhile); a rejection or send-back without a reason."""
    try:
        decision = Action(action)
    except ValueError as exc:
        raise InvalidAction from exc
    if decision not in machine.DECISIONS:
        raise InvalidAction
    comment = (comment or "").strip()[:MAX_COMMENT]
    with transaction.atomic():
        locked = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("department").get(pk=request.pk)
        check = selectors.act_check(request=locked, actor=actor)
        if check.error is not None:
            raise check.error
        assert check.slot is not None and check.capacity is not None  # noqa: S101 - act_check's contract
        if locked.version != expected_version:
            raise StaleVersion
        if decision != Action.APPROVE and not comment:
            raise CommentRequired
        slot = check.slot
        member = locked.steps[slot.step_index]["members"][slot.member_index]
        acting_for = check.capacity.acting_for
        now = timezone.now()
        record = ApprovalAction(
            request=locked,
            slot=slot,
            step_index=slot.step_index,
            action=decision,
            actor=actor,
            acting_for=acting_for,
            comment=comment,
            created_at=now,
            stamp_name=_stamp_name(actor),
            stamp_role=member["role_label"],
            stamp_department=member["department_name"],
            stamp_date=timezone.localdate(now),
            acting_for_name=_stamp_name(acting_for) if acting_for is not None else "",
        )
        record.save(force_insert=True)
        locked.version += 1
        target = _target(locked, decision)
        machine.check_transition(locked.status, decision, target)
        audit_record(
            actor=actor,
            action=f"approvals.{decision.value}",
            target=locked,
            data={
                "subject_kind": locked.subject_kind,
                "subject_id": locked.subject_id,
                "step": slot.step_index,
                "box": selectors.member_label(member),
                "acting_for": acting_for.pk if acting_for is not None else None,
                "acting_for_name": record.acting_for_name,
                "comment_sha256": hashlib.sha256(comment.encode()).hexdigest() if comment else "",
                "status": target.value,
                "version": locked.version,
            },
        )
        if target == Status.PENDING:
            locked.save(update_fields=["current_step", "version", "updated_at"])
        else:
            _finish(locked, target, ["current_step"])
    request.refresh_from_db()
    return record


def _target(request: ApprovalRequest, decision: Action) -> Status:
    """Where ``decision`` takes the request; moves ``current_step`` on when the step is
    complete."""
    if decision == Action.REJECT:
        return Status.REJECTED
    if decision == Action.SEND_BACK:
        return Status.SENT_BACK
    index = request.current_step
    open_boxes = request.slots.filter(step_index=index, skipped=False, action__isnull=True).exists()
    if open_boxes:
        return Status.PENDING
    steps = request.steps
    following = [i for i in range(index + 1, len(steps)) if not steps[i].get("skipped")]
    if following:
        request.current_step = following[0]
        return Status.PENDING
    request.current_step = len(steps)
    return Status.APPROVED


def approval_request_withdraw(
    *, request: ApprovalRequest, actor: User, expected_version: int, comment: str = ""
) -> ApprovalAction:
    """The requester withdraws a running request (取下げ). Refused: anyone else, a
    finished request, an out-of-date page."""
    comment = (comment or "").strip()[:MAX_COMMENT]
    with transaction.atomic():
        locked = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if not is_staff_account(actor):
            raise NotStaff
        if locked.is_finished:
            raise RequestFinished(str(Status(locked.status).label))
        if actor.pk != locked.requester_id:
            raise NotRequester
        if locked.version != expected_version:
            raise StaleVersion
        now = timezone.now()
        record = ApprovalAction(
            request=locked,
            slot=None,
            step_index=locked.current_step,
            action=Action.WITHDRAW,
            actor=actor,
            comment=comment,
            created_at=now,
            stamp_name=_stamp_name(actor),
            stamp_role="",
            stamp_department=locked.department.name,
            stamp_date=timezone.localdate(now),
        )
        record.save(force_insert=True)
        locked.version += 1
        machine.check_transition(locked.status, Action.WITHDRAW, Status.WITHDRAWN)
        audit_record(
            actor=actor,
            action="approvals.withdraw",
            target=locked,
            data={"subject_kind": locked.subject_kind, "subject_id": locked.subject_id, "version": locked.version},
        )
        _finish(locked, Status.WITHDRAWN, [])
    request.refresh_from_db()
    return record


# -- delegation (代決) ---------------------------------------------------------------------------------
def delegation_set(*, approver: User, delegate: User, starts_on: Any, ends_on: Any, reason: str = "") -> Delegation:
    """Let ``delegate`` decide in ``approver``'s place from ``starts_on`` to
    ``ends_on`` (dates, both included). Refused: either not staff, oneself, a period
    that ends before it starts or lies in the past, a delegate from no department of
    the approver, a period overlapping another delegation of the approver."""
    if not is_staff_account(approver) or not is_staff_account(delegate):
        raise DelegationRefused(_("代決者には職員を選んでください。"))
    if approver.pk == delegate.pk:
        raise DelegationRefused(_("自分を代決者にすることはできません。"))
    if ends_on < starts_on:
        raise DelegationRefused(_("終了日は開始日と同じ日か、それより後の日にしてください。"))
    if ends_on < timezone.localdate():
        raise DelegationRefused(_("終了日が過ぎた代決は設定できません。"))
    shared = StaffRole.objects.filter(
        user=delegate, department_id__in=StaffRole.objects.filter(user=approver).values("department_id")
    )
    if not shared.exists():
        raise DelegationRefused(_("代決者は、あなたと同じ部署の職員から選んでください。"))
    with transaction.atomic():
        overlapping = Delegation.objects.select_for_update().filter(
            approver=approver, cancelled_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
        )
        if overlapping.exists():
            raise DelegationRefused(
                _("この期間には、すでに代決者が設定されています。先にその設定を取り消してください。")
            )
        delegation = Delegation.objects.create(
            approver=approver, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason[:200]
        )
        audit_record(
            actor=approver,
            action="approvals.delegation_set",
            target=delegation,
            data={"delegate": delegate.pk, "starts_on": starts_on, "ends_on": ends_on},
        )
    return delegation


def delegation_cancel(*, delegation: Delegation, actor: User) -> None:
    """The approver cancels their delegation. Decisions already taken stay."""
    if actor.pk != delegation.approver_id:
        raise DelegationRefused(_("取り消せるのは、自分が設定した代決だけです。"))
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.cancelled_at is not None:
            return
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["cancelled_at"])
        audit_record(actor=actor, action="approvals.delegation_cancel", target=locked, data={})


# -- internal documents (起案文書) ------------------------------------------------------------------------
#: Accepted attachments: extension → (stored content type, how the file starts; None
#: for text, which must be UTF-8).
ATTACHMENT_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10


def attachment_check(upload: UploadedFile, *, count: int = 1) -> tuple[str, str]:
    """``(file name, content type)`` of an acceptable attachment; ``AttachmentRefused``
    naming the file otherwise: PDF, PNG, JPEG, Word (.docx), Excel (.xlsx), text or
    CSV (UTF-8), at most 10 MB each and 10 per document; the content must match the
    extension."""
    name = PurePath(str(upload.name or "")).name[:200] or "attachment"
    if count > MAX_ATTACHMENTS:
        raise AttachmentRefused(_("添付ファイルは %(max)d 件までです。") % {"max": MAX_ATTACHMENTS})
    extension = PurePath(name).suffix.lower()
    if extension not in ATTACHMENT_TYPES:
        raise AttachmentRefused(
            _(
                "「%(name)s」は添付できない種類のファイルです。PDF、画像（PNG・JPEG）、Word、Excel、テキスト、CSVを添付できます。"
            )
            % {"name": name}
        )
    size = int(upload.size or 0)
    if size == 0:
        raise AttachmentRefused(_("「%(name)s」は空のファイルです。") % {"name": name})
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(
            _("「%(name)s」は大きすぎます。1ファイル %(mb)d MB までです。")
            % {"name": name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        )
    content_type, magic = ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(4096 if magic is None else len(magic))
    upload.seek(0)
    if magic is not None and not head.startswith(magic):
        raise AttachmentRefused(_("「%(name)s」の中身が拡張子と一致しません。") % {"name": name})
    if magic is None:
        content = upload.read()
        upload.seek(0)
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AttachmentRefused(_("「%(name)s」はUTF-8のテキストではありません。") % {"name": name}) from exc
    return name, content_type


def _store_attachments(
    document: InternalDocument, uploads: Sequence[UploadedFile], checked: list[tuple[str, str]], author: User
) -> list[DocumentAttachment]:
    stored = []
    for upload, (name, content_type) in zip(uploads, checked, strict=True):
        attachment = DocumentAttachment(
            document=document, name=name, size=int(upload.size or 0), content_type=content_type, uploaded_by=author
        )
        attachment.file.save(name, upload, save=False)
        attachment.save(force_insert=True)
        stored.append(attachment)
    return stored


def _delete_files(attachments: Iterable[DocumentAttachment]) -> None:
    for attachment in attachments:
        attachment.file.delete(save=False)


def _document_route(document_department: Department, route: ApprovalRoute | None) -> ApprovalRoute:
    allowed = selectors.document_routes(department=document_department)
    if route is None:
        if not allowed:
            raise RouteUnavailable
        return allowed[0]
    if route not in allowed:
        raise RouteUnavailable
    return route


def document_create(
    *,
    author: User,
    department: Department,
    title: str,
    body: str,
    files: Sequence[UploadedFile] = (),
    route: ApprovalRoute | None = None,
) -> tuple[InternalDocument, ApprovalRequest]:
    """Draft (起案) an internal document with its attachments and start its route
    (the department's route unless another route for documents is given)."""
    checked = [attachment_check(f, count=i + 1) for i, f in enumerate(files)]
    chosen = _document_route(department, route)
    stored: list[DocumentAttachment] = []
    try:
        with transaction.atomic():
            document = InternalDocument(
                title=title.strip()[:200], body=body.strip(), department=department, author=author
            )
            document.save(force_insert=True)
            stored = _store_attachments(document, files, checked, author)
            audit_record(
                actor=author,
                action="approvals.document_create",
                target=document,
                data={"title": document.title, "attachments": [a.name for a in stored]},
            )
            request = approval_request_start(
                subject_kind=DOCUMENT,
                subject_id=str(document.public_id),
                title=document.title,
                department=department,
                requester=author,
                route=chosen,
            )
    except BaseException:
        _delete_files(stored)
        raise
    return document, request


def document_resubmit(
    *,
    document: InternalDocument,
    author: User,
    title: str,
    body: str,
    files: Sequence[UploadedFile] = (),
    remove: Iterable[int] = (),
    route: ApprovalRoute | None = None,
) -> ApprovalRequest:
    """Revise a document that was sent back or withdrawn and start its route again
    (再起案). Only its author may; a decided document is locked."""
    if author.pk != document.author_id:
        raise DocumentLocked(_("再起案できるのは、その文書の起案者だけです。"))
    remove_ids = {int(pk) for pk in remove}
    keep = document.attachments.exclude(pk__in=remove_ids).count()
    checked = [attachment_check(f, count=keep + i + 1) for i, f in enumerate(files)]
    chosen = _document_route(document.department, route)
    stored: list[DocumentAttachment] = []
    removed: list[DocumentAttachment] = []
    try:
        with transaction.atomic():
            locked = InternalDocument.objects.select_for_update().get(pk=document.pk)
            if not locked.revisable:
                raise DocumentLocked
            locked.title = title.strip()[:200]
            locked.body = body.strip()
            locked.status = Status.PENDING
            locked.save(update_fields=["title", "body", "status", "updated_at"])
            removed = list(locked.attachments.filter(pk__in=remove_ids))
            DocumentAttachment.objects.filter(pk__in=[a.pk for a in removed]).delete()
            stored = _store_attachments(locked, files, checked, author)
            audit_record(
                actor=author,
                action="approvals.document_revise",
                target=locked,
                data={
                    "title": locked.title,
                    "added": [a.name for a in stored],
                    "removed": [a.name for a in removed],
                },
            )
            request = approval_request_start(
                subject_kind=DOCUMENT,
                subject_id=str(locked.public_id),
                title=locked.title,
                department=locked.department,
                requester=author,
                route=chosen,
            )
            transaction.on_commit(lambda: _delete_files(removed))
    except BaseException:
        _delete_files(stored)
        raise
    document.refresh_from_db()
    return request


@on_request_finished(DOCUMENT)
def document_request_finished(request: ApprovalRequest, outcome: Status) -> None:
    """The document takes the outcome of its request (approved and rejected documents
    are locked)."""
    try:
        key = uuid.UUID(request.subject_id)
    except ValueError:
        return
    document = InternalDocument.objects.filter(public_id=key).first()
    if document is not None and document.status == Status.PENDING:
        document.status = outcome
        document.save(update_fields=["status", "updated_at"])
