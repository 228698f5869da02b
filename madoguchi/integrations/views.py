"""Staff pages of the integration with core systems (基幹系)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.accounts.decorators import staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "integrations/home.html", {"staff_section": "integrations"})
