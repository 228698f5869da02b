"""API of the procedure catalog: search, detail and life events."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from madoguchi.catalog.models import LifeEvent, Procedure
from madoguchi.catalog.selectors import life_event_list, procedure_get, procedure_page

router = Router(tags=["catalog"])


class DepartmentOut(Schema):
    code: str
    name: str
    name_en: str
    location: str
    phone: str


class ProcedureSummaryOut(Schema):
    id: str
    name: str
    name_en: str
    department: str
    channels: list[str]
    online: bool
    fee_yen: int | None
    url: str


class ProcedureOut(Schema):
    id: str
    name: str
    name_en: str
    reading: str
    summary: str
    summary_en: str
    department: DepartmentOut
    counter: str
    life_events: list[str]
    eligibility: str
    bring: list[str]
    bring_en: list[str]
    fee_yen: int | None
    fee_note: str
    deadline_days: int | None
    deadline_counts_first_day: bool
    deadline_text: str
    channels: list[str]
    legal_basis: str
    processing_time: str
    catalog_version: str


class ProcedureQuery(Schema):
    q: str = ""
    life_event: str = ""
    limit: int = 50
    offset: int = 0


class ProcedureListOut(Schema):
    count: int
    results: list[ProcedureSummaryOut]


class ChoiceOut(Schema):
    value: str
    label: str
    label_en: str = ""


class QuestionOut(Schema):
    code: str
    text: str
    text_en: str = ""
    help: str = ""
    choices: list[ChoiceOut]
    show_if: dict[str, str | list[str]] = {}


class LifeEventOut(Schema):
    code: str
    name: str
    name_en: str
    group: str
    description: str
    date_label: str
    questions: list[QuestionOut]
    procedures: list[str]


def _summary(p: Procedure, request: HttpRequest) -> ProcedureSummaryOut:
    return ProcedureSummaryOut(
        id=p.code,
        name=p.name,
        name_en=p.name_en,
        department=p.department.name,
        channels=p.channels,
        online=p.is_online,
        fee_yen=p.fee_yen,
        url=request.build_absolute_uri(f"/procedures/{p.code}/"),
    )


@router.get("/procedures", response=ProcedureListOut, summary="Search and filter procedures")
def list_procedures(request: HttpRequest, query: Query[ProcedureQuery]) -> ProcedureListOut:
    """Japanese search (kanji, hiragana, katakana, half-width kana, typos) ranked by
    relevance, optionally limited to one life event."""
    if not 1 <= query.limit <= 200 or query.offset < 0:
        raise HttpError(422, "limit は1〜200、offset は0以上で指定してください。")
    try:
        count, page = procedure_page(
            q=query.q[:100], life_event=query.life_event, offset=query.offset, limit=query.limit
        )
    except LifeEvent.DoesNotExist as exc:
        raise HttpError(400, f"ライフイベント「{query.life_event}」はありません。") from exc
    return ProcedureListOut(count=count, results=[_summary(p, request) for p in page])


@router.get("/procedures/{procedure_id}", response=ProcedureOut, summary="One procedure")
def get_procedure(request: HttpRequest, procedure_id: str) -> ProcedureOut:
    p = procedure_get(code=procedure_id)
    return ProcedureOut(
        id=p.code,
        name=p.name,
        name_en=p.name_en,
        reading=p.reading,
        summary=p.summary,
        summary_en=p.summary_en,
        department=DepartmentOut(
            code=p.department.code,
            name=p.department.name,
            name_en=p.department.name_en,
            location=p.department.location,
            phone=p.department.phone,
        ),
        counter=p.counter,
        life_events=[e.code for e in p.life_events.all()],
        eligibility=p.eligibility,
        bring=p.bring,
        bring_en=p.bring_en,
        fee_yen=p.fee_yen,
        fee_note=p.fee_note,
        deadline_days=p.deadline_days,
        deadline_counts_first_day=p.deadline_counts_first_day,
        deadline_text=p.deadline_text,
        channels=p.channels,
        legal_basis=p.legal_basis,
        processing_time=p.processing_time,
        catalog_version=p.catalog_version,
    )


@router.get("/life-events", response=list[LifeEventOut], summary="Life events with their questions")
def list_life_events(request: HttpRequest) -> list[LifeEventOut]:
    events = life_event_list().prefetch_related("procedures")
    return [
        LifeEventOut(
            code=e.code,
            name=e.name,
            name_en=e.name_en,
            group=e.group,
            description=e.description,
            date_label=e.date_label,
            questions=e.questions,
            procedures=sorted(p.code for p in e.procedures.all()),
        )
        for e in events
    ]
