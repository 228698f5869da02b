"""Resident pages of the catalog: home, search and procedure detail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.catalog.hooks import procedure_actions
from madoguchi.catalog.models import LifeEvent
from madoguchi.catalog.selectors import life_event_list, procedure_get, procedure_page

MAX_QUERY = 100
PAGE_SIZE = 200


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/home.html", {"events": life_event_list()})


def procedure_list_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:MAX_QUERY]
    event_code = request.GET.get("life_event", "")
    event = LifeEvent.objects.filter(code=event_code).first() if event_code else None
    count, procedures = procedure_page(q=q, life_event=event.code if event else "", limit=PAGE_SIZE)
    context = {"q": q, "event": event, "events": life_event_list(), "procedures": procedures, "count": count}
    template = "catalog/_results.html" if request.headers.get("HX-Request") else "catalog/procedure_list.html"
    return render(request, template, context)


def procedure_detail(request: HttpRequest, code: str) -> HttpResponse:
    procedure = procedure_get(code=code)
    return render(
        request,
        "catalog/procedure_detail.html",
        {
            "procedure": procedure,
            "events": procedure.life_events.all(),
            "actions": procedure_actions(procedure),
        },
    )
