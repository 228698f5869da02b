"""Resident pages of counter appointments (no JavaScript needed).

``index`` lists the resident's appointments and the procedures that can be booked.
``book`` shows a procedure's checklist link and what to bring, the days with free
seats (links) and, for the chosen day, the free times (radio buttons); POST books
(``services.appointment_book``) and goes to the appointment's page, or shows the page
again with an error summary and the error at the field (status 400). ``change`` is
the same page for moving an appointment; ``cancel`` asks for confirmation first;
``ics`` downloads the appointment for a calendar. On the day, ``checkin``
(「到着しました」, on the appointment's page and on the entrance QR code's page) marks
the appointment arrived and gives the resident their queue ticket. Only logged-in residents can use
these pages (staff get 403), and each appointment is found through
``selectors.appointment_get_for_resident``, so another resident's is 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.appointments import clock, documents, selectors, services, text
from madoguchi.appointments.models import Appointment, AppointmentStatus
from madoguchi.appointments.queue_views import checkin_entry, remember_ticket
from madoguchi.appointments.tokens import ticket_token
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User


def resident_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged in (else to the login page) as a resident (staff get 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_staff_account(request.user):
            raise PermissionDenied("residents only")
        return view(request, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by resident_required
    return user


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@resident_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = clock.now()
    appointments = list(selectors.appointment_list_for_resident(user)[:50])
    upcoming = [a for a in appointments if a.status == AppointmentStatus.BOOKED and a.slot.ends_at > now]
    past = [a for a in appointments if a not in upcoming]
    return render(
        request,
        "appointments/index.html",
        {
            "upcoming": sorted(upcoming, key=lambda a: a.slot.starts_at),
            "past": past,
            "procedures": selectors.procedures_bookable(),
            "limit": services.max_future_bookings(),
        },
    )


def _parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _slot_choices(procedure: Procedure, *, now: dt.datetime, selected: dt.date | None) -> dict[str, Any]:
    """The days with free seats and, for the chosen day, its free times."""
    start, end = selectors.booking_window(now)
    slots = selectors.available_slots(procedure, now=now, start=start, end=end)
    days = selectors.available_days(slots)
    if days and (selected is None or selected not in {d.date for d in days}):
        selected = days[0].date
    chosen = [s for s in slots if selected is not None and clock.local(s.starts_at).date() == selected]
    counters = {s.counter_id for s in slots}
    return {
        "days": days,
        "selected_day": selected,
        "selected_day_label": text.day_label(selected) if selected else "",
        "slots": chosen,
        "several_counters": len(counters) > 1,
    }


def _procedure_context(procedure: Procedure) -> dict[str, Any]:
    english = translation.get_language() == "en"
    bring = procedure.bring_en if english and procedure.bring_en else procedure.bring
    return {
        "procedure": procedure,
        "bring": bring,
        "events": list(procedure.life_events.all()[:3]),
    }


def _slot_page(
    request: HttpRequest,
    *,
    procedure: Procedure,
    appointment: Appointment | None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = clock.now()
    selected = _parse_day(request.GET.get("date", "") or request.POST.get("date", ""))
    choices = _slot_choices(procedure, now=now, selected=selected)
    target = f"slot-{choices['slots'][0].pk}" if choices["slots"] else "slot-field"
    context = {
        **_procedure_context(procedure),
        **choices,
        "appointment": appointment,
        "error": error,
        "errors": [{"target": target, "message": error}] if error else [],
        "limit": services.max_future_bookings(),
        "action": (
            reverse("appointments:change", args=[appointment.public_id])
            if appointment is not None
            else reverse("appointments:book", args=[procedure.code])
        ),
    }
    return render(request, "appointments/book.html", context, status=status)


@resident_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, code: str) -> HttpResponse:
    procedure = selectors.procedure_get_bookable(code)
    if request.method == "POST":
        if not request.POST.get("slot"):
            return _slot_page(
                request, procedure=procedure, appointment=None, error=_("予約する時間を選んでください。"), status=400
            )
        try:
            appointment = services.appointment_book(
                resident=_user(request), slot_id=request.POST.get("slot"), base_url=base_url(request)
            )
        except services.BookingRefused as exc:
            return _slot_page(request, procedure=procedure, appointment=None, error=exc.message, status=400)
        messages.success(request, _("予約しました。確認のメールとお知らせを送ります。"))
        return redirect("appointments:detail", appointment.public_id)
    return _slot_page(request, procedure=procedure, appointment=None)


@resident_required
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = selectors.appointment_get_for_resident(_user(request), public_id)
    now = clock.now()
    editable = appointment.status == AppointmentStatus.BOOKED and appointment.slot.starts_at > now
    on_the_day = clock.local(appointment.slot.starts_at).date() == clock.today(now)
    return render(
        request,
        "appointments/detail.html",
        {
            **_procedure_context(appointment.slot.procedure),
            "appointment": appointment,
            "slot": appointment.slot,
            "when": text.when_label(appointment.slot.starts_at, appointment.slot.ends_at),
            "editable": editable,
            "arrival": checkin_entry(appointment, now=now) if on_the_day else None,
            "checkin_minutes": services.checkin_early_minutes(),
        },
    )


@resident_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, public_id: str) -> HttpResponse:
    """「到着しました」: the resident checks in for today's appointment and gets the
    queue ticket (POST → redirect to the ticket's page). A refusal goes back to the
    page the button was on, with the reason. GET (e.g. after logging in) shows the
    appointment's page."""
    appointment = selectors.appointment_get_for_resident(_user(request), public_id)
    if request.method == "GET":
        return redirect("appointments:detail", appointment.public_id)
    back = _checkin_back(request, appointment)
    try:
        ticket = services.appointment_check_in(appointment=appointment, resident=_user(request))
    except services.CheckInRefused as exc:
        if exc.code == "already" and exc.ticket is not None:
            messages.info(request, exc.message)
            return redirect("appointments:ticket", ticket_token(exc.ticket.public_id))
        messages.error(request, exc.message)
        return redirect(back)
    remember_ticket(request, ticket)
    messages.success(
        request,
        _("到着を受け付けました。整理券は %(ticket)s です。番号が呼ばれたら窓口へお越しください。")
        % {"ticket": ticket.label},
    )
    return redirect("appointments:ticket", ticket_token(ticket.public_id))


def _checkin_back(request: HttpRequest, appointment: Appointment) -> str:
    """Back to the entrance page the button was on (a known counter), else the
    appointment's page."""
    code = request.POST.get("from_counter", "")
    if code and selectors.counters_active().filter(code=code).exists():
        return reverse("appointments:take", args=[code])
    return reverse("appointments:detail", args=[appointment.public_id])


@resident_required
@require_http_methods(["GET", "POST"])
def change(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _user(request)
    appointment = selectors.appointment_get_for_resident(user, public_id)
    procedure = appointment.slot.procedure
    if appointment.status != AppointmentStatus.BOOKED or appointment.slot.starts_at <= clock.now():
        messages.error(request, _("この予約は変更できません。"))
        return redirect("appointments:detail", appointment.public_id)
    if request.method == "POST":
        if not request.POST.get("slot"):
            return _slot_page(
                request,
                procedure=procedure,
                appointment=appointment,
                error=_("変更後の時間を選んでください。"),
                status=400,
            )
        try:
            services.appointment_change(appointment=appointment, resident=user, slot_id=request.POST.get("slot"))
        except services.BookingRefused as exc:
            return _slot_page(request, procedure=procedure, appointment=appointment, error=exc.message, status=400)
        messages.success(request, _("予約の日時を変更しました。"))
        return redirect("appointments:detail", appointment.public_id)
    return _slot_page(request, procedure=procedure, appointment=appointment)


@resident_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _user(request)
    appointment = selectors.appointment_get_for_resident(user, public_id)
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment, resident=user)
        except services.BookingRefused as exc:
            messages.error(request, exc.message)
            return redirect("appointments:detail", appointment.public_id)
        messages.success(request, _("予約を取り消しました。"))
        return redirect("appointments:detail", appointment.public_id)
    if appointment.status != AppointmentStatus.BOOKED:
        messages.error(request, _("この予約は取り消せません。"))
        return redirect("appointments:detail", appointment.public_id)
    return render(
        request,
        "appointments/cancel.html",
        {
            "appointment": appointment,
            "when": text.when_label(appointment.slot.starts_at, appointment.slot.ends_at),
        },
    )


@resident_required
def ics(request: HttpRequest, public_id: str) -> HttpResponse:
    appointment = selectors.appointment_get_for_resident(_user(request), public_id)
    url = request.build_absolute_uri(reverse("appointments:detail", args=[appointment.public_id]))
    language = "en" if translation.get_language() == "en" else "ja"
    body = documents.appointment_ics(appointment, url=url, language=language)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
