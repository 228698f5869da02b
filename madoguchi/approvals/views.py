"""Staff pages of the e-approval (電子決裁), under /staff/approvals/: 決裁待ち (my
pending approvals, also as a delegate), a request with its route and stamps and the
decision form, 起案 of an internal document, 代決 settings and the report. Each view
parses input, calls one service or selector, and renders."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.approvals import selectors, services
from madoguchi.approvals.exceptions import (
    AlreadyActed,
    ApprovalError,
    NotAnApprover,
    NotRequester,
    NotStaff,
    RequestFinished,
    SelfApproval,
    StaleVersion,
)
from madoguchi.approvals.forms import ActForm, DelegationForm, DocumentForm, ReportForm, ResubmitForm, WithdrawForm
from madoguchi.approvals.hooks import subject_summary
from madoguchi.approvals.models import ApprovalRequest
from madoguchi.core.models import Department, User

SECTION = {"staff_section": "approvals"}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - @staff_required lets only accounts through
    return user


def _status_for(error: ApprovalError) -> int:
    if isinstance(error, StaleVersion | RequestFinished):
        return 409
    if isinstance(error, NotAnApprover | SelfApproval | NotStaff | AlreadyActed | NotRequester):
        return 403
    return 400


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "approvals/home.html",
        {
            **SECTION,
            "pending": selectors.pending_for(user),
            "mine": selectors.requests_started_by(user),
            "delegations_received": selectors.delegations_received(user),
        },
    )


def _detail(
    request: HttpRequest,
    approval: ApprovalRequest,
    *,
    form: ActForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    view = selectors.request_view(approval, user=user)
    document = selectors.document_for_request(approval)
    return render(
        request,
        "approvals/detail.html",
        {
            **SECTION,
            "approval": approval,
            "view": view,
            "summary": subject_summary.summary(approval),
            "form": form or ActForm(initial={"version": approval.version}),
            "error": error,
            "document": document,
            "can_revise": document is not None
            and document.revisable
            and document.author_id == user.pk
            and approval.is_finished
            and selectors.latest_request_for_document(document) == approval,
        },
        status=status,
    )


@staff_required
def request_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    approval = selectors.approval_request_get_for_staff(user=request.user, public_id=public_id)
    return _detail(request, approval)


@staff_required
@require_POST
def request_act(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    approval = selectors.approval_request_get_for_staff(user=request.user, public_id=public_id)
    form = ActForm(request.POST)
    if not form.is_valid():
        return _detail(request, approval, form=form, status=400)
    try:
        action = services.approval_act(
            request=approval,
            actor=_user(request),
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except ApprovalError as exc:
        approval.refresh_from_db()
        return _detail(
            request,
            approval,
            form=ActForm(initial={"version": approval.version}),
            error=str(exc),
            status=_status_for(exc),
        )
    done = {
        "approve": _("承認しました。"),
        "reject": _("否決しました。"),
        "send_back": _("起案者に差し戻しました。"),
    }[action.action]
    if action.is_delegated:
        done += " " + _("（%(name)s の代決）") % {"name": action.acting_for_name}
    messages.success(request, done)
    return redirect("approvals:detail", public_id=approval.public_id)


@staff_required
@require_POST
def request_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    approval = selectors.approval_request_get_for_staff(user=request.user, public_id=public_id)
    form = WithdrawForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else 0
    try:
        services.approval_request_withdraw(request=approval, actor=_user(request), expected_version=version)
    except ApprovalError as exc:
        approval.refresh_from_db()
        return _detail(request, approval, error=str(exc), status=_status_for(exc))
    messages.success(request, _("取り下げました。"))
    return redirect("approvals:detail", public_id=approval.public_id)


def _departments(user: User) -> list[Department]:
    return [r.department for r in selectors.staff_roles(user)]


@staff_required
@require_http_methods(["GET", "POST"])
def document_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    departments = _departments(user)
    if not departments:
        raise Http404("no department")
    form = DocumentForm(request.POST or None, request.FILES or None, user=user, departments=departments)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                _document, approval = services.document_create(
                    author=user,
                    department=data["department"],
                    title=data["title"],
                    body=data["body"],
                    files=data["attachments"],
                    route=data["route"],
                )
            except ApprovalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("起案しました。決裁ルートの最初の決裁者に回りました。"))
                return redirect("approvals:detail", public_id=approval.public_id)
        status = 400
    return render(request, "approvals/document_form.html", {**SECTION, "form": form, "revise": None}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def document_revise(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    document = selectors.document_get_for_staff(user=user, public_id=public_id)
    if document.author_id != user.pk or not document.revisable:
        raise Http404("not revisable")
    latest = selectors.latest_request_for_document(document)
    initial: dict[str, Any] = {
        "title": document.title,
        "body": document.body,
        "department": document.department,
        "route": latest.route if latest is not None and latest.route and latest.route.for_documents else None,
    }
    form = ResubmitForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        user=user,
        departments=[document.department],
        attachments=document.attachments.all(),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                approval = services.document_resubmit(
                    document=document,
                    author=user,
                    title=data["title"],
                    body=data["body"],
                    files=data["attachments"],
                    remove=[a.pk for a in data["remove"]],
                    route=data["route"],
                )
            except ApprovalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("修正して再起案しました。"))
                return redirect("approvals:detail", public_id=approval.public_id)
        status = 400
    return render(request, "approvals/document_form.html", {**SECTION, "form": form, "revise": document}, status=status)


@staff_required
def attachment(request: HttpRequest, public_id: uuid.UUID, attachment_id: int) -> HttpResponseBase:
    """An attachment of an internal document, for those who may see its request,
    always as a download (never rendered in the site's origin)."""
    found = selectors.attachment_get_for_staff(user=request.user, public_id=public_id, attachment_id=attachment_id)
    if not found.file.name or not default_storage.exists(found.file.name):
        raise Http404("file missing")
    return FileResponse(
        found.file.open("rb"), as_attachment=True, filename=found.name, content_type="application/octet-stream"
    )


@staff_required
@require_http_methods(["GET", "POST"])
def delegation(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DelegationForm(request.POST or None, choices=selectors.delegate_choices(user))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.delegation_set(
                    approver=user,
                    delegate=data["delegate"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    reason=data["reason"],
                )
            except ApprovalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("代決者を設定しました。"))
                return redirect("approvals:delegation")
        status = 400
    return render(
        request,
        "approvals/delegation.html",
        {
            **SECTION,
            "form": form,
            "given": selectors.delegations_given(user),
            "received": selectors.delegations_received(user),
        },
        status=status,
    )


@staff_required
@require_POST
def delegation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = selectors.delegation_get_for_approver(user=user, pk=pk)
    services.delegation_cancel(delegation=found, actor=user)
    messages.success(request, _("代決の設定を取り消しました。"))
    return redirect("approvals:delegation")


@staff_required
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    department = since = None
    if form.is_bound and form.is_valid():
        department = form.cleaned_data["department"]
        since = form.cleaned_data["since"]
    stats = selectors.approval_stats(department=department, since=since)
    return render(
        request,
        "approvals/report.html",
        {**SECTION, "form": form, "stats": stats},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
