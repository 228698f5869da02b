"""API of online forms: the current form of a procedure, postal-code lookup."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from madoguchi.catalog.models import Procedure
from madoguchi.forms.fields import normalize_postal_code, postal_lookup
from madoguchi.forms.selectors import form_get_current

router = Router(tags=["forms"])


class StepOut(Schema):
    key: str
    title: str
    title_en: str = ""
    help: str = ""
    help_en: str = ""
    hidden: bool = False
    fields: list[dict[str, Any]]


class FormOut(Schema):
    id: int
    procedure: str
    version: int
    title: str
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    published_at: str | None
    steps: list[StepOut]
    logic: list[dict[str, Any]]


class PostalAddressOut(Schema):
    code: str
    prefecture: str
    city: str
    town: str


@router.get("/forms/{procedure_id}", response=FormOut, summary="The current online form of a procedure")
def get_form(request: HttpRequest, procedure_id: str) -> FormOut:
    """The latest published version: steps (one page each) with their fields, and the
    show/hide/require rules the server applies."""
    form = form_get_current(procedure_id)
    if form is None:
        if not Procedure.objects.filter(code=procedure_id, active=True).exists():
            raise HttpError(404, f"手続き「{procedure_id}」はありません。")
        raise HttpError(404, f"手続き「{procedure_id}」はオンライン申請のフォームがありません。")
    d = form.definition
    return FormOut(
        id=form.pk,
        procedure=form.procedure.code,
        version=form.version,
        title=d["title"],
        title_en=d.get("title_en", ""),
        description=d.get("description", ""),
        description_en=d.get("description_en", ""),
        published_at=form.published_at.isoformat() if form.published_at else None,
        steps=[StepOut(**s) for s in d["steps"]],
        logic=d.get("logic", []),
    )


@router.get("/postal-codes/{code}", response=PostalAddressOut, summary="Address of a postal code")
def get_postal_code(request: HttpRequest, code: str) -> PostalAddressOut:
    """Prefecture, city and town of a 7-digit postal code (offline Japan Post data)."""
    if normalize_postal_code(code) is None:
        raise HttpError(422, "郵便番号は7桁の数字で指定してください。")
    found = postal_lookup(code)
    if found is None:
        raise HttpError(404, f"郵便番号「{code}」は見つかりません。")
    return PostalAddressOut(**found.as_dict())
