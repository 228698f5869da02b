"""Public, read-only API of facilities, their availability, events and lottery rounds
(with the data to verify a draw). Booking and applying happen on the web pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema

from madoguchi.reservations import selectors
from madoguchi.reservations.models import Facility

router = Router(tags=["reservations"])


class RoomOut(Schema):
    code: str
    name: str
    capacity: int
    fee_yen: int


class BlockOut(Schema):
    code: str
    name: str
    start: str
    end: str


class FacilityOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    address: str
    latitude: str | None
    longitude: str | None
    eligibility: str
    accessibility: list[str]
    rooms: list[RoomOut]
    blocks: list[BlockOut]
    url: str


class CellOut(Schema):
    room: str
    block: str
    state: str


class AvailabilityOut(Schema):
    facility: str
    date: dt.date
    closed_reason: str
    cells: list[CellOut]


class AvailabilityQuery(Schema):
    date: dt.date


class EventOut(Schema):
    id: int
    title: str
    title_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place_name: str
    capacity: int
    registered: int
    fee_yen: int
    application_closes_at: dt.datetime
    url: str


def _facility_out(request: HttpRequest, facility: Facility) -> FacilityOut:
    return FacilityOut(
        code=facility.code,
        name=facility.name,
        name_en=facility.name_en,
        kind=facility.kind,
        address=facility.full_address,
        latitude=None if facility.latitude is None else str(facility.latitude),
        longitude=None if facility.longitude is None else str(facility.longitude),
        eligibility=facility.eligibility,
        accessibility=facility.accessibility_items,
        rooms=[RoomOut(code=r.code, name=r.name, capacity=r.capacity, fee_yen=r.fee_yen) for r in facility.rooms.all()],
        blocks=[
            BlockOut(code=b.code, name=b.name, start=b.start_time.strftime("%H:%M"), end=b.end_time.strftime("%H:%M"))
            for b in facility.time_blocks.all()
        ],
        url=request.build_absolute_uri(reverse("reservations:facility_detail", args=[facility.code])),
    )


@router.get("/reservations/facilities", response=list[FacilityOut], summary="施設の一覧")
def facility_list(request: HttpRequest) -> list[FacilityOut]:
    return [_facility_out(request, f) for f in selectors.facility_list_public()]


@router.get(
    "/reservations/facilities/{code}/availability",
    response=AvailabilityOut,
    summary="施設の1日の空き状況",
)
def facility_availability(request: HttpRequest, code: str, query: Query[AvailabilityQuery]) -> AvailabilityOut:
    facility = selectors.facility_get_public(code)
    day = selectors.availability(facility, query.date)
    return AvailabilityOut(
        facility=facility.code,
        date=day.date,
        closed_reason=day.closed_reason,
        cells=[
            CellOut(room=c.room.code, block=c.block.code, state=c.state) for _block, cells in day.rows for c in cells
        ],
    )


@router.get("/reservations/events", response=list[EventOut], summary="イベントの一覧")
def event_list(request: HttpRequest) -> list[EventOut]:
    return [
        EventOut(
            id=e.pk,
            title=e.title,
            title_en=e.title_en,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            place_name=e.place_name,
            capacity=e.capacity,
            registered=int(getattr(e, "registered", 0)),
            fee_yen=e.fee_yen,
            application_closes_at=e.application_closes_at,
            url=request.build_absolute_uri(reverse("reservations:event_detail", args=[e.pk])),
        )
        for e in selectors.event_list_public()
    ]


@router.get(
    "/reservations/lotteries/{round_id}",
    response=dict[str, Any],
    summary="抽選の公開データ（シードのハッシュ、抽選後はシード・入力・結果）",
)
def lottery_public(request: HttpRequest, round_id: int) -> dict[str, Any]:
    return selectors.lottery_public_data(selectors.lottery_round_get_public(round_id))
