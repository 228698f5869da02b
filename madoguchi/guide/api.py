"""API of the life-event guide: answers in, personal checklist out."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from madoguchi.catalog.models import LifeEvent
from madoguchi.guide.engine import GuideError, build_checklist

router = Router(tags=["guide"])


class GuideIn(Schema):
    event: str
    answers: dict[str, str] = {}
    event_date: dt.date | None = None


class ProcedureRef(Schema):
    id: str
    name: str
    name_en: str


class ChecklistItemOut(Schema):
    step: int
    procedure: ProcedureRef
    department: str
    counter: str
    bring: list[str]
    fee_yen: int | None
    fee_note: str
    deadline: dt.date | None
    deadline_text: str
    channels: list[str]
    online: bool
    note: str


class ChecklistOut(Schema):
    event: str
    event_date: dt.date | None
    answers: dict[str, str]
    items: list[ChecklistItemOut]


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


def _error(detail: str, errors: list[ErrorItem]) -> Status[ChecklistOut | ErrorOut]:
    return Status(400, ErrorOut(detail=detail, errors=errors))


@router.post("/guide", response={200: ChecklistOut, 400: ErrorOut}, summary="Build a personal checklist")
def guide(request: HttpRequest, payload: GuideIn) -> Status[ChecklistOut | ErrorOut]:
    """Answers must cover every question that applies (see ``GET /life-events``)."""
    event = LifeEvent.objects.filter(code=payload.event).first()
    if event is None:
        return _error(
            f"ライフイベント「{payload.event}」はありません。",
            [ErrorItem(field="event", message="不明なライフイベントです。")],
        )
    try:
        checklist = build_checklist(event, payload.answers, payload.event_date)
    except GuideError as exc:
        return _error(
            "回答に誤りがあります。",
            [ErrorItem(field=f"answers.{k}", message=v) for k, v in exc.errors.items()],
        )
    out = ChecklistOut(
        event=event.code,
        event_date=checklist.event_date,
        answers=checklist.answers,
        items=[ChecklistItemOut(**item.as_dict()) for item in checklist.items],
    )
    return Status(200, out)
