"""Staff pages of case handling (/staff/): the department inbox and the case view.

Every form carries the case version it was shown with; a refused action (stale,
locked, not allowed, illegal transition) comes back as an error message on the case
page and nothing changes. Every view of the resident's data (the answers, the
attachments, the registry record) is written to the audit log.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.applications import links
from madoguchi.applications.machine import OPEN
from madoguchi.applications.models import Application, Channel
from madoguchi.applications.selectors import (
    application_attachment,
    application_get_for_visitor,
    correction_diff,
    correction_list,
)
from madoguchi.applications.services import application_answers
from madoguchi.cases import selectors, services
from madoguchi.cases.models import Case, Outcome
from madoguchi.catalog.models import Procedure
from madoguchi.core.japanese import parse_date
from madoguchi.core.models import User
from madoguchi.forms import engine

PAGE_SIZE = 50
#: Uploads that were re-encoded as photos on upload, so safe to show in the page.
VIEWABLE = frozenset({"image/jpeg", "image/png", "image/webp"})

_lang = engine.page_language


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by staff_required
    return user


# -- home and inbox ---------------------------------------------------------------------
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    visible = selectors.case_visible_to(user)
    counts = visible.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN)),
        mine=Count("pk", filter=Q(status__in=OPEN, assignee=user)),
        unassigned=Count("pk", filter=Q(status__in=OPEN, assignee__isnull=True)),
        overdue=Count("pk", filter=Q(status__in=OPEN, due_at__lt=now)),
    )
    return render(request, "cases/home.html", {"staff_section": "", "counts": counts})


def _filters(request: HttpRequest) -> selectors.InboxFilters:
    params = request.GET
    filters = selectors.InboxFilters(
        status=params.get("status", ""),
        procedure=params.get("procedure", ""),
        channel=params.get("channel", ""),
        assignee=params.get("assignee", ""),
        overdue=params.get("overdue") == "1",
        q=params.get("q", "")[:100],
        sort=params.get("sort", "received"),
    )
    if params.get("department", "").isdigit():
        filters.department = int(params["department"])
    for name in ("received_from", "received_to"):
        text = params.get(name, "").strip()
        if text:
            value = parse_date(text)
            if value is None:
                filters.errors[name] = _("日付は 2026-04-01 や 令和8年4月1日 のように入力してください。")
            else:
                setattr(filters, name, value)
    valid_status = {v for v, _label in selectors.status_choices()} | {"all", ""}
    if filters.status not in valid_status:
        filters.errors["status"] = _("状態を一覧から選んでください。")
        filters.status = ""
    return filters


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _filters(request)
    cases = selectors.case_inbox(user=user, filters=filters)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [{"case": c, "sla": selectors.sla_state(c, now)} for c in page.object_list]
    departments = selectors.staff_department_ids(user)
    procedures = Procedure.objects.filter(form_definitions__isnull=False).distinct().order_by("code")
    if departments is not None:
        procedures = procedures.filter(department_id__in=departments)
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    staff_options: list[User] = []
    if departments is not None and len(departments) == 1:
        staff_options = selectors.department_staff(next(iter(departments)))
    elif filters.department:
        staff_options = selectors.department_staff(filters.department)
    return render(
        request,
        "cases/inbox.html",
        {
            "staff_section": "cases",
            "filters": filters,
            "page": page,
            "rows": rows,
            "statuses": selectors.status_choices(),
            "channels": Channel.choices,
            "procedures": procedures,
            "staff_options": staff_options,
            "query": urlencode(query),
            "next_url": request.get_full_path(),
        },
        status=400 if filters.errors else 200,
    )


@staff_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    references = request.POST.getlist("cases")
    back = request.POST.get("next") or reverse("cases:inbox")
    if not back.startswith("/staff/"):
        back = reverse("cases:inbox")
    if not references:
        messages.error(request, _("担当者を設定する案件を選んでください。"))
        return redirect(back)
    assignee: User | None = None
    target = request.POST.get("assignee", "")
    if target != "none":
        assignee = User.objects.filter(pk=int(target) if target.isdigit() else 0).first()
        if assignee is None:
            messages.error(request, _("担当者を選んでください。"))
            return redirect(back)
    cases = list(selectors.case_visible_to(user).filter(reference_number__in=references))
    if len(cases) != len(set(references)):
        raise Http404
    try:
        count = services.case_bulk_assign(cases=cases, assignee=assignee, actor=user)
    except services.CaseError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("%(count)d件の担当者を設定しました。") % {"count": count})
    return redirect(back)


# -- one case ---------------------------------------------------------------------------
def _case(request: HttpRequest, reference_number: str) -> Case:
    return selectors.case_get_for_staff(user=request.user, reference_number=reference_number)


def _can_see_mynumber(user: User) -> bool:
    return user.has_perm("applications.view_mynumber")


def _attachments(application: Application) -> list[dict[str, Any]]:
    data = application.data if isinstance(application.data, dict) else {}
    found = []
    for _step, field in engine.iter_fields(application.form_definition.definition):
        value = data.get(field["key"])
        if field.get("type") == "file" and isinstance(value, dict) and value.get("id"):
            found.append(
                {
                    "key": field["key"],
                    "label": str(
                        field.get("label_en") if _lang() == "en" and field.get("label_en") else field["label"]
                    ),
                    "name": str(value.get("name") or ""),
                    "content_type": str(value.get("content_type") or ""),
                    "viewable": str(value.get("content_type") or "") in VIEWABLE,
                }
            )
    return found


def _timeline(case: Case) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"at": e.created_at, "kind": e.get_kind_display(), "actor": e.actor, "message": e.message, "data": e.data}
        for e in selectors.case_events(case)
    ]
    return items


@staff_required
def case_detail(request: HttpRequest, reference_number: str) -> HttpResponse:
    user = _user(request)
    case = _case(request, reference_number)
    return _render_case(request, case, user)


def _render_case(
    request: HttpRequest, case: Case, user: User, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    application = case.application
    reveal = _can_see_mynumber(user)
    services.case_record_viewed(case=case, actor=user, what="answers")
    rows = engine.summary(
        application.form_definition.definition,
        application_answers(application),
        _lang(),
        reveal_sensitive=reveal,
    )
    corrections = _corrections(application)
    context = {
        "staff_section": "cases",
        "case": case,
        "application": application,
        "rows": rows,
        "attachments": _attachments(application),
        "timeline": _timeline(case),
        "sla": selectors.sla_state(case),
        "staff_options": selectors.department_staff(case.department_id),
        "can_handle": selectors.staff_can_handle(user, case),
        "can_assign_others": selectors.staff_has_rank(user, case.department_id, "kakaricho"),
        "outcomes": Outcome.choices,
        "corrections": corrections,
        "errors": errors or {},
        "has_route": _has_route(case),
    }
    return render(request, "cases/detail.html", context, status=status)


def _has_route(case: Case) -> bool:
    from madoguchi.cases import approval

    return approval.route_exists(case)


def _corrections(application: Application) -> list[dict[str, Any]]:
    return [{"correction": c, "diff": correction_diff(c)} for c in correction_list(application=application)]


def _version(request: HttpRequest) -> int | None:
    text = request.POST.get("version", "")
    return int(text) if text.isdigit() else None


def _act(request: HttpRequest, reference_number: str, action: str) -> HttpResponseBase:
    user = _user(request)
    case = _case(request, reference_number)
    version = _version(request)
    try:
        if action == "start_review":
            services.case_start_review(case=case, actor=user, expected_version=version)
            messages.success(request, _("審査を開始しました。"))
        elif action == "assign":
            target = request.POST.get("assignee", "")
            assignee = None
            if target == "me":
                assignee = user
            elif target.isdigit():
                assignee = User.objects.filter(pk=int(target)).first()
                if assignee is None:
                    raise services.CaseError(_("担当者を選んでください。"))
            services.case_assign(case=case, assignee=assignee, actor=user, expected_version=version)
            messages.success(request, _("担当者を設定しました。"))
        elif action == "note":
            services.case_add_note(case=case, actor=user, body=request.POST.get("body", ""))
            messages.success(request, _("メモを追加しました。"))
        elif action == "correction":
            items = {path: request.POST.get(f"message-{path}", "").strip() for path in request.POST.getlist("fields")}
            errors = {f"message-{p}": _("補正を求める内容を入力してください。") for p, m in items.items() if not m}
            if not items:
                errors["fields"] = _("補正を求める項目を1つ以上選んでください。")
            if errors:
                return _render_case(request, case, user, errors=errors, status=400)
            services.case_request_correction(
                case=case, actor=user, items=items, note=request.POST.get("note", ""), expected_version=version
            )
            messages.success(request, _("補正を依頼しました。申請者に通知しました。"))
        elif action == "decide":
            services.case_propose_decision(
                case=case,
                actor=user,
                outcome=request.POST.get("outcome", ""),
                reason=request.POST.get("reason", ""),
                expected_version=version,
            )
            messages.success(request, _("決定の手続きを進めました。"))
        elif action == "complete":
            services.case_complete(case=case, actor=user, expected_version=version)
            messages.success(request, _("交付・完了にしました。"))
        else:
            raise Http404
    except services.CaseError as exc:
        messages.error(request, exc.message)
    except LookupError as exc:  # an unknown field path in a correction request
        messages.error(request, str(exc))
    return redirect("cases:detail", reference_number=case.reference_number)


@staff_required
@require_POST
def case_action(request: HttpRequest, reference_number: str, action: str) -> HttpResponseBase:
    return _act(request, reference_number, action)


@staff_required
def resident_record(request: HttpRequest, reference_number: str) -> HttpResponse:
    """The applicant's entry in the resident registry (基本4情報, household)."""
    user = _user(request)
    case = _case(request, reference_number)
    applicant = case.application.applicant
    resident = case.application.resident or (getattr(applicant, "resident", None) if applicant is not None else None)
    services.case_record_viewed(case=case, actor=user, what="resident_record")
    household = list(resident.household.members.order_by("pk")) if resident is not None else []
    return render(
        request,
        "cases/resident.html",
        {"staff_section": "cases", "case": case, "resident": resident, "household": household},
    )


@staff_required
def attachment(request: HttpRequest, reference_number: str, field_key: str) -> HttpResponseBase:
    user = _user(request)
    case = _case(request, reference_number)
    value = application_attachment(case.application, field_key)
    content_type = str(value.get("content_type") or "")
    inline = request.GET.get("view") == "1" and content_type in VIEWABLE
    services.case_record_viewed(case=case, actor=user, what=f"attachment:{field_key}")
    response = FileResponse(
        default_storage.open(value["id"], "rb"),
        as_attachment=not inline,
        filename=str(value.get("name") or "attachment"),
        content_type=content_type if inline else "application/octet-stream",
    )
    if inline:
        # A photo re-encoded on upload (EXIF stripped): shown in the case view, and
        # never able to run anything in the site's origin.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
def notice(request: HttpRequest, reference_number: str) -> HttpResponseBase:
    return _notice_response(_case(request, reference_number))


def _notice_response(case: Case) -> FileResponse:
    if not case.notice_file or not default_storage.exists(case.notice_file):
        raise Http404
    return FileResponse(
        default_storage.open(case.notice_file, "rb"),
        filename=f"notice-{case.reference_number}.pdf",
        content_type="application/pdf",
    )


# -- the resident's copy of the notice --------------------------------------------------
@links.applicant_required
def resident_notice(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """The applicant's copy: an account's own application, or one made without an
    account and held by this browser (opened with its signed link)."""
    application = application_get_for_visitor(user=request.user, session=request.session, public_id=public_id)
    case = Case.objects.filter(application=application).first()
    if case is None:
        raise Http404
    return _notice_response(case)
