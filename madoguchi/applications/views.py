"""Resident pages of online applications (no JavaScript needed).

``start`` resumes the resident's open draft of a procedure or, on POST, makes one; a
form that allows applying without an account (``anonymous: true``) also offers that
to a visitor who is not logged in (``start_anonymous``: e-mail address first, the
signed resume link is mailed; ``resume`` opens such a link in the browser session).
``step`` shows one page of the form; POST checks and saves it (``services.
application_save_step``) and goes on to the next page shown, or shows the page again
with an error summary and inline errors (status 400). The 「もう1人追加」 and 「削除」
buttons of a repeating group are submit buttons (``_group_add`` / ``_group_remove``):
they show the page again with one row more or less, without checking or saving it.
``check`` shows every answer with a change link per page, a submission key and, when
a contact detail differs from the profile, the write-back checkbox; ``submit`` (POST)
submits, or for a procedure with a fee sends the resident to the payment page;
``payment_return`` is where the payment page sends them back; ``done`` shows the
受付番号 and ``receipt`` the PDF receipt. ``detail`` is the application's own page
(status, timeline, correction request, answers, withdraw button); ``correction`` lets
the resident change only the answers staff marked and resubmit; ``withdraw`` asks for
confirmation and withdraws. Every page finds the application through
``selectors.application_get_for_visitor``, so another resident gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.applications import documents, flow, links
from madoguchi.applications.hooks import documents_for
from madoguchi.applications.machine import RECEIVED, IllegalTransition, Status
from madoguchi.applications.models import Application, Correction
from madoguchi.applications.prefill.registry import register as prefill_sources
from madoguchi.applications.selectors import (
    application_attachment,
    application_get_by_resume_link,
    application_get_for_visitor,
    application_list_for_applicant,
    application_open_draft,
    application_open_draft_in_session,
    application_timeline,
    correction_open,
    write_back_offers,
)
from madoguchi.applications.services import (
    ANONYMOUS_EMAIL_SOURCE,
    WITHDRAWABLE,
    AnonymousNotAllowed,
    IdempotencyConflict,
    InvalidApplication,
    NoOnlineForm,
    NotEditable,
    PaymentRequired,
    UnknownStep,
    application_answers,
    application_check,
    application_latest_payment,
    application_payment_returned,
    application_request_payment,
    application_resubmit_correction,
    application_save_step,
    application_start,
    application_start_anonymous,
    application_store_file,
    application_submit,
    application_withdraw,
    correction_editable_keys,
    fee_for,
    raw_answers,
)
from madoguchi.applications.widgets import error_target, field_context, group_items
from madoguchi.core.models import User
from madoguchi.forms import engine
from madoguchi.forms.logic import iter_fields
from madoguchi.forms.selectors import form_get_current

HX = {"hx-boost": "true", "hx-target": "#main", "hx-select": "#main", "hx-swap": "outerHTML"}

View = Callable[..., HttpResponseBase]

_lang = engine.page_language


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


def _actor(request: HttpRequest) -> User | None:
    """The account acting, or None for an applicant without an account."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _t(item: Mapping[str, Any], name: str) -> str:
    if _lang() == "en" and item.get(f"{name}_en"):
        return str(item[f"{name}_en"])
    return str(item.get(name, ""))


def _get(request: HttpRequest, public_id: uuid.UUID) -> Application:
    return application_get_for_visitor(user=request.user, session=request.session, public_id=public_id)


def _step_url(application: Application, step_key: str) -> str:
    return reverse("applications:step", args=[application.public_id, step_key])


def _where_to(application: Application) -> str:
    """The page a resident resuming the application should see."""
    if application.status == Status.CORRECTION_REQUESTED:
        return reverse("applications:correction", args=[application.public_id])
    if application.status in RECEIVED or application.has_page:
        return reverse("applications:detail", args=[application.public_id])
    if application.status == Status.AWAITING_PAYMENT:
        return reverse("applications:payment_return", args=[application.public_id])
    if application.status != Status.DRAFT:
        return reverse("applications:list") if application.applicant_id else reverse("catalog:procedure_list")
    definition = application.form_definition.definition
    pages = flow.page_steps(definition, application_answers(application))
    unfinished = [k for k in pages if k not in application.completed_steps]
    if unfinished:
        return _step_url(application, unfinished[0])
    return reverse("applications:check", args=[application.public_id])


def _error_list(definition: Mapping[str, Any], errors: Mapping[str, str]) -> list[dict[str, str]]:
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    order = list(fields)
    ordered = sorted(
        errors.items(), key=lambda kv: order.index(kv[0].split(".")[0]) if kv[0].split(".")[0] in order else 999
    )
    return [{"path": p, "message": m, "target": error_target(fields, p)} for p, m in ordered]


def _source_label(application: Application, key: str) -> str:
    source = application.prefill_sources.get(key)
    if source == ANONYMOUS_EMAIL_SOURCE:
        return _("最初に入力したメールアドレスを入力しました")
    return str(prefill_sources[source].label) if source and source in prefill_sources else ""


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "applications/list.html", {"applications": application_list_for_applicant(user=_user(request))}
    )


# -- start ------------------------------------------------------------------------------
class EmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("メールアドレス"),
        max_length=254,
        error_messages={
            "required": gettext_lazy("メールアドレスを入力してください。"),
            "invalid": gettext_lazy("メールアドレスを正しく入力してください（例：name@example.jp）。"),
        },
    )


def _start_page(request: HttpRequest, form_def: Any, email_form: EmailForm | None = None, status: int = 200) -> Any:
    anonymous = bool(form_def.definition.get("anonymous")) and not request.user.is_authenticated
    email_errors = []
    if email_form is not None and email_form.errors:
        email_errors = [{"message": m, "target": "f-email"} for m in email_form.errors.get("email", [])]
    return render(
        request,
        "applications/start.html",
        {
            "form": form_def,
            "procedure": form_def.procedure,
            "title": _t(form_def.definition, "title"),
            "description": _t(form_def.definition, "description"),
            "steps": [_t(s, "title") for s in form_def.definition["steps"] if not flow.is_declaration_step(s)],
            "anonymous": anonymous,
            "login_url": reverse("accounts:login") + "?next=" + request.path,
            "email_value": email_form["email"].value() if email_form is not None else "",
            "errors": email_errors,
            "draft_days": links.link_days(),
        },
        status=status,
    )


def start(request: HttpRequest, procedure_code: str) -> HttpResponseBase:
    form_def = form_get_current(procedure_code)
    if not request.user.is_authenticated:
        if form_def is None or not form_def.definition.get("anonymous"):
            return redirect_to_login(request.get_full_path())
        draft = application_open_draft_in_session(session=request.session, procedure_code=procedure_code)
        if draft is not None:
            messages.info(request, _("保存されている入力内容から再開します。"))
            return redirect(_where_to(draft))
        if request.method == "POST":
            return redirect("applications:start", procedure_code=procedure_code)
        return _start_page(request, form_def)
    user = _user(request)
    if request.method == "POST":
        try:
            application, _created = application_start(applicant=user, procedure_code=procedure_code)
        except NoOnlineForm as exc:
            raise Http404 from exc
        return redirect(_where_to(application))
    draft = application_open_draft(user=user, procedure_code=procedure_code)
    if draft is not None:
        messages.info(request, _("保存されている入力内容から再開します。"))
        return redirect(_where_to(draft))
    if form_def is None:
        raise Http404
    return _start_page(request, form_def)


@require_POST
def start_anonymous(request: HttpRequest, procedure_code: str) -> HttpResponseBase:
    """Start without an account: the e-mail address first; the draft is tied to it
    and held by this browser session; the resume link is mailed."""
    form_def = form_get_current(procedure_code)
    if form_def is None or not form_def.definition.get("anonymous"):
        raise Http404
    if request.user.is_authenticated:
        return redirect("applications:start", procedure_code=procedure_code)
    email_form = EmailForm(request.POST)
    if not email_form.is_valid():
        return _start_page(request, form_def, email_form, status=400)
    try:
        application = application_start_anonymous(
            email=email_form.cleaned_data["email"],
            procedure_code=procedure_code,
            base_url=request.build_absolute_uri("/"),
            lang=_lang(),
        )
    except (NoOnlineForm, AnonymousNotAllowed) as exc:
        raise Http404 from exc
    request.session.cycle_key()  # a new session id once it grants access to the draft
    links.session_add(request.session, str(application.public_id))
    messages.success(
        request,
        _("続きを入力するためのリンクを %(email)s に送りました。") % {"email": application.applicant_email},
    )
    return redirect(_where_to(application))


def resume(request: HttpRequest, token: str) -> HttpResponseBase:
    """A signed resume link: puts the application into this browser's session and
    goes on where the applicant stopped. An expired, tampered or used-up link gets a
    page saying so."""
    try:
        application = application_get_by_resume_link(token=token)
    except links.ResumeLinkError as exc:
        status = 410 if exc.code == "expired" else 400
        return render(request, "applications/resume_invalid.html", {"code": exc.code}, status=status)
    except Http404:
        return render(request, "applications/resume_invalid.html", {"code": "missing"}, status=404)
    request.session.cycle_key()  # a new session id once the link grants access
    links.session_add(request.session, str(application.public_id))
    return redirect(_where_to(application))


# -- steps ------------------------------------------------------------------------------
def _posted_raw(
    request: HttpRequest, application: Application, step: Mapping[str, Any], *, store_files: bool = True
) -> dict[str, Any]:
    """The page's answers as the engine takes them: multi-valued keys as lists,
    uploaded files stored and replaced by their metadata, and a マイナンバー or file
    left empty keeping the saved value."""
    post: QueryDict = request.POST
    raw: dict[str, Any] = {}
    for key in post:
        if key in ("csrfmiddlewaretoken",) or key.startswith("_"):
            continue
        values = post.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    nested = engine.unflatten(raw)
    saved = raw_answers(application)
    files: MultiValueDict[str, Any] = request.FILES
    for field in step["fields"]:
        key = field["key"]
        if field["type"] == "multichoice":
            nested[key] = post.getlist(key)
        elif field["type"] == "mynumber" and not nested.get(key) and saved.get(key) is not None:
            nested[key] = saved[key]
        elif field["type"] == "file":
            upload = files.get(key) if store_files else None
            if upload is not None:
                nested[key] = application_store_file(application=application, field=field, upload=upload)
            elif saved.get(key) and not post.get(f"_remove.{key}"):
                nested[key] = saved[key]
    return nested


def _group_change(
    request: HttpRequest, fields: list[Mapping[str, Any]], values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The values with one group row added or removed when the 「もう1人追加」 or
    「削除」 button was pressed (``_group_add=<key>`` / ``_group_remove=<key>.<index>``),
    honouring the group's ``min_items`` and ``max_items``; None for other buttons."""
    add = str(request.POST.get("_group_add", ""))
    remove = str(request.POST.get("_group_remove", ""))
    if not add and not remove:
        return None
    groups = {f["key"]: f for f in fields if f["type"] == "group"}
    key, _dot, index = (remove or add).partition(".")
    field = groups.get(key)
    if field is None:
        return dict(values)
    items = group_items(values.get(key))
    count = max(len(items), int(field.get("min_items", 0)), 1)
    items = items + [{} for _i in range(count - len(items))]
    if add and count < int(field.get("max_items", 20)):
        items.append({})
    elif remove and index.isdigit() and int(index) < len(items) and count > max(int(field.get("min_items", 0)), 1):
        items.pop(int(index))
    return {**values, key: items}


@links.applicant_required
def step(request: HttpRequest, public_id: uuid.UUID, step_key: str) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status != Status.DRAFT:
        return redirect(_where_to(application))
    definition = application.form_definition.definition
    step_def = next((s for s in definition["steps"] if s["key"] == step_key), None)
    answers = application_answers(application)
    if step_def is None or flow.is_declaration_step(step_def) or step_key not in flow.page_steps(definition, answers):
        raise Http404
    errors: dict[str, str] = {}
    values: dict[str, Any] = raw_answers(application)
    if request.method == "POST":
        changed = _group_change(
            request,
            step_def["fields"],
            {**values, **_posted_raw(request, application, step_def, store_files=False)},
        )
        if changed is not None:
            return _render_step(request, application, step_def, changed, {})
        raw = _posted_raw(request, application, step_def)
        try:
            application, errors = application_save_step(
                application=application, step_key=step_key, raw=raw, lang=_lang(), actor=_actor(request)
            )
        except (NotEditable, UnknownStep):
            return redirect(_where_to(application))
        if not errors:
            if request.POST.get("_return") == "check":
                return redirect("applications:check", public_id=application.public_id)
            following = flow.step_after(definition, step_key, application_answers(application))
            if following is None:
                return redirect("applications:check", public_id=application.public_id)
            return redirect(_step_url(application, following))
        values = {**values, **raw}
    return _render_step(request, application, step_def, values, errors)


def _render_step(
    request: HttpRequest,
    application: Application,
    step_def: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> HttpResponse:
    definition = application.form_definition.definition
    answers = application_answers(application)
    pages = flow.page_steps(definition, answers)
    previous = flow.step_before(definition, step_def["key"], answers)
    if previous:
        back_url = _step_url(application, previous)
    else:
        back_url = reverse("catalog:procedure_detail", args=[application.procedure.code])
    fields = []
    for field, condition in flow.rendered_fields(step_def, definition, {**answers}):
        fields.append(
            field_context(
                field,
                field["key"],
                values.get(field["key"]),
                errors,
                source_label=_source_label(application, field["key"]),
                condition=condition,
            )
        )
    return render(
        request,
        "applications/step.html",
        {
            "application": application,
            "title": _t(definition, "title"),
            "step": step_def,
            "step_title": _t(step_def, "title"),
            "step_help": _t(step_def, "help"),
            "fields": fields,
            "errors": _error_list(definition, errors),
            "back_url": back_url,
            "step_number": pages.index(step_def["key"]) + 1 if step_def["key"] in pages else 1,
            "step_total": len(pages),
            "multipart": any(f["type"] == "file" for f in step_def["fields"]),
            "has_group": any(f["type"] == "group" for f in step_def["fields"]),
            "return_to_check": request.GET.get("return") == "check" or request.POST.get("_return") == "check",
        },
        status=400 if errors else 200,
    )


# -- check and submit -------------------------------------------------------------------
def _check_context(
    application: Application, errors: Mapping[str, str] | None = None, write_back_checked: bool = False
) -> dict[str, Any]:
    definition = application.form_definition.definition
    cleaned, problems = application_check(application, _lang())
    rows = engine.summary(definition, cleaned, _lang())
    step_of = {f["key"]: s["key"] for s, f in iter_fields(definition)}
    sections: list[dict[str, Any]] = []
    for step_def in definition["steps"]:
        if flow.is_declaration_step(step_def):
            continue
        step_rows = [r for r in rows if step_of.get(r.path.split(".")[0]) == step_def["key"]]
        if step_rows:
            sections.append(
                {
                    "title": _t(step_def, "title"),
                    "rows": step_rows,
                    "change_url": _step_url(application, step_def["key"]) + "?return=check",
                }
            )
    declaration = flow.declaration_step(definition)
    declaration_fields = []
    all_errors = dict(errors or {})
    if declaration is not None:
        for field in declaration["fields"]:
            declaration_fields.append(field_context(field, field["key"], None, all_errors))
    missing = {p: m for p, m in problems.items() if step_of.get(p.split(".")[0]) != (declaration or {}).get("key")}
    fee = fee_for(application.procedure, cleaned)
    return {
        "application": application,
        "title": _t(definition, "title"),
        "sections": sections,
        "declaration_fields": declaration_fields,
        "problems": [
            {
                **e,
                "url": _step_url(application, step_of[e["path"].split(".")[0]]) + "?return=check",
            }
            for e in _error_list(definition, missing)
            if e["path"].split(".")[0] in step_of
        ],
        "errors": _error_list(definition, all_errors),
        "fee": fee,
        "write_back": write_back_offers(application, cleaned, _lang()),
        "write_back_checked": write_back_checked,
        "submission_key": uuid.uuid4().hex,
        "back_url": _step_url(application, (flow.page_steps(definition, application_answers(application)) or [""])[-1]),
    }


@links.applicant_required
def check(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status != Status.DRAFT:
        return redirect(_where_to(application))
    return render(request, "applications/check.html", _check_context(application))


@links.applicant_required
@require_POST
def submit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    key = str(request.POST.get("submission_key", ""))[:64]
    if application.status == Status.SUBMITTED:
        return redirect("applications:done", public_id=application.public_id)  # a double click
    if application.status in RECEIVED or (
        application.status == Status.AWAITING_PAYMENT and application.submission_key != key
    ):
        return redirect(_where_to(application))
    if not key:
        return redirect("applications:check", public_id=application.public_id)
    actor = _actor(request)
    write_back = request.POST.get("save_contact") == "on" and application.applicant_id is not None
    definition = application.form_definition.definition
    declaration = flow.declaration_step(definition)
    if declaration is not None and application.status == Status.DRAFT:
        raw = {f["key"]: request.POST.get(f["key"], "") for f in declaration["fields"]}
        application, errors = application_save_step(
            application=application, step_key=declaration["key"], raw=raw, lang=_lang(), actor=actor
        )
        if errors:
            return render(
                request, "applications/check.html", _check_context(application, errors, write_back), status=400
            )
    try:
        cleaned, problems = application_check(application, _lang())
        if problems:
            raise InvalidApplication(problems)
        if fee_for(application.procedure, cleaned):
            back = request.build_absolute_uri(reverse("applications:payment_return", args=[application.public_id]))
            url = application_request_payment(
                application=application,
                submission_key=key,
                return_url=back,
                cancel_url=back,
                actor=actor,
                lang=_lang(),
                write_back=write_back,
            )
            return redirect(url)
        application_submit(
            application=application, submission_key=key, actor=actor, lang=_lang(), write_back=write_back
        )
    except InvalidApplication:
        messages.error(request, _("入力内容に不足があります。該当するページで入力してください。"))
        return redirect("applications:check", public_id=application.public_id)
    except (NotEditable, IdempotencyConflict, PaymentRequired):
        return redirect(_where_to(application))
    if write_back:
        messages.success(request, _("変更した連絡先をマイページの登録情報にも保存しました。"))
    return redirect("applications:done", public_id=application.public_id)


@links.applicant_required
def payment_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    application = application_payment_returned(application=application, actor=_actor(request))
    if application.status in RECEIVED:
        return redirect("applications:done", public_id=application.public_id)
    if application.status == Status.DRAFT:
        messages.error(
            request,
            _("お支払いが完了しなかったため、申請はまだ送信されていません。内容を確認して、もう一度お支払いください。"),
        )
        return redirect("applications:check", public_id=application.public_id)
    payment = application_latest_payment(application)
    return render(
        request,
        "applications/waiting.html",
        {"application": application, "payment": payment, "title": _t(application.form_definition.definition, "title")},
    )


@links.applicant_required
def done(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status not in RECEIVED:
        return redirect(_where_to(application))
    return render(
        request,
        "applications/done.html",
        {
            "application": application,
            "title": _t(application.form_definition.definition, "title"),
            "rows": engine.summary(application.form_definition.definition, application_answers(application), _lang()),
        },
    )


# -- the application's page: status, timeline, correction, withdrawal ----------------------
def _correction_items(application: Application, correction: Correction) -> list[dict[str, str]]:
    """The correction request's items with readable labels (「世帯員 2: 生年月日」)."""
    fields = {f["key"]: f for _s, f in iter_fields(application.form_definition.definition)}
    items = []
    for item in correction.items:
        path = str(item.get("path", ""))
        items.append({"path": path, "label": _path_label(fields, path), "message": str(item.get("message", ""))})
    return items


def _path_label(fields: Mapping[str, Mapping[str, Any]], path: str) -> str:
    parts = path.split(".")
    field = fields.get(parts[0])
    if field is None:
        return path
    label = _t(field, "label")
    rest = parts[1:]
    part_labels = {
        "family": _("氏"),
        "given": _("名"),
        "start": _("開始日"),
        "end": _("終了日"),
    }
    if field["type"] == "group" and rest and rest[0].isdigit():
        label = f"{_t(field, 'item_label') or label} {int(rest[0]) + 1}"
        sub = next((f for f in field["fields"] if len(rest) > 1 and f["key"] == rest[1]), None)
        if sub is not None:
            label += f": {_t(sub, 'label')}"
        rest = rest[2:]
    if rest and rest[0] in part_labels:
        label += f"（{part_labels[rest[0]]}）"
    return label


@links.applicant_required
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if not application.has_page:
        return redirect(_where_to(application))
    correction = correction_open(application)
    definition = application.form_definition.definition
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "title": _t(definition, "title"),
            "timeline": application_timeline(application),
            "correction": correction,
            "correction_items": _correction_items(application, correction) if correction else [],
            "rows": engine.summary(definition, application_answers(application), _lang()),
            "can_withdraw": application.status in WITHDRAWABLE,
            "documents": documents_for(application),
        },
    )


@links.applicant_required
@require_http_methods(["GET", "POST"])
def correction(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """The correction form: only the fields staff marked (and fields that a change to
    them can make necessary) are inputs, with staff's message at each; every other
    answer is shown read-only. POST resubmits through ``application_resubmit_correction``,
    which takes nothing else from the request."""
    application = _get(request, public_id)
    open_correction = correction_open(application)
    if open_correction is None:
        return redirect(_where_to(application))
    definition = application.form_definition.definition
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    editable = correction_editable_keys(application, open_correction)
    page = {"fields": [fields[k] for k in editable]}
    values: dict[str, Any] = raw_answers(application)
    errors: dict[str, str] = {}
    if request.method == "POST":
        changed = _group_change(
            request, page["fields"], {**values, **_posted_raw(request, application, page, store_files=False)}
        )
        if changed is not None:
            return _render_correction(request, application, open_correction, editable, changed, {})
        raw = _posted_raw(request, application, page)
        try:
            application, errors = application_resubmit_correction(
                application=application, raw=raw, actor=_actor(request), lang=_lang()
            )
        except NotEditable:
            return redirect(_where_to(application))
        if not errors:
            messages.success(request, _("修正した内容を再提出しました。担当課で引き続き審査します。"))
            return redirect("applications:detail", public_id=application.public_id)
        values = {**values, **raw}
    return _render_correction(request, application, open_correction, editable, values, errors)


def _render_correction(
    request: HttpRequest,
    application: Application,
    open_correction: Correction,
    editable: list[str],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> HttpResponse:
    definition = application.form_definition.definition
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    items = _correction_items(application, open_correction)
    hints = flow.same_page_conditions({"fields": [fields[k] for k in editable]}, definition)
    contexts = []
    for key in editable:
        ctx = field_context(fields[key], key, values.get(key), errors, source_label="", condition=hints.get(key, ""))
        ctx["corrections"] = [i for i in items if i["path"].split(".")[0] == key]
        contexts.append(ctx)
    answers = application_answers(application)
    readonly = [r for r in engine.summary(definition, answers, _lang()) if r.path.split(".")[0] not in editable]
    return render(
        request,
        "applications/correction.html",
        {
            "application": application,
            "title": _t(definition, "title"),
            "correction": open_correction,
            "correction_items": items,
            "fields": contexts,
            "readonly": readonly,
            "errors": _error_list(definition, errors),
            "multipart": any(fields[k]["type"] == "file" for k in editable),
            "has_group": any(fields[k]["type"] == "group" for k in editable),
        },
        status=400 if errors else 200,
    )


@links.applicant_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """Confirmation page, then the withdrawal (取下げ) on POST."""
    application = _get(request, public_id)
    if application.status not in WITHDRAWABLE:
        messages.error(request, _("この申請は取り下げることができません。"))
        return redirect(_where_to(application))
    if request.method == "POST":
        try:
            application_withdraw(
                application=application, actor=_actor(request), reason=str(request.POST.get("reason", ""))
            )
        except IllegalTransition:
            messages.error(request, _("この申請は取り下げることができません。"))
            return redirect(_where_to(application))
        messages.success(request, _("申請を取り下げました。"))
        return redirect("applications:detail", public_id=application.public_id)
    return render(
        request,
        "applications/withdraw.html",
        {"application": application, "title": _t(application.form_definition.definition, "title")},
    )


# -- documents --------------------------------------------------------------------------
@links.applicant_required
def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status not in RECEIVED:
        raise Http404
    response = HttpResponse(documents.receipt_pdf(application), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{application.reference_number}.pdf"'
    return response


@links.applicant_required
def attachment(request: HttpRequest, public_id: uuid.UUID, field_key: str) -> HttpResponseBase:
    """A file the applicant attached, served to the applicant only (anyone else: 404),
    always as a download so that a browser never renders it in the site's origin."""
    value = application_attachment(_get(request, public_id), field_key)
    return FileResponse(
        default_storage.open(value["id"], "rb"),
        as_attachment=True,
        filename=str(value.get("name") or "attachment"),
        content_type="application/octet-stream",
    )
