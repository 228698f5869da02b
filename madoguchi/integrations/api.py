"""The case API for core systems (基幹系): received applications, read with an API key.

Authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, a key made by
a 課長 on the staff page 連携 → APIキー. A missing, wrong or revoked key is 401. A key
reads only applications whose procedure belongs to one of its departments; any other
reference number is 404, exactly like one that does not exist.

``GET /cases`` lists received applications, oldest change first (``since`` = changed at
or after; a poller passes the ``updated_at`` of the last case it saw, and dedupes by
``reference_number``). ``GET /cases/{reference_number}`` gives one. Both return the
applicant as answered in the form and every answer; マイナンバー is masked
(``********1234``) unless the key may view it. Every read that returns a resident's
data is recorded in the audit log with the key's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer

from madoguchi.applications.machine import RECEIVED
from madoguchi.applications.models import Application
from madoguchi.core.crypto import DecryptionError
from madoguchi.forms import engine
from madoguchi.forms.fields import MyNumber, registry
from madoguchi.forms.logic import iter_fields
from madoguchi.integrations.models import ApiKey
from madoguchi.integrations.selectors import api_key_authenticate, case_get_for_api_key, case_list_for_api_key
from madoguchi.integrations.services import api_key_touch, api_read_record

MAX_LIMIT = 100


def _authenticate(key: str | None) -> ApiKey | None:
    if not key:
        return None
    api_key = api_key_authenticate(key)
    if api_key is not None:
        api_key_touch(key=api_key)
    return api_key


class BearerKey(HttpBearer):
    """``Authorization: Bearer mdg_…``"""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return _authenticate(token)


class HeaderKey(APIKeyHeader):
    """``X-API-Key: mdg_…``"""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return _authenticate(key)


router = Router(tags=["cases (core systems)"], auth=[BearerKey(), HeaderKey()])


class PersonNameOut(Schema):
    family: str
    given: str


class ApplicantOut(Schema):
    name: PersonNameOut | None = Field(None, description="氏名 as answered")
    name_kana: PersonNameOut | None = Field(None, description="フリガナ as answered")
    birth_date: dt.date | None = None
    postal_code: str | None = Field(None, description="7 digits")
    address: str | None = Field(None, description="住所 as answered")


class AnswerRowOut(Schema):
    path: str
    label: str
    value: str


class CaseOut(Schema):
    reference_number: str
    procedure: str = Field(..., description="procedure code")
    procedure_name: str
    department: str = Field(..., description="department code")
    status: str
    status_label: str
    channel: str = Field(..., description="online or counter")
    submitted_at: dt.datetime | None
    updated_at: dt.datetime
    form_version: int
    applicant: ApplicantOut
    answers: dict[str, Any] = Field(
        ..., description="answers by field key as stored (マイナンバー as text, masked unless the key may view it)"
    )
    answer_rows: list[AnswerRowOut] = Field(..., description="label and shown value of every answer, in form order")


class CaseListOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseOut]


class ErrorOut(Schema):
    detail: str


def _key(request: HttpRequest) -> ApiKey:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):  # guaranteed by the router's auth
        raise HttpError(401, "Unauthorized")
    return key


def _mynumber(value: MyNumber, reveal: bool) -> str:
    if not reveal:
        return value.masked
    try:
        return value.reveal()
    except DecryptionError:
        return value.masked


def _json_value(field: Mapping[str, Any], value: Any, reveal: bool) -> Any:
    if value is None:
        return None
    if field["type"] == "group":
        return [
            {sub["key"]: _json_value(sub, item.get(sub["key"]), reveal) for sub in field["fields"]} for item in value
        ]
    if isinstance(value, MyNumber):
        return _mynumber(value, reveal)
    return registry.get(field["type"]).dump(value)


def _first(definition: Mapping[str, Any], stored: Mapping[str, Any], *, kind: str = "", key: str = "") -> Any:
    for _step, field in iter_fields(definition):
        if (kind and field["type"] == kind) or (key and field["key"] == key):
            if stored.get(field["key"]) is not None:
                return stored[field["key"]]
    return None


def _applicant(definition: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    postal = _first(definition, stored, kind="postal_code")
    birth = _first(definition, stored, key="birth_date")
    return {
        "name": _first(definition, stored, kind="name"),
        "name_kana": _first(definition, stored, kind="kana"),
        "birth_date": birth if isinstance(birth, str) else None,
        "postal_code": postal.get("code") if isinstance(postal, Mapping) else None,
        "address": _first(definition, stored, kind="address"),
    }


def _case(application: Application, *, reveal: bool) -> dict[str, Any]:
    definition = application.form_definition.definition
    loaded = engine.from_stored(definition, application.data)
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    try:
        rows = engine.summary(definition, loaded, "ja", reveal_sensitive=reveal)
    except DecryptionError:
        rows = engine.summary(definition, loaded, "ja", reveal_sensitive=False)
    return {
        "reference_number": application.reference_number,
        "procedure": application.procedure.code,
        "procedure_name": application.procedure.name,
        "department": application.procedure.department.code,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "channel": application.channel,
        "submitted_at": application.submitted_at,
        "updated_at": application.updated_at,
        "form_version": application.form_definition.version,
        "applicant": _applicant(definition, application.data),
        "answers": {key: _json_value(fields[key], value, reveal) for key, value in loaded.items()},
        "answer_rows": [{"path": r.path, "label": r.label, "value": r.value} for r in rows],
    }


class CaseFilters(Schema):
    status: str | None = Field(None, description="one of: " + ", ".join(sorted(s.value for s in RECEIVED)))
    procedure: str | None = Field(None, description="procedure code", max_length=64)
    since: dt.datetime | None = Field(None, description="changed at or after (ISO 8601; no offset = Asia/Tokyo)")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


@router.get("/cases", response={200: CaseListOut, 401: ErrorOut}, summary="Received applications (core systems)")
def case_list(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """Received applications of the key's departments, oldest change first."""
    key = _key(request)
    if filters.status and filters.status not in {s.value for s in RECEIVED}:
        raise ValidationError([{"loc": ("query", "status"), "msg": "受付後の状態を指定してください。"}])
    since = filters.since
    if since is not None and timezone.is_naive(since):
        since = timezone.make_aware(since)
    queryset = case_list_for_api_key(key, status=filters.status, procedure=filters.procedure, since=since)
    count = queryset.count()
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    api_read_record(key=key, applications=page, endpoint="cases.list", mynumber_shown=key.can_view_mynumber)
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_case(a, reveal=key.can_view_mynumber) for a in page],
    }


@router.get(
    "/cases/{reference_number}",
    response={200: CaseOut, 401: ErrorOut, 404: ErrorOut},
    summary="One received application (core systems)",
)
def case_detail(request: HttpRequest, reference_number: str) -> dict[str, Any]:
    """One received application by its 受付番号; 404 outside the key's departments."""
    key = _key(request)
    try:
        application = case_get_for_api_key(key, reference_number)
    except Application.DoesNotExist:
        raise HttpError(404, "この受付番号の申請は見つかりません。") from None
    api_read_record(key=key, applications=[application], endpoint="cases.detail", mynumber_shown=key.can_view_mynumber)
    return _case(application, reveal=key.can_view_mynumber)
