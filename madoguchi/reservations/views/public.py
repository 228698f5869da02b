"""Pages anyone can see without logging in: facilities and their availability,
lottery rounds with their published seed hash / seed / verification data, events,
and the open data CSV files."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.core.japanese import parse_date
from madoguchi.reservations import draw, opendata, selectors
from madoguchi.reservations.services.bookings import bookings_lapse_due


def index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rounds = [r for r in selectors.lottery_rounds_public() if r.phase(now) != r.Phase.FIRST_COME][:10]
    events = selectors.event_list_public().filter(starts_at__gte=now)[:10]
    return render(
        request,
        "reservations/index.html",
        {"facilities": selectors.facility_list_public(), "rounds": rounds, "events": events},
    )


def _date_param(request: HttpRequest) -> tuple[dt.date, str]:
    today = timezone.localdate()
    text = request.GET.get("date", "").strip()
    if not text:
        return today, ""
    parsed = parse_date(text)
    if parsed is None:
        return today, _("日付を 2030-06-05 のように入力してください。")
    return parsed, ""


def facility_detail(request: HttpRequest, code: str) -> HttpResponse:
    facility = selectors.facility_get_public(code)
    bookings_lapse_due()
    date, date_error = _date_param(request)
    day = selectors.availability(facility, date)
    return render(
        request,
        "reservations/facility_detail.html",
        {
            "facility": facility,
            "day": day,
            "date": date,
            "date_error": date_error,
            "previous_day": date - dt.timedelta(days=1),
            "next_day": date + dt.timedelta(days=1),
            "rooms": list(facility.rooms.filter(is_active=True)),
            "blocks": list(facility.time_blocks.all()),
            "closures": facility.closures.filter(end_date__gte=timezone.localdate())[:10],
        },
    )


def lottery_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reservations/lottery_list.html", {"rounds": selectors.lottery_rounds_public()[:50]})


def lottery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = selectors.lottery_round_get_public(pk)
    return render(
        request,
        "reservations/lottery_detail.html",
        {
            "lottery": lottery,
            "phase": lottery.phase(),
            "Phase": lottery.Phase,
            "algorithm_doc": draw.__doc__,
            "slot_count": lottery.slots.count(),
        },
    )


def lottery_data(request: HttpRequest, pk: int) -> HttpResponse:
    lottery = selectors.lottery_round_get_public(pk)
    data = selectors.lottery_public_data(lottery)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="lottery-{lottery.pk}.json"'
    return response


def event_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "reservations/event_list.html",
        {"events": selectors.event_list_public().filter(ends_at__gte=now)},
    )


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_get_public(pk)
    registration = None
    if request.user.is_authenticated:
        registration = event.registrations.filter(
            user_id=request.user.pk, status__in=["registered", "waitlisted"]
        ).first()
    now = timezone.now()
    return render(
        request,
        "reservations/event_detail.html",
        {
            "event": event,
            "registration": registration,
            "seats_left": max(event.capacity - int(getattr(event, "registered", 0)), 0),
            "open": now < event.application_closes_at and now < event.starts_at,
        },
    )


def opendata_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reservations/opendata.html",
        {"facility_columns": opendata.FACILITY_COLUMNS, "event_columns": opendata.EVENT_COLUMNS},
    )


def _csv(filename: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def opendata_facilities(request: HttpRequest) -> HttpResponse:
    legacy = request.GET.get("layout") == "legacy"
    return _csv("public_facilities.csv", opendata.facilities_csv(request=request, legacy=legacy))


def opendata_events(request: HttpRequest) -> HttpResponse:
    legacy = request.GET.get("layout") == "legacy"
    return _csv("events.csv", opendata.events_csv(request=request, legacy=legacy))
