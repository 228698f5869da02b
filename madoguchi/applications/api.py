"""API of online applications for the logged-in resident (session authentication).

``POST /applications`` checks ``data`` exactly as the web flow does (``engine.
clean_all``) and submits it; the same ``submission_key`` returns the earlier
application (200 instead of 201). Invalid answers give 422 with one error per field
path. A procedure with a fee cannot be submitted here yet (409): pay through the web
flow. ``GET /applications`` and ``/applications/{id}`` show only the resident's own
applications; another's is 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth

from madoguchi.applications.models import Application
from madoguchi.applications.selectors import application_get_for_applicant, application_list_for_applicant
from madoguchi.applications.services import (
    IdempotencyConflict,
    InvalidApplication,
    NoOnlineForm,
    PaymentRequired,
    application_answers,
    application_create_and_submit,
)
from madoguchi.core.models import User
from madoguchi.forms import engine

router = Router(tags=["applications"])


class ApplicationIn(Schema):
    procedure: str = Field(..., description="The procedure code, e.g. juminhyo-copy", max_length=64)
    data: dict[str, Any] = Field(..., description="Answers keyed by field key (see GET /forms/{procedure})")
    submission_key: str = Field(
        ..., min_length=8, max_length=64, description="A key made by the client; a retry with it makes no new one"
    )


class AnswerOut(Schema):
    path: str
    label: str
    value: str


class ApplicationOut(Schema):
    id: uuid.UUID
    procedure: str
    form_version: int
    status: str
    status_label: str
    reference_number: str | None
    fee_yen: int | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None


class ApplicationDetailOut(ApplicationOut):
    answers: list[AnswerOut]


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


def _out(application: Application) -> dict[str, Any]:
    return {
        "id": application.public_id,
        "procedure": application.procedure.code,
        "form_version": application.form_definition.version,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "reference_number": application.reference_number,
        "fee_yen": application.fee_yen,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
    }


def _detail(application: Application) -> ApplicationDetailOut:
    rows = engine.summary(application.form_definition.definition, application_answers(application))
    return ApplicationDetailOut(
        **_out(application), answers=[AnswerOut(path=r.path, label=r.label, value=r.value) for r in rows]
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by django_auth
    return user


@router.post(
    "/applications",
    response={200: ApplicationDetailOut, 201: ApplicationDetailOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="Submit an application",
)
def application_create(request: HttpRequest, payload: ApplicationIn) -> Status[Any]:
    """Check the answers as the web form does and submit them. Errors name the field
    path (``name.family``, ``persons.0.birth_date``)."""
    try:
        application, created = application_create_and_submit(
            applicant=_user(request),
            procedure_code=payload.procedure,
            data=payload.data,
            submission_key=payload.submission_key,
        )
    except NoOnlineForm:
        return Status(
            404, {"detail": f"手続き「{payload.procedure}」はオンライン申請のフォームがありません。", "errors": []}
        )
    except InvalidApplication as exc:
        return Status(
            422,
            {
                "detail": "入力内容に誤りがあります。",
                "errors": [{"field": path, "message": message} for path, message in exc.errors.items()],
            },
        )
    except PaymentRequired:
        return Status(
            409, {"detail": "手数料のかかる手続きは、オンライン窓口の画面から申請してください。", "errors": []}
        )
    except IdempotencyConflict:
        return Status(409, {"detail": "この submission_key は別の申請に使われています。", "errors": []})
    return Status(201 if created else 200, _detail(application))


@router.get("/applications", response=list[ApplicationOut], auth=django_auth, summary="My applications")
def application_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(a) for a in application_list_for_applicant(user=_user(request))]


@router.get(
    "/applications/{application_id}",
    response={200: ApplicationDetailOut, 404: ErrorOut},
    auth=django_auth,
    summary="One of my applications",
)
def application_detail(request: HttpRequest, application_id: uuid.UUID) -> ApplicationDetailOut:
    """Only the applicant can read an application; for anyone else it does not exist."""
    return _detail(application_get_for_applicant(user=request.user, public_id=application_id))
