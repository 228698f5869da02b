"""Staff pages of case handling (/staff/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.accounts.decorators import staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/home.html", {"staff_section": ""})


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/home.html", {"staff_section": "cases"})


@staff_required
def counter(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/home.html", {"staff_section": "counter"})
