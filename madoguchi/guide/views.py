"""Resident pages of the life-event guide.

The state of a guide session (event date and answers) travels in the query string,
so every page works without JavaScript or cookies and the finished checklist has a
URL that can be bookmarked and shared: ``/guide/<event>/checklist/?date=…&a-<q>=…``.
``ask`` shows one page at a time: first the event date, then each question that
applies; each page submits to ``ask`` again, which validates the one answer and moves
on, or shows the page again with the error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.catalog.models import LifeEvent
from madoguchi.catalog.selectors import life_event_list
from madoguchi.core.japanese import parse_date
from madoguchi.core.models import User
from madoguchi.guide import documents
from madoguchi.guide.engine import Checklist, GuideError, build_checklist, clean_answers, next_question
from madoguchi.guide.selectors import checklist_get_for_owner, checklist_list_for_owner, life_event_get
from madoguchi.guide.services import checklist_delete, checklist_mark, checklist_save

ANSWER_PREFIX = "a-"


def _state(params: QueryDict) -> tuple[str | None, dict[str, str]]:
    date_text = params.get("date")
    answers = {k[len(ANSWER_PREFIX) :]: str(v) for k, v in params.items() if k.startswith(ANSWER_PREFIX)}
    return date_text, answers


def _query(date_text: str | None, answers: dict[str, str]) -> str:
    items: list[tuple[str, str]] = []
    if date_text is not None:
        items.append(("date", date_text))
    items += [(f"{ANSWER_PREFIX}{k}", v) for k, v in answers.items()]
    return urlencode(items)


def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "guide/event_list.html", {"events": life_event_list()})


def start(request: HttpRequest, event_code: str) -> HttpResponse:
    event = life_event_get(code=event_code)
    return render(request, "guide/start.html", {"event": event, "ask_url": reverse("guide:ask", args=[event.code])})


def ask(request: HttpRequest, event_code: str) -> HttpResponseBase:
    event = life_event_get(code=event_code)
    date_text, answers = _state(request.GET)
    page = request.GET.get("page", "")
    error = ""
    if page == "date":
        date_text = (date_text or "").strip()
        if date_text and parse_date(date_text) is None:
            error = _("日付を「2026-11-23」や「令和8年11月23日」の形で入力してください。")
    elif page:
        try:
            answers = clean_answers(event, answers, complete=False)
        except GuideError as exc:
            error = exc.errors.get(page, next(iter(exc.errors.values())))
            answers.pop(page, None)
        else:
            if page not in answers:
                error = _("選択してください。")
    if date_text is None or (page == "date" and error):
        return _render_date_page(request, event, date_text or "", answers, error)
    question = next_question(event, answers)
    if error and page and page != "date":
        question = next((q for q in event.questions if q["code"] == page), question)
    if question is None:
        return redirect(f"{reverse('guide:checklist', args=[event.code])}?{_query(date_text, answers)}")
    return _render_question_page(request, event, question, date_text, answers, error)


def _back_url(event: LifeEvent, date_text: str | None, answers: dict[str, str]) -> str:
    if answers:
        previous = dict(list(answers.items())[:-1])
        return f"{reverse('guide:ask', args=[event.code])}?{_query(date_text, previous)}"
    if date_text is not None:
        return reverse("guide:start", args=[event.code])
    return reverse("guide:event_list")


def _render_date_page(
    request: HttpRequest, event: LifeEvent, date_text: str, answers: dict[str, str], error: str
) -> HttpResponse:
    return render(
        request,
        "guide/ask_date.html",
        {
            "event": event,
            "date_text": date_text,
            "answers": answers,
            "error": error,
            "back_url": reverse("guide:start", args=[event.code]),
            "step_total": len(event.questions) + 1,
        },
        status=400 if error else 200,
    )


def _render_question_page(
    request: HttpRequest,
    event: LifeEvent,
    question: dict[str, Any],
    date_text: str | None,
    answers: dict[str, str],
    error: str,
) -> HttpResponse:
    hidden = {k: v for k, v in answers.items() if k != question["code"]}
    asked = list(hidden)
    return render(
        request,
        "guide/ask_question.html",
        {
            "event": event,
            "question": question,
            "date_text": date_text,
            "hidden_answers": {f"{ANSWER_PREFIX}{k}": v for k, v in hidden.items()},
            "field_name": f"{ANSWER_PREFIX}{question['code']}",
            "current": answers.get(question["code"], ""),
            "error": error,
            "back_url": _back_url(event, date_text, hidden),
            "step_number": len(asked) + 2,
            "step_total": len(event.questions) + 1,
        },
        status=400 if error else 200,
    )


def _with_checklist(
    view: Callable[[HttpRequest, Checklist], HttpResponseBase],
) -> Callable[[HttpRequest, str], HttpResponseBase]:
    """Build the checklist from the query string for ``view``; with incomplete or
    invalid answers, go back to the questions instead."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, event_code: str) -> HttpResponseBase:
        event = life_event_get(code=event_code)
        date_text, answers = _state(request.GET)
        event_date = parse_date(date_text) if date_text else None
        try:
            result = build_checklist(event, answers, event_date)
        except GuideError:
            return redirect(f"{reverse('guide:ask', args=[event.code])}?{request.GET.urlencode()}")
        return view(request, result)

    return wrapper


@_with_checklist
def checklist(request: HttpRequest, result: Checklist) -> HttpResponseBase:
    event = result.event
    response = render(
        request,
        "guide/checklist.html",
        {
            "checklist": result,
            "event": event,
            "query": request.GET.urlencode(),
            "share_url": request.build_absolute_uri(),
            "printing": False,
            "edit_url": f"{reverse('guide:ask', args=[event.code])}?{_query(request.GET.get('date'), {})}",
        },
    )
    if request.headers.get("HX-Request"):
        # Reached through the boosted wizard's redirect: show the checklist's own
        # (shareable) URL in the address bar, not the last question's.
        response["HX-Push-Url"] = request.get_full_path()
    return response


@_with_checklist
def checklist_print(request: HttpRequest, result: Checklist) -> HttpResponseBase:
    return render(request, "guide/checklist_print.html", {"checklist": result, "event": result.event, "printing": True})


@_with_checklist
def checklist_pdf(request: HttpRequest, result: Checklist) -> HttpResponseBase:
    response = HttpResponse(documents.checklist_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="checklist-{result.event.code}.pdf"'
    return response


@_with_checklist
def checklist_ics(request: HttpRequest, result: Checklist) -> HttpResponseBase:
    calendar = documents.checklist_ics(result, request.build_absolute_uri())
    response = HttpResponse(calendar, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checklist-{result.event.code}.ics"'
    return response


@login_required
@require_POST
def save(request: HttpRequest, event_code: str) -> HttpResponseBase:
    event = life_event_get(code=event_code)
    date_text, answers = _state(request.POST)
    event_date = parse_date(date_text) if date_text else None
    try:
        saved = checklist_save(owner=_user(request), event=event, answers=answers, event_date=event_date)
    except GuideError:
        return redirect(f"{reverse('guide:ask', args=[event.code])}?{_query(date_text, answers)}")
    return redirect("guide:saved_detail", pk=saved.pk)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


@login_required
def saved_list(request: HttpRequest) -> HttpResponse:
    return render(request, "guide/saved_list.html", {"checklists": checklist_list_for_owner(owner=_user(request))})


@login_required
def saved_detail(request: HttpRequest, pk: int) -> HttpResponse:
    saved = checklist_get_for_owner(owner=_user(request), pk=pk)
    result = _saved_checklist(saved)
    return render(request, "guide/saved_detail.html", {"saved": saved, "checklist": result, "event": saved.event})


def _saved_checklist(saved: Any) -> Checklist:
    try:
        result = build_checklist(saved.event, saved.answers, saved.event_date)
    except GuideError:
        # The event's questions changed since saving: keep what still applies.
        result = build_checklist(saved.event, clean_answers(saved.event, saved.answers, complete=False), None)
    for item in result.items:
        item.done = item.procedure.code in saved.done
    return result


@login_required
@require_POST
def saved_mark(request: HttpRequest, pk: int) -> HttpResponseBase:
    saved = checklist_get_for_owner(owner=_user(request), pk=pk)
    code = request.POST.get("procedure", "")
    saved = checklist_mark(checklist=saved, procedure_code=code, done=request.POST.get("done") == "1")
    if request.headers.get("HX-Request"):
        result = _saved_checklist(saved)
        item = next((i for i in result.items if i.procedure.code == code), None)
        if item is not None:
            return render(request, "guide/_saved_item.html", {"item": item, "saved": saved})
    return redirect(f"{reverse('guide:saved_detail', args=[saved.pk])}#item-{code}")


@login_required
@require_POST
def saved_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    saved = checklist_get_for_owner(owner=_user(request), pk=pk)
    checklist_delete(checklist=saved)
    return redirect("guide:saved_list")
