"""Staff pages of the no-code form builder (/staff/forms/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.accounts.decorators import staff_required


@staff_required
def form_list(request: HttpRequest) -> HttpResponse:
    return render(request, "forms/builder/list.html", {"staff_section": "forms"})
