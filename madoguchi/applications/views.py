"""Resident pages of online applications (login required, no JavaScript needed).

``start`` resumes the resident's open draft of a procedure or, on POST, makes one.
``step`` shows one page of the form; POST checks and saves it (``services.
application_save_step``) and goes on to the next page shown, or shows the page again
with an error summary and inline errors (status 400). ``check`` shows every answer
with a change link per page and a submission key; ``submit`` (POST) submits, or for a
procedure with a fee sends the resident to the payment page; ``payment_return`` is
where the payment page sends them back; ``done`` shows the 受付番号 and ``receipt``
the PDF receipt. Every page finds the application through
``selectors.application_get_for_applicant``, so another resident gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.applications import documents, flow
from madoguchi.applications.machine import RECEIVED, Status
from madoguchi.applications.models import Application
from madoguchi.applications.prefill.registry import register as prefill_sources
from madoguchi.applications.selectors import (
    application_get_for_applicant,
    application_list_for_applicant,
    application_open_draft,
)
from madoguchi.applications.services import (
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
    application_save_step,
    application_start,
    application_store_file,
    application_submit,
    fee_for,
    raw_answers,
)
from madoguchi.applications.widgets import error_target, field_context
from madoguchi.core.models import User
from madoguchi.forms import engine
from madoguchi.forms.logic import iter_fields
from madoguchi.forms.selectors import form_get_current

HX = {"hx-boost": "true", "hx-target": "#main", "hx-select": "#main", "hx-swap": "outerHTML"}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


def _lang() -> str:
    return "en" if translation.get_language() == "en" else "ja"


def _t(item: Mapping[str, Any], name: str) -> str:
    if _lang() == "en" and item.get(f"{name}_en"):
        return str(item[f"{name}_en"])
    return str(item.get(name, ""))


def _get(request: HttpRequest, public_id: uuid.UUID) -> Application:
    return application_get_for_applicant(user=request.user, public_id=public_id)


def _step_url(application: Application, step_key: str) -> str:
    return reverse("applications:step", args=[application.public_id, step_key])


def _where_to(application: Application) -> str:
    """The page a resident resuming the application should see."""
    if application.status in RECEIVED:
        return reverse("applications:done", args=[application.public_id])
    if application.status == Status.AWAITING_PAYMENT:
        return reverse("applications:payment_return", args=[application.public_id])
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


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "applications/list.html", {"applications": application_list_for_applicant(user=_user(request))}
    )


@login_required
def start(request: HttpRequest, procedure_code: str) -> HttpResponseBase:
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
    form = form_get_current(procedure_code)
    if form is None:
        raise Http404
    return render(
        request,
        "applications/start.html",
        {
            "form": form,
            "procedure": form.procedure,
            "title": _t(form.definition, "title"),
            "description": _t(form.definition, "description"),
            "steps": [_t(s, "title") for s in form.definition["steps"] if not flow.is_declaration_step(s)],
        },
    )


def _posted_raw(request: HttpRequest, application: Application, step: Mapping[str, Any]) -> dict[str, Any]:
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
            upload = files.get(key)
            if upload is not None:
                nested[key] = application_store_file(application=application, field=field, upload=upload)
            elif saved.get(key) and not post.get(f"_remove.{key}"):
                nested[key] = saved[key]
    return nested


@login_required
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
        raw = _posted_raw(request, application, step_def)
        try:
            application, errors = application_save_step(
                application=application, step_key=step_key, raw=raw, lang=_lang(), actor=_user(request)
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
        source = application.prefill_sources.get(field["key"])
        source_label = str(prefill_sources[source].label) if source and source in prefill_sources else ""
        fields.append(
            field_context(
                field, field["key"], values.get(field["key"]), errors, source_label=source_label, condition=condition
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
            "return_to_check": request.GET.get("return") == "check" or request.POST.get("_return") == "check",
        },
        status=400 if errors else 200,
    )


def _check_context(application: Application, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
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
        "submission_key": uuid.uuid4().hex,
        "back_url": _step_url(application, (flow.page_steps(definition, application_answers(application)) or [""])[-1]),
    }


@login_required
def check(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status != Status.DRAFT:
        return redirect(_where_to(application))
    return render(request, "applications/check.html", _check_context(application))


@login_required
@require_POST
def submit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    key = str(request.POST.get("submission_key", ""))[:64]
    if application.status in RECEIVED or (
        application.status == Status.AWAITING_PAYMENT and application.submission_key != key
    ):
        return redirect(_where_to(application))
    if not key:
        return redirect("applications:check", public_id=application.public_id)
    user = _user(request)
    definition = application.form_definition.definition
    declaration = flow.declaration_step(definition)
    if declaration is not None and application.status == Status.DRAFT:
        raw = {f["key"]: request.POST.get(f["key"], "") for f in declaration["fields"]}
        application, errors = application_save_step(
            application=application, step_key=declaration["key"], raw=raw, lang=_lang(), actor=user
        )
        if errors:
            return render(request, "applications/check.html", _check_context(application, errors), status=400)
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
                actor=user,
                lang=_lang(),
            )
            return redirect(url)
        application_submit(application=application, submission_key=key, actor=user, lang=_lang())
    except InvalidApplication:
        messages.error(request, _("入力内容に不足があります。該当するページで入力してください。"))
        return redirect("applications:check", public_id=application.public_id)
    except (NotEditable, IdempotencyConflict, PaymentRequired):
        return redirect(_where_to(application))
    return redirect("applications:done", public_id=application.public_id)


@login_required
def payment_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    application = application_payment_returned(application=application, actor=_user(request))
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


@login_required
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


@login_required
def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    application = _get(request, public_id)
    if application.status not in RECEIVED:
        raise Http404
    response = HttpResponse(documents.receipt_pdf(application), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{application.reference_number}.pdf"'
    return response


@login_required
def attachment(request: HttpRequest, public_id: uuid.UUID, field_key: str) -> HttpResponseBase:
    """A file the applicant attached, served to the applicant only (anyone else: 404),
    always as a download so that a browser never renders it in the site's origin."""
    application = _get(request, public_id)
    value = application.data.get(field_key) if isinstance(application.data, dict) else None
    if not isinstance(value, dict) or not value.get("id") or not default_storage.exists(value["id"]):
        raise Http404
    return FileResponse(
        default_storage.open(value["id"], "rb"),
        as_attachment=True,
        filename=str(value.get("name") or "attachment"),
        content_type="application/octet-stream",
    )
