"""Staff pages of the e-approval (電子決裁)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.accounts.decorators import staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "approvals/home.html", {"staff_section": "approvals"})
