"""Public pages of the same-day queue (整理券): the kiosk, the phone path, the ticket
page and the display board (呼出表示). None needs an account; all work without
JavaScript.

- ``kiosk``: the page on the ticket machine at a counter; POST issues a ticket and
  shows it with a QR code of its signed link (``kiosk_ticket``), then goes back.
- ``take``: where the QR code at the entrance (``qr``) leads; a phone takes a ticket
  there. The browser session remembers it, so pressing again shows the same ticket
  instead of taking a second one. A logged-in resident's ticket is tied to the
  account, which gets the 「まもなく順番です」 message by inbox and e-mail. A
  logged-in resident with an appointment today also sees it there with
  「到着しました」 (``views.checkin``).
- Tickets from ``kiosk`` and ``take`` are limited per client and hour
  (``throttle``; over the limit: the reason on the page, HTTP 429, no ticket); a
  kiosk paired by staff is not limited.
- ``ticket``: the ticket's own page, reached only through its signed link: status,
  position in the line, estimated wait, the 「まもなく」 notice, cancel. It refreshes
  itself with htmx polling (the server answers 204 when nothing changed); without
  JavaScript, reloading the page shows the same.
- ``display``: the board for a counter or a floor; htmx polling replaces the list
  and puts the newest call into an ``aria-live`` region (announced by screen
  readers); ``display.js`` reads it aloud with the Web Speech API once staff turn
  speech on. Without JavaScript it reloads itself every 20 seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.appointments import clock, documents, selectors, services, text, throttle
from madoguchi.appointments.models import (
    Appointment,
    AppointmentStatus,
    Counter,
    QueueTicket,
    TicketChannel,
    TicketStatus,
)
from madoguchi.appointments.tokens import BadTicketToken, ticket_token
from madoguchi.core.models import User

SESSION_KEY = "appointments.tickets"
SESSION_LIMIT = 10


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _resident(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, AnonymousUser) or not isinstance(user, User) or is_staff_account(user):
        return None
    return user


def _counter_context(counter: Counter) -> dict[str, Any]:
    state = selectors.queue_state(counter, now=clock.now())
    return {"counter": counter, "state": state}


def _error_status(exc: services.QueueError) -> int:
    return 429 if exc.code == "rate_limited" else 400


def _closed_message(state: selectors.QueueState) -> str:
    check = state.open_check
    if check is None or check.ok:
        return ""
    if check.reason == "closed_day":
        return _("本日は閉庁日のため、整理券は発行していません。")
    return _("受付時間外のため、整理券は発行していません。受付時間内にお越しください。")


# -- kiosk ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, code: str) -> HttpResponse:
    counter = selectors.counter_get_public(code)
    paired = throttle.is_paired_kiosk(request, counter)
    error, status = "", 200
    if request.method == "POST":
        try:
            ticket = services.ticket_issue(
                counter=counter,
                channel=TicketChannel.KIOSK,
                base_url=_base(request),
                client=None if paired else throttle.client_for(request),
            )
        except services.QueueError as exc:
            error, status = exc.message, _error_status(exc)
        else:
            return redirect("appointments:kiosk_ticket", counter.code, ticket_token(ticket.public_id))
    elif not paired:
        throttle.mark_session(request)
    context = _counter_context(counter)
    context["closed_message"] = _closed_message(context["state"])
    context["error"] = error
    context["rate_limited"] = status == 429
    context["paired"] = paired
    return render(request, "appointments/kiosk.html", context, status=status)


def kiosk_ticket(request: HttpRequest, code: str, token: str) -> HttpResponse:
    counter = selectors.counter_get_public(code)
    try:
        ticket = selectors.ticket_get_by_token(token)
    except BadTicketToken:
        return _invalid(request)
    url = request.build_absolute_uri(reverse("appointments:ticket", args=[token]))
    context = _ticket_context(ticket, token)
    context.update(
        {
            "counter": counter,
            "qr": documents.qr_svg(
                url, title=_("整理券 %(ticket)s の状況を見るページのQRコード") % {"ticket": ticket.label}
            ),
        }
    )
    return render(request, "appointments/kiosk_ticket.html", context)


# -- phone ----------------------------------------------------------------------------------
def _remembered(request: HttpRequest) -> list[str]:
    value = request.session.get(SESSION_KEY, [])
    return [str(v) for v in value] if isinstance(value, list) else []


@require_http_methods(["GET", "POST"])
def take(request: HttpRequest, code: str) -> HttpResponse:
    counter = selectors.counter_get_public(code)
    held = next((t for t in selectors.tickets_for_session(_remembered(request)) if t.counter_id == counter.pk), None)
    resident = _resident(request)
    error, status = "", 200
    if request.method == "POST":
        if held is not None:
            return redirect("appointments:ticket", ticket_token(held.public_id))
        try:
            ticket = services.ticket_issue(
                counter=counter,
                channel=TicketChannel.PHONE,
                user=resident,
                base_url=_base(request),
                client=throttle.client_for(request),
            )
        except services.QueueError as exc:
            error, status = exc.message, _error_status(exc)
        else:
            remember_ticket(request, ticket)
            return redirect("appointments:ticket", ticket_token(ticket.public_id))
    else:
        throttle.mark_session(request)
    context = _counter_context(counter)
    now = context["state"].now
    context.update(
        {
            "closed_message": _closed_message(context["state"]),
            "error": error,
            "held": held,
            "held_url": reverse("appointments:ticket", args=[ticket_token(held.public_id)]) if held else "",
            "logged_in": resident is not None,
            "arrivals": [
                checkin_entry(a, now=now)
                for a in (selectors.appointment_today_for_resident(resident, now=now) if resident else [])
            ],
        }
    )
    return render(request, "appointments/take.html", context, status=status)


@dataclass
class CheckInEntry:
    """An appointment of today as the entrance and appointment pages offer it:
    「到着しました」 while its check-in window is open, the time it opens before,
    or the ticket once checked in."""

    appointment: Appointment
    can_check_in: bool
    opens_label: str
    closed: bool
    ticket: QueueTicket | None
    ticket_url: str


def checkin_entry(appointment: Appointment, *, now: dt.datetime) -> CheckInEntry:
    ticket = selectors.appointment_ticket(appointment) if appointment.status == AppointmentStatus.ARRIVED else None
    window = services.checkin_window(appointment)
    booked = appointment.status == AppointmentStatus.BOOKED
    closed = window.closes is None or now >= window.closes
    return CheckInEntry(
        appointment=appointment,
        can_check_in=booked and window.opens <= now and not closed,
        opens_label=text.time_label(window.opens) if booked and now < window.opens else "",
        closed=booked and closed,
        ticket=ticket,
        ticket_url=reverse("appointments:ticket", args=[ticket_token(ticket.public_id)]) if ticket else "",
    )


def remember_ticket(request: HttpRequest, ticket: QueueTicket) -> None:
    """The browser session remembers its tickets (the phone page shows the held one)."""
    request.session[SESSION_KEY] = [str(ticket.public_id), *_remembered(request)][:SESSION_LIMIT]


# -- the ticket page ------------------------------------------------------------------------
def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "appointments/ticket_invalid.html", status=400)


def _ticket_context(ticket: QueueTicket, token: str) -> dict[str, Any]:
    now = clock.now()
    counter = ticket.counter
    state = selectors.queue_state(counter, now=now)
    entry = state.entry_for(ticket) if ticket.status == TicketStatus.WAITING else None
    today = ticket.service_date == clock.today(now)
    soon = entry is not None and entry.ahead <= services.soon_threshold()
    if ticket.status == TicketStatus.CALLED:
        where = " ".join(p for p in (counter.name, ticket.desk) if p)
        announcement = _("整理券 %(ticket)s の方、%(where)s へお越しください。") % {
            "ticket": ticket.label,
            "where": where,
        }
    elif entry is not None:
        announcement = _("あなたの前に%(ahead)s人。待ち時間の目安は約%(minutes)s分です。") % {
            "ahead": entry.ahead,
            "minutes": entry.wait_minutes,
        }
        if soon:
            announcement += _("まもなく順番です。")
    else:
        announcement = str(ticket.get_status_display())
    fingerprint = f"{ticket.status}|{ticket.counter_id}|{ticket.desk}|{ticket.last_called_at}|{announcement}"
    return {
        "ticket": ticket,
        "token": token,
        "counter": counter,
        "state": state,
        "entry": entry,
        "soon": soon,
        "today": today,
        "day_label": text.day_label(ticket.service_date),
        "announcement": announcement,
        "version": hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
        "ticket_url": reverse("appointments:ticket", args=[token]),
    }


def ticket(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = selectors.ticket_get_by_token(token)
    except BadTicketToken:
        return _invalid(request)
    context = _ticket_context(found, token)
    if request.headers.get("HX-Request"):
        if request.GET.get("v") == context["version"]:
            return HttpResponse(status=204)
        return render(request, "appointments/_ticket_status.html", {**context, "oob": True})
    return render(request, "appointments/ticket.html", context)


@require_POST
def ticket_cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = selectors.ticket_get_by_token(token)
    except BadTicketToken:
        return _invalid(request)
    from django.contrib import messages

    try:
        services.ticket_cancel(ticket=found)
    except services.IllegalTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("整理券を取り消しました。"))
    return redirect("appointments:ticket", token)


# -- display board --------------------------------------------------------------------------
def display(request: HttpRequest, slug: str) -> HttpResponse:
    board = selectors.display_board(slug, now=clock.now())
    if request.headers.get("HX-Request"):
        if request.GET.get("v") == board.version:
            return HttpResponse(status=204)
        announce = bool(board.latest_key) and board.latest_key != request.GET.get("k")
        return render(
            request, "appointments/_board.html", {"board": board, "slug": slug, "oob": True, "announce": announce}
        )
    return render(request, "appointments/display.html", {"board": board, "slug": slug})


def qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code (SVG) of a counter's take-a-ticket page, for the entrance poster."""
    counter = selectors.counter_get_public(code)
    url = request.build_absolute_uri(reverse("appointments:take", args=[counter.code]))
    svg = documents.qr_svg(
        url, title=_("%(counter)sの整理券を受け取るページ") % {"counter": counter.name}, inline=False
    )
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
