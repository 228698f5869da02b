"""Staff pages of the no-code form builder (/staff/forms/).

Who: staff with role 係長 or higher in the procedure's department, or the admin role
(``selectors.builder_*``); anyone else gets 403. Every page works without JavaScript
(plain forms, POST-redirect-GET); htmx boosts the editor's small forms so that the
page, and with it the live preview, is swapped in after each edit.

Flow: the list shows each procedure's form versions; 「新しい版を作る」 copies the
current published version into a draft (``services.form_draft_create``). The editor
page shows the draft's settings, steps, fields and logic rules, the problems that keep
it from being published (each next to the part it concerns) and a preview of one
step. Each small form posts one operation to ``edit`` (or to the field, rule and JSON
pages) with the draft's checksum as ``token``; ``services.form_draft_change`` refuses
a stale token, so two staff editing one draft never overwrite each other. ``publish``
runs every check and publishes or lists the problems; ``export`` downloads a version
as JSON and ``import`` makes a draft from such a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.forms import builder, builder_preview
from madoguchi.forms.builder import BuilderInputError, FieldLoc, NotInDraft
from madoguchi.forms.builder_checks import Problem, publish_problems, where
from madoguchi.forms.builder_io import BadExport, dumps, export_filename, parse_export
from madoguchi.forms.models import FormDefinition
from madoguchi.forms.selectors import (
    builder_departments,
    builder_form_get,
    builder_may_use,
    builder_open_draft,
    builder_procedure_get,
    builder_procedures,
)
from madoguchi.forms.services import (
    DraftExists,
    DraftRefused,
    NewerVersionPublished,
    NotADraft,
    StaleDraft,
    form_draft_change,
    form_draft_create,
    form_draft_delete,
    form_draft_import,
    form_draft_publish,
    form_export,
)

SECTION = {"staff_section": "forms"}
Change = Callable[[dict[str, Any]], dict[str, Any] | None]


def _stale_text() -> str:
    return _(
        "この下書きは、あなたが画面を開いたあとに別の職員が更新しました。変更は保存していません。"
        "最新の内容を確認してから、もう一度操作してください。"
    )


# --- access -------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by staff_required
    return user


def _builder_user(request: HttpRequest) -> User:
    user = _user(request)
    if not builder_may_use(user):
        raise PermissionDenied("form builder: role 係長 or higher, or admin, needed")
    return user


def _form(request: HttpRequest, code: str, version: int) -> FormDefinition:
    user = _builder_user(request)
    try:
        return builder_form_get(user=user, code=code, version=version)
    except (Procedure.DoesNotExist, FormDefinition.DoesNotExist) as exc:
        raise Http404 from exc


def _editor_url(form: FormDefinition, fragment: str = "") -> str:
    url = reverse("formbuilder:editor", args=[form.procedure.code, form.version])
    return f"{url}#{fragment}" if fragment else url


def _field_url(form: FormDefinition, loc: FieldLoc) -> str:
    args: list[Any] = [form.procedure.code, form.version, loc.step, loc.field]
    if loc.sub is None:
        return reverse("formbuilder:field", args=args)
    return reverse("formbuilder:subfield", args=[*args, loc.sub])


def _token(request: HttpRequest, form: FormDefinition) -> str:
    """The checksum a page carries: a page shown again after a refused POST keeps the
    one it was made with, so that it cannot overwrite a change it has not shown."""
    if request.method == "POST" and request.POST.get("token"):
        return str(request.POST["token"])
    return form.checksum


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise Http404 from exc


# --- list, new version, import, export ----------------------------------------------


@staff_required
def form_list(request: HttpRequest) -> HttpResponse:
    user = _builder_user(request)
    department = request.GET.get("department", "")
    procedures = list(builder_procedures(user, department=department))
    rows = []
    for procedure in procedures:
        versions = list(procedure.form_definitions.all())
        published = next((v for v in versions if v.is_published), None)
        draft = next((v for v in versions if not v.is_published), None)
        rows.append({"procedure": procedure, "versions": versions, "current": published, "draft": draft})
    if request.GET.get("with_forms"):
        rows = [r for r in rows if r["versions"]]
    return render(
        request,
        "forms/builder/list.html",
        {
            **SECTION,
            "rows": rows,
            "departments": builder_departments(user),
            "department": department,
            "with_forms": bool(request.GET.get("with_forms")),
        },
    )


@staff_required
@require_POST
def form_new(request: HttpRequest, code: str) -> HttpResponseBase:
    user = _builder_user(request)
    try:
        procedure = builder_procedure_get(user=user, code=code)
    except Procedure.DoesNotExist as exc:
        raise Http404 from exc
    try:
        form = form_draft_create(procedure=procedure, actor=user)
    except DraftExists as exc:
        messages.info(request, _("この手続きには編集中の下書き（第%(v)s版）があります。") % {"v": exc.form.version})
        return redirect(_editor_url(exc.form))
    messages.success(request, _("第%(v)s版の下書きを作りました。") % {"v": form.version})
    return redirect(_editor_url(form))


@staff_required
def form_import(request: HttpRequest) -> HttpResponse:
    user = _builder_user(request)
    procedures = list(builder_procedures(user))
    errors: dict[str, str] = {}
    problems: list[dict[str, str]] = []
    selected = request.POST.get("procedure", request.GET.get("procedure", ""))
    if request.method == "POST":
        procedure = next((p for p in procedures if p.code == selected), None)
        upload = request.FILES.get("file")
        pasted = request.POST.get("json", "")
        text: str | bytes = upload.read() if upload is not None else pasted
        if procedure is None:
            errors["procedure"] = _("取り込む先の手続きを選んでください。")
        if not text or (isinstance(text, str) and not text.strip()):
            errors["file"] = _("JSON ファイルを選ぶか、JSON を貼り付けてください。")
        if not errors and procedure is not None:
            try:
                form = form_draft_import(procedure=procedure, actor=user, text=text)
            except DraftExists as exc:
                errors["procedure"] = _(
                    "この手続きには編集中の下書き（第%(v)s版）があります。公開するか削除してから取り込んでください。"
                ) % {"v": exc.form.version}
            except DraftRefused as exc:
                errors["file"] = _("このファイルは取り込めません。下の問題を確認してください。")
                definition = _definition_in(text)
                problems = [
                    {"where": where(p.path, definition) if p.path else "", "message": p.message} for p in exc.problems
                ]
            else:
                messages.success(
                    request,
                    _("取り込んで第%(v)s版の下書きを作りました。内容を確認して公開してください。")
                    % {"v": form.version},
                )
                return redirect(_editor_url(form))
    return render(
        request,
        "forms/builder/import.html",
        {
            **SECTION,
            "procedures": procedures,
            "selected": selected,
            "errors": errors,
            "error_list": _error_links(errors, {"procedure": "b-import-procedure", "file": "b-import-file"}),
            "problems": problems,
            "pasted": request.POST.get("json", ""),
        },
        status=400 if errors else 200,
    )


def _definition_in(text: str | bytes) -> Any:
    try:
        return parse_export(text)
    except BadExport:
        return {}


@staff_required
def form_export_view(request: HttpRequest, code: str, version: int) -> HttpResponse:
    form = _form(request, code, version)
    document = form_export(form=form, actor=_user(request))
    response = HttpResponse(dumps(document), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(form)}"'
    return response


# --- the editor ---------------------------------------------------------------------


def _error_links(errors: Mapping[str, str], targets: Mapping[str, str], prefix: str = "b-") -> list[dict[str, str]]:
    return [{"message": m, "target": targets.get(k, f"{prefix}{k}")} for k, m in errors.items()]


def _problems_by_anchor(problems: list[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.anchor, []).append(p.message)
    return out


def _editor_context(
    request: HttpRequest,
    form: FormDefinition,
    *,
    form_errors: Mapping[str, Mapping[str, str]] | None = None,
    publish_refused: list[Problem] | None = None,
) -> dict[str, Any]:
    definition = form.definition
    editable = not form.is_published
    problems = publish_problems(definition, procedure_code=form.procedure.code)
    at = _problems_by_anchor(problems)
    form_errors = form_errors or {}
    posted = request.POST if request.method == "POST" else {}
    fields_count = 0
    shown_by: dict[str, list[str]] = {}
    for rule in builder._list(definition.get("logic")):
        if isinstance(rule, dict):
            for key in builder._list(rule.get("show")):
                shown_by.setdefault(str(key), []).append(builder.describe_condition(rule.get("when"), definition))
    steps = []
    all_steps = builder.steps_of(definition)
    for i, step in enumerate(all_steps):
        fields = []
        step_fields = [f for f in builder._list(step.get("fields")) if isinstance(f, dict)]
        for j, field in enumerate(step_fields):
            fields_count += 1
            loc = FieldLoc(i, j)
            kind = str(field.get("type", ""))
            fields.append(
                {
                    "index": j,
                    "anchor": f"b-field-{i}-{j}",
                    "key": field.get("key", ""),
                    "label": builder.label_of(field),
                    "type_label": builder.type_label(kind),
                    "required": bool(field.get("required")) or builder.is_always_required(kind),
                    "hidden": bool(field.get("hidden")),
                    "shown_when": shown_by.get(str(field.get("key")), []),
                    "prefill": _prefill_text(field.get("prefill")),
                    "sub_labels": [
                        builder.label_of(s) for s in builder._list(field.get("fields")) if isinstance(s, dict)
                    ]
                    if kind == "group"
                    else [],
                    "choices": [
                        str(c.get("label", "")) for c in builder._list(field.get("choices")) if isinstance(c, dict)
                    ],
                    "problems": at.get(f"b-field-{i}-{j}", []),
                    "edit_url": _field_url(form, loc),
                    "is_first": j == 0,
                    "is_last": j == len(step_fields) - 1,
                }
            )
        step_id = f"step-{i}"
        add_id = f"field_add-{i}"
        steps.append(
            {
                "index": i,
                "number": i + 1,
                "anchor": f"b-step-{i}",
                "ids": {
                    **{n: f"b-{step_id}-{n}" for n in ("title", "title_en", "key", "help", "help_en", "hidden")},
                    **{f"add_{n}": f"b-{add_id}-{n}" for n in ("type", "label", "key")},
                },
                "key": step.get("key", ""),
                "title": builder.label_of(step, "title"),
                "values": _values(posted, step, ("key", "title", "title_en", "help", "help_en"), step_id, form_errors),
                "hidden": bool(posted.get("hidden")) if step_id in form_errors else bool(step.get("hidden")),
                "shown_when": shown_by.get(str(step.get("key")), []),
                "errors": form_errors.get(step_id, {}),
                "open": step_id in form_errors,
                "add_errors": form_errors.get(add_id, {}),
                "add_values": _values(posted, {}, ("type", "label", "key"), add_id, form_errors),
                "problems": at.get(f"b-step-{i}", []),
                "fields": fields,
                "is_first": i == 0,
                "is_last": i == len(all_steps) - 1,
                "declaration": builder_preview.is_declaration_step(step),
                "other_steps": [(k, builder.label_of(s, "title")) for k, s in enumerate(all_steps) if k != i],
            }
        )
    rules = []
    for k, rule in enumerate(builder._list(definition.get("logic"))):
        if not isinstance(rule, dict):
            continue
        rules.append(
            {
                "index": k,
                "number": k + 1,
                "anchor": f"b-rule-{k}",
                "lines": builder.describe_rule(rule, definition),
                "simple": builder.rule_to_simple(rule) is not None,
                "problems": at.get(f"b-rule-{k}", []),
                "edit_url": reverse("formbuilder:rule", args=[form.procedure.code, form.version, k]),
            }
        )
    summary = [
        {"where": where(p.path, definition), "message": p.message, "target": p.anchor}
        for p in (publish_refused if publish_refused is not None else problems)
    ]
    op_errors = [
        {"message": message, "target": f"b-{form_id}-{name}"}
        for form_id, errs in form_errors.items()
        for name, message in errs.items()
    ]
    settings_id = "settings"
    return {
        **SECTION,
        "form": form,
        "procedure": form.procedure,
        "definition": definition,
        "editable": editable,
        "token": _token(request, form),
        "title": builder.label_of(definition, "title") if isinstance(definition, dict) else "",
        "settings": _values(
            posted, definition, ("title", "title_en", "description", "description_en"), settings_id, form_errors
        ),
        "settings_errors": form_errors.get(settings_id, {}),
        "anonymous_setting": "anonymous" in builder.setting_flags(),
        "anonymous": bool(posted.get("anonymous")) if settings_id in form_errors else bool(definition.get("anonymous")),
        "settings_problems": at.get("b-settings", []),
        "steps": steps,
        "steps_problems": at.get("b-steps", []),
        "step_add_errors": form_errors.get("step_add", {}),
        "step_add_values": _values(posted, {}, ("title", "key"), "step_add", form_errors),
        "rules": rules,
        "rules_problems": at.get("b-rules", []),
        "fields_count": fields_count,
        "type_choices": builder.type_choices(),
        "problems": summary,
        "publish_refused": publish_refused is not None,
        "op_errors": op_errors,
        "preview": _inline_preview(request, form),
        "other_draft": None if editable else builder_open_draft(form.procedure),
    }


def _values(
    posted: Any, source: Mapping[str, Any], names: tuple[str, ...], form_id: str, errors: Mapping[str, Any]
) -> dict[str, str]:
    if form_id in errors:
        return {n: str(posted.get(n, "")) for n in names}
    return {n: str(source.get(n, "") or "") for n in names}


def _prefill_text(prefill: Any) -> str:
    if isinstance(prefill, str):
        return builder.prefill_label(prefill)
    if isinstance(prefill, dict):
        return "、".join(builder.prefill_label(str(v)) for v in prefill.values())
    return ""


def _inline_preview(request: HttpRequest, form: FormDefinition) -> dict[str, Any]:
    """One step of the draft as the resident sees it before answering anything."""
    definition = builder_preview.renderable(form.definition)
    steps = definition["steps"]
    if not steps:
        return {"unavailable": True, "steps": []}
    chosen = request.GET.get("preview", "")
    step = next((s for s in steps if s["key"] == chosen), steps[0])

    def build() -> dict[str, Any]:
        return {
            "fields": builder_preview.step_fields(definition, step, {}, {}, {}),
            "hidden": builder_preview.hidden_fields(definition, step, {}),
        }

    try:
        rendered = builder_preview.guarded(build)
    except builder_preview.PreviewUnavailable:
        return {"unavailable": True, "steps": []}
    base = _editor_url(form).split("#")[0]
    return {
        "unavailable": False,
        "title": builder_preview._t(definition, "title"),
        "step_title": builder_preview._t(step, "title"),
        "step_help": builder_preview._t(step, "help"),
        "step_key": step["key"],
        "declaration": builder_preview.is_declaration_step(step),
        "steps": [
            {
                "key": s["key"],
                "title": builder_preview._t(s, "title"),
                "url": f"{base}?preview={s['key']}#b-preview",
                "current": s is step,
            }
            for s in steps
        ],
        "number": steps.index(step) + 1,
        "total": len(steps),
        **rendered,
    }


@staff_required
def editor(request: HttpRequest, code: str, version: int) -> HttpResponse:
    form = _form(request, code, version)
    return render(request, "forms/builder/editor.html", _editor_context(request, form))


def _change(
    request: HttpRequest, form: FormDefinition, change: Change, operation: str, done: str, fragment: str = ""
) -> HttpResponseBase:
    """Apply one operation; on success redirect to the editor with ``done`` as message."""
    try:
        form, _details = form_draft_change(
            form=form,
            actor=_user(request),
            expected_checksum=request.POST.get("token", ""),
            change=change,
            operation=operation,
        )
    except StaleDraft:
        messages.error(request, _stale_text())
        return redirect(_editor_url(form))
    except NotADraft:
        messages.error(request, _("公開済みの版は変更できません。新しい版を作ってください。"))
        return redirect(_editor_url(form))
    except NotInDraft as exc:
        raise Http404 from exc
    messages.success(request, done)
    return redirect(_editor_url(form, fragment))


@staff_required
@require_POST
def edit(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    """One small operation of the editor page, named by ``op``."""
    form = _form(request, code, version)
    post = request.POST
    op = post.get("op", "")
    definition = form.definition
    form_id = op
    try:
        if op == "settings":
            settings = builder.parse_settings(post)
            return _change(
                request,
                form,
                lambda d: builder.op_settings(d, settings),
                op,
                _("フォームの設定を保存しました。"),
                "b-settings",
            )
        if op == "step_add":
            values = builder.parse_step(post, definition, None)
            index = len(builder.steps_of(definition))
            return _change(
                request,
                form,
                lambda d: builder.op_step_add(d, values),
                op,
                _("ステップ「%(title)s」を追加しました。") % {"title": values["title"]},
                f"b-step-{index}",
            )
        if op == "step_update":
            i = _int(post.get("step"))
            form_id = f"step-{i}"
            values = builder.parse_step(post, definition, i)
            return _change(
                request,
                form,
                lambda d: builder.op_step_update(d, i, values),
                op,
                _("ステップ「%(title)s」を保存しました。") % {"title": values["title"]},
                f"b-step-{i}",
            )
        if op == "step_move":
            i, direction = _int(post.get("step")), post.get("direction", "")
            target = i - 1 if direction == "up" else i + 1
            return _change(
                request,
                form,
                lambda d: builder.op_step_move(d, i, direction),
                op,
                _("ステップの順番を変えました。"),
                f"b-step-{target}",
            )
        if op == "step_delete":
            i = _int(post.get("step"))
            return _change(
                request, form, lambda d: builder.op_step_delete(d, i), op, _("ステップを削除しました。"), "b-steps"
            )
        if op == "field_add":
            i = _int(post.get("step"))
            form_id = f"field_add-{i}"
            new = builder.parse_new_field(post, definition, builder.taken_keys_for(definition, None), in_group=False)
            step = builder.get_step(definition, i)
            j = len(builder._list(step.get("fields")))
            return _change(
                request,
                form,
                lambda d: builder.op_field_add(d, i, new),
                op,
                _("項目「%(label)s」を追加しました。「詳しく設定」で種類ごとの設定ができます。")
                % {"label": new["label"]},
                f"b-field-{i}-{j}",
            )
        if op in ("field_move", "field_delete", "field_to_step"):
            loc = FieldLoc(_int(post.get("step")), _int(post.get("field")))
            if op == "field_move":
                direction = post.get("direction", "")
                return _change(
                    request,
                    form,
                    lambda d: builder.op_field_move(d, loc, direction),
                    op,
                    _("項目の順番を変えました。"),
                    f"b-step-{loc.step}",
                )
            if op == "field_to_step":
                target = _int(post.get("to_step"))
                return _change(
                    request,
                    form,
                    lambda d: builder.op_field_to_step(d, loc, target),
                    op,
                    _("項目を別のステップへ移しました。"),
                    f"b-step-{target}",
                )
            return _change(
                request,
                form,
                lambda d: builder.op_field_delete(d, loc),
                op,
                _("項目を削除しました（この項目を使うルールも削除しました）。"),
                f"b-step-{loc.step}",
            )
        if op == "rule_delete":
            k = _int(post.get("rule"))
            return _change(
                request, form, lambda d: builder.op_rule_delete(d, k), op, _("ルールを削除しました。"), "b-rules"
            )
    except BuilderInputError as exc:
        return render(
            request,
            "forms/builder/editor.html",
            _editor_context(request, form, form_errors={form_id: exc.errors}),
            status=400,
        )
    except NotInDraft as exc:
        raise Http404 from exc
    raise Http404


@staff_required
@require_POST
def publish(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    form = _form(request, code, version)
    try:
        form = form_draft_publish(form=form, actor=_user(request), expected_checksum=request.POST.get("token", ""))
    except StaleDraft:
        messages.error(request, _stale_text())
        return redirect(_editor_url(form))
    except NotADraft:
        messages.error(request, _("この版はすでに公開されています。"))
        return redirect(_editor_url(form))
    except NewerVersionPublished:
        messages.error(
            request,
            _(
                "この下書きを作ったあとに、より新しい版が公開されました。この下書きを削除し、新しい版から作り直してください。"
            ),
        )
        return redirect(_editor_url(form))
    except DraftRefused as exc:
        return render(
            request,
            "forms/builder/editor.html",
            _editor_context(request, form, publish_refused=exc.problems),
            status=400,
        )
    messages.success(
        request,
        _("第%(v)s版を公開しました。これから始まる申請はこの版を使います（入力中の申請は元の版のままです）。")
        % {"v": form.version},
    )
    return redirect("formbuilder:list")


@staff_required
def delete(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    form = _form(request, code, version)
    if form.is_published:
        raise Http404
    if request.method == "POST":
        try:
            form_draft_delete(form=form, actor=_user(request), expected_checksum=request.POST.get("token", ""))
        except StaleDraft:
            messages.error(request, _stale_text())
            return redirect(_editor_url(form))
        messages.success(request, _("第%(v)s版の下書きを削除しました。") % {"v": form.version})
        return redirect("formbuilder:list")
    return render(request, "forms/builder/delete.html", {**SECTION, "form": form, "token": form.checksum})


# --- one field ----------------------------------------------------------------------


def _option_value(spec: builder.OptionSpec, value: Any) -> str:
    if value is None:
        return ""
    if spec.kind == "megabytes" and isinstance(value, int | float):
        return f"{value / 1_000_000:g}"
    if spec.kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _field_page_context(
    request: HttpRequest,
    form: FormDefinition,
    loc: FieldLoc,
    *,
    errors: Mapping[str, str] | None = None,
    sub_errors: Mapping[str, str] | None = None,
    stale: bool = False,
) -> dict[str, Any]:
    definition = form.definition
    field = builder.get_field(definition, loc)
    posted = request.POST if errors else None
    errors = errors or {}
    kind = str(posted.get("type", field.get("type", ""))) if posted is not None else str(field.get("type", ""))
    if kind not in builder.registry:
        kind = str(field.get("type", ""))
    in_group = loc.sub is not None

    def value(name: str) -> str:
        if posted is not None:
            return str(posted.get(name, ""))
        raw = field.get(name, "")
        return "" if raw is None or isinstance(raw, dict | list | bool) else str(raw)

    options = []
    for spec in builder.option_specs(kind) if kind in builder.registry else []:
        if spec.kind == "field_ref":
            enum = tuple(builder.postal_code_fields_before(definition, loc))
        else:
            enum = spec.enum
        current = posted.get(spec.input_name, "") if posted is not None else _option_value(spec, field.get(spec.name))
        options.append(
            {
                "spec": spec,
                "id": f"b-{spec.input_name}",
                "name": spec.input_name,
                "value": current,
                "enum": enum,
                "error": errors.get(spec.input_name, ""),
            }
        )
    choices = None
    if builder.has_choices(kind):
        rows = builder.choice_rows(field, posted) if posted is not None else builder.choice_rows(field)
        if posted is not None:
            rows += [{"value": "", "label": "", "label_en": ""} for _ in range(builder.CHOICE_ROWS_EXTRA)]
        choices = [
            {
                "i": i,
                **row,
                "errors": {p: errors.get(f"choice-{i}-{p}", "") for p in ("value", "label", "label_en")},
            }
            for i, row in enumerate(rows)
        ]
    prefill = field.get("prefill")
    prefill_values: dict[str, str] = {}
    if posted is not None:
        prefill_values = {n: str(posted.get(n, "")) for n in ("prefill", "prefill_family", "prefill_given")}
    elif isinstance(prefill, str):
        prefill_values = {"prefill": prefill}
    elif isinstance(prefill, dict):
        prefill_values = {f"prefill_{p}": str(v) for p, v in prefill.items()}
    subs = []
    if kind == "group" and not in_group:
        sub_list = [s for s in builder._list(field.get("fields")) if isinstance(s, dict)]
        for k, sub in enumerate(sub_list):
            subs.append(
                {
                    "index": k,
                    "label": builder.label_of(sub),
                    "key": sub.get("key", ""),
                    "type_label": builder.type_label(str(sub.get("type", ""))),
                    "required": bool(sub.get("required")),
                    "edit_url": _field_url(form, FieldLoc(loc.step, loc.field, k)),
                    "is_first": k == 0,
                    "is_last": k == len(sub_list) - 1,
                }
            )
    problems = [
        p.message
        for p in publish_problems(definition, procedure_code=form.procedure.code)
        if p.path == loc.path or p.path.startswith(loc.path + "/")
    ]
    sub_errors = sub_errors or {}
    error_list = _error_links(errors, {"type": "b-type", "key": "b-key", "label": "b-label"})
    error_list += _error_links(sub_errors, {}, prefix="b-sub-")
    preview_field = None
    try:
        rendered_def = builder_preview.renderable(definition)
        rendered = builder.get_field(rendered_def, loc) if builder_preview._known(field) else None
        if rendered is not None:
            preview_field = builder_preview.guarded(
                lambda: builder_preview.field_context(rendered, f"preview_{rendered['key']}", None, {})
            )
    except (builder_preview.PreviewUnavailable, NotInDraft):
        preview_field = None
    parent = builder.get_field(definition, loc.parent) if in_group else None
    return {
        **SECTION,
        "form": form,
        "token": _token(request, form),
        "editable": not form.is_published,
        "loc": loc,
        "field": field,
        "parent": parent,
        "parent_url": _field_url(form, loc.parent) if in_group else "",
        "step": builder.get_step(definition, loc.step),
        "kind": kind,
        "kind_label": builder.type_label(kind),
        "type_choices": builder.type_choices(in_group=in_group),
        "values": {n: value(n) for n in ("key", "label", "label_en", "help", "help_en")},
        "required": (bool(posted.get("required")) if posted is not None else bool(field.get("required"))),
        "hidden": (bool(posted.get("hidden")) if posted is not None else bool(field.get("hidden"))),
        "always_required": builder.is_always_required(kind),
        "in_group": in_group,
        "options": options,
        "choices": choices,
        "choice_count": len(choices or []),
        "composite_prefill": kind in builder.COMPOSITE_PREFILL,
        "prefill_choices": builder.prefill_choices(kind) if not in_group else [],
        "prefill_values": prefill_values,
        "subs": subs,
        "sub_errors": sub_errors,
        "sub_values": {n: str(request.POST.get(n, "")) for n in ("type", "label", "key")} if sub_errors else {},
        "sub_type_choices": builder.type_choices(in_group=True),
        "errors": errors,
        "error_list": error_list,
        "stale": stale,
        "problems": problems,
        "preview_field": preview_field,
        "editor_url": _editor_url(form, f"b-field-{loc.step}-{loc.field}"),
    }


def _field_page(request: HttpRequest, code: str, version: int, loc: FieldLoc) -> HttpResponseBase:
    form = _form(request, code, version)
    try:
        builder.get_field(form.definition, loc)
    except NotInDraft as exc:
        raise Http404 from exc
    if request.method != "POST":
        return render(request, "forms/builder/field.html", _field_page_context(request, form, loc))
    if form.is_published:
        raise Http404
    op = request.POST.get("op", "save")
    if op in ("sub_add", "sub_move", "sub_delete") and loc.sub is None:
        return _sub_op(request, form, loc, op)
    try:
        new = builder.parse_field(request.POST, form.definition, loc)
    except BuilderInputError as exc:
        return render(
            request, "forms/builder/field.html", _field_page_context(request, form, loc, errors=exc.errors), status=400
        )
    old_type = builder.get_field(form.definition, loc).get("type")
    type_changed = new["type"] != old_type
    if type_changed:
        for name, default in builder.DEFAULT_OPTIONS.get(new["type"], {}).items():
            new.setdefault(name, json.loads(json.dumps(default)))
    try:
        form, _details = form_draft_change(
            form=form,
            actor=_user(request),
            expected_checksum=request.POST.get("token", ""),
            change=lambda d: builder.op_field_update(d, loc, new),
            operation="field_update",
        )
    except StaleDraft:
        context = _field_page_context(request, form, loc, errors={"token": _stale_text()}, stale=True)
        return render(request, "forms/builder/field.html", context, status=409)
    except NotADraft as exc:
        raise Http404 from exc
    if type_changed:
        messages.success(
            request,
            _("種類を「%(type)s」に変えました。この種類の設定を確認してください。")
            % {"type": builder.type_label(new["type"])},
        )
        return redirect(_field_url(form, loc))
    messages.success(request, _("項目「%(label)s」を保存しました。") % {"label": new["label"]})
    if loc.sub is not None:
        return redirect(_field_url(form, loc.parent) + f"#b-sub-{loc.sub}")
    return redirect(_editor_url(form, f"b-field-{loc.step}-{loc.field}"))


def _sub_op(request: HttpRequest, form: FormDefinition, loc: FieldLoc, op: str) -> HttpResponseBase:
    post = request.POST
    definition = form.definition
    change: Change
    try:
        if op == "sub_add":
            group = builder.get_field(definition, loc)
            taken = {str(s.get("key", "")) for s in builder._list(group.get("fields")) if isinstance(s, dict)}
            new = builder.parse_new_field(post, definition, taken, in_group=True)
            change = lambda d: builder.op_field_add(d, loc.step, new, group=loc.field)  # noqa: E731
            done = _("グループに項目「%(label)s」を追加しました。") % {"label": new["label"]}
        elif op == "sub_move":
            sub = FieldLoc(loc.step, loc.field, _int(post.get("sub")))
            direction = post.get("direction", "")
            change = lambda d: builder.op_field_move(d, sub, direction)  # noqa: E731
            done = _("項目の順番を変えました。")
        else:
            sub = FieldLoc(loc.step, loc.field, _int(post.get("sub")))
            change = lambda d: builder.op_field_delete(d, sub)  # noqa: E731
            done = _("項目を削除しました。")
    except BuilderInputError as exc:
        context = _field_page_context(request, form, loc, sub_errors=exc.errors)
        return render(request, "forms/builder/field.html", context, status=400)
    try:
        form, _details = form_draft_change(
            form=form, actor=_user(request), expected_checksum=post.get("token", ""), change=change, operation=op
        )
    except StaleDraft:
        messages.error(request, _stale_text())
        return redirect(_field_url(form, loc))
    except (NotADraft, NotInDraft) as exc:
        raise Http404 from exc
    messages.success(request, done)
    return redirect(_field_url(form, loc) + "#b-subs")


@staff_required
def field_page(request: HttpRequest, code: str, version: int, step: int, field: int) -> HttpResponseBase:
    return _field_page(request, code, version, FieldLoc(step, field))


@staff_required
def subfield_page(request: HttpRequest, code: str, version: int, step: int, field: int, sub: int) -> HttpResponseBase:
    return _field_page(request, code, version, FieldLoc(step, field, sub))


# --- logic rules --------------------------------------------------------------------


def _rule_context(
    request: HttpRequest,
    form: FormDefinition,
    index: int | None,
    *,
    errors: Mapping[str, str] | None = None,
    stale: bool = False,
) -> dict[str, Any]:
    definition = form.definition
    rule = builder._list(definition.get("logic"))[index] if index is not None else None
    simple = builder.rule_to_simple(rule) if isinstance(rule, dict) else None
    posted = request.POST if request.method == "POST" else None
    chosen = (posted or request.GET).get("field", "") or (simple.field if simple else "")
    condition_field = builder.field_by_key(definition, chosen) if chosen else None
    if posted is not None:
        op = posted.get("op", "")
        values = posted.getlist("values")
        value = posted.get("value", "")
        action = posted.get("action", "show")
        targets = posted.getlist("targets")
    elif simple is not None and condition_field is not None and chosen == simple.field:
        op, values, action, targets = simple.op, [str(v) for v in simple.values], simple.action, simple.targets
        value = ", ".join(str(v) for v in simple.values)
    else:
        op, values, value, action, targets = "", [], "", "show", []
    kind = str(condition_field.get("type", "")) if condition_field else ""
    controllable = {k for k, _text in builder.controllable_targets(definition, chosen)} if chosen else set()
    errors = errors or {}
    return {
        **SECTION,
        "form": form,
        "token": _token(request, form),
        "editable": not form.is_published,
        "index": index,
        "number": index + 1 if index is not None else None,
        "complex": rule is not None and simple is None,
        "rule_lines": builder.describe_rule(rule, definition) if isinstance(rule, dict) else [],
        "fields": [
            (str(f.get("key", "")), builder.label_of(f), builder.type_label(str(f.get("type", ""))))
            for _i, _j, f in builder.iter_top_fields(definition)
        ],
        "chosen": chosen,
        "condition_field": condition_field,
        "condition_label": builder.label_of(condition_field) if condition_field else "",
        "operators": builder.operators_for(kind) if condition_field else [],
        "op": op,
        "choices": [
            {"value": str(c.get("value")), "label": str(c.get("label", "")), "checked": str(c.get("value")) in values}
            for c in builder._list(condition_field.get("choices") if condition_field else [])
            if isinstance(c, dict)
        ],
        "value": value,
        "numeric": kind in builder.NUMERIC_TYPES,
        "actions": [(k, str(v)) for k, v in builder.ACTIONS.items()],
        "action": action,
        "targets": [
            (k, text, k in targets)
            for k, text in builder.rule_targets(definition)
            if k != chosen and (k in targets or k in controllable)
        ],
        "errors": errors,
        "error_list": _error_links(errors, {"chosen": "b-values-0", "targets": "b-targets-0"}),
        "stale": stale,
        "problems": [
            p.message
            for p in publish_problems(definition, procedure_code=form.procedure.code)
            if index is not None and (p.path == f"logic/{index}" or p.path.startswith(f"logic/{index}/"))
        ],
        "action_url": reverse("formbuilder:rule", args=[form.procedure.code, form.version, index])
        if index is not None
        else reverse("formbuilder:rule_new", args=[form.procedure.code, form.version]),
    }


def _rule_page(request: HttpRequest, code: str, version: int, index: int | None) -> HttpResponseBase:
    form = _form(request, code, version)
    if index is not None and not 0 <= index < len(builder._list(form.definition.get("logic"))):
        raise Http404
    if request.method != "POST":
        return render(request, "forms/builder/rule.html", _rule_context(request, form, index))
    if form.is_published:
        raise Http404
    try:
        rule = builder.parse_rule(request.POST, form.definition)
    except BuilderInputError as exc:
        return render(
            request, "forms/builder/rule.html", _rule_context(request, form, index, errors=exc.errors), status=400
        )
    try:
        form, details = form_draft_change(
            form=form,
            actor=_user(request),
            expected_checksum=request.POST.get("token", ""),
            change=lambda d: builder.op_rule_save(d, index, rule),
            operation="rule_save",
        )
    except StaleDraft:
        context = _rule_context(request, form, index, errors={"token": _stale_text()}, stale=True)
        return render(request, "forms/builder/rule.html", context, status=409)
    except (NotADraft, NotInDraft) as exc:
        raise Http404 from exc
    messages.success(request, _("ルールを保存しました。"))
    return redirect(_editor_url(form, f"b-rule-{details['rule']}"))


@staff_required
def rule_new(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    return _rule_page(request, code, version, None)


@staff_required
def rule_page(request: HttpRequest, code: str, version: int, index: int) -> HttpResponseBase:
    return _rule_page(request, code, version, index)


# --- the JSON editor ----------------------------------------------------------------


@staff_required
def json_editor(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    form = _form(request, code, version)
    text = json.dumps(form.definition, ensure_ascii=False, indent=2)
    problems: list[dict[str, str]] = []
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_published:
            raise Http404
        text = request.POST.get("definition", "")
        try:
            new = json.loads(text)
        except json.JSONDecodeError as exc:
            error = _("JSON として読めません（%(line)s行目 %(column)s文字目: %(error)s）。") % {
                "line": exc.lineno,
                "column": exc.colno,
                "error": exc.msg,
            }
        if not error and not isinstance(new, dict):
            error = _("フォームの定義は JSON のオブジェクト（{ … }）にしてください。")
        if not error:
            try:
                form, _details = form_draft_change(
                    form=form,
                    actor=_user(request),
                    expected_checksum=request.POST.get("token", ""),
                    change=lambda d: builder.op_replace(d, new),
                    operation="json_replace",
                )
            except StaleDraft:
                error, status = _stale_text(), 409
            except DraftRefused as exc:
                error = _("この内容ではエディターで表示できないため、保存していません。")
                problems = [{"where": where(p.path, new), "message": p.message} for p in exc.problems]
            except NotADraft as exc:
                raise Http404 from exc
            else:
                messages.success(request, _("JSON で編集した内容を保存しました。"))
                return redirect(_editor_url(form))
        status = status if status != 200 else 400
    return render(
        request,
        "forms/builder/json.html",
        {
            **SECTION,
            "form": form,
            "token": _token(request, form),
            "editable": not form.is_published,
            "text": text,
            "error": error,
            "problems": problems,
        },
        status=status,
    )


# --- the preview --------------------------------------------------------------------


def _preview_raw(request: HttpRequest, form: FormDefinition) -> dict[str, Any]:
    store = request.session.get(builder_preview.SESSION_KEY, {})
    raw = store.get(str(form.pk), {}) if isinstance(store, dict) else {}
    return dict(raw) if isinstance(raw, dict) else {}


def _preview_save(request: HttpRequest, form: FormDefinition, raw: dict[str, Any] | None) -> None:
    store = request.session.get(builder_preview.SESSION_KEY, {})
    store = dict(store) if isinstance(store, dict) else {}
    if raw is None:
        store.pop(str(form.pk), None)
    else:
        store[str(form.pk)] = raw
    request.session[builder_preview.SESSION_KEY] = store


@staff_required
def preview(request: HttpRequest, code: str, version: int) -> HttpResponseBase:
    """The draft step by step as the resident sees it, answers checked by the engine."""
    form = _form(request, code, version)
    base = reverse("formbuilder:preview", args=[code, version])
    if request.method == "POST" and request.POST.get("_reset"):
        _preview_save(request, form, None)
        return redirect(base)
    definition = builder_preview.renderable(form.definition)
    raw = _preview_raw(request, form)
    step_key = request.POST.get("step") if request.method == "POST" else request.GET.get("step", "")
    context: dict[str, Any] = {**SECTION, "form": form, "title": builder_preview._t(definition, "title"), "base": base}
    try:
        answers = builder_preview.guarded(lambda: builder_preview.answers_from_raw(definition, raw))
        pages = builder_preview.pages(definition, answers)
        if step_key == "check" or not pages:
            declaration = next((s for s in definition["steps"] if builder_preview.is_declaration_step(s)), None)
            context |= {
                "check": True,
                "rows": builder_preview.guarded(lambda: builder_preview.summary_rows(definition, answers)),
                "declaration_fields": builder_preview.guarded(
                    lambda: builder_preview.step_fields(definition, declaration, raw, {}, answers)
                )
                if declaration
                else [],
                "back_url": f"{base}?step={pages[-1]}" if pages else "",
            }
            return render(request, "forms/builder/preview.html", context)
        step_key = step_key if step_key in pages else pages[0]
        step = next(s for s in definition["steps"] if s["key"] == step_key)
        errors: dict[str, str] = {}
        values = raw
        if request.method == "POST":
            posted = builder_preview.posted_raw(step, request.POST, request.FILES)
            _cleaned, errors = builder_preview.guarded(
                lambda: builder_preview.clean_step(definition, step_key, posted, answers)
            )
            kept = {**raw, **builder_preview.keepable(step, posted)}
            _preview_save(request, form, kept)
            if not errors:
                answers = builder_preview.guarded(lambda: builder_preview.answers_from_raw(definition, kept))
                following = builder_preview.step_after(definition, step_key, answers)
                return redirect(f"{base}?step={following or 'check'}")
            values = {**raw, **posted}
        previous = builder_preview.step_before(definition, step_key, answers)
        context |= {
            "check": False,
            "step": step,
            "step_title": builder_preview._t(step, "title"),
            "step_help": builder_preview._t(step, "help"),
            "fields": builder_preview.guarded(
                lambda: builder_preview.step_fields(definition, step, values, errors, answers)
            ),
            "errors": builder_preview.error_list(definition, errors),
            "step_number": pages.index(step_key) + 1,
            "step_total": len(pages),
            "back_url": f"{base}?step={previous}" if previous else "",
            "multipart": any(f["type"] == "file" for f in step["fields"]),
        }
        return render(request, "forms/builder/preview.html", context, status=400 if errors else 200)
    except builder_preview.PreviewUnavailable:
        context |= {"unavailable": True}
        return render(request, "forms/builder/preview.html", context)
