"""Staff pages of counter appointments and the queue (/appointments/staff/).

Staff reach only the counters of their departments (``selectors.
counter_get_for_staff``: another department's counter is 404); residents get 403
(``staff_required``). Every action is a plain POST that redirects back (POST →
redirect → GET), with the outcome as a message.

- ``home``: the staff member's counters, with links to each page below.
- ``day``: the day's appointments of a counter; mark 来庁 (arrived: the resident
  joins the queue with an appointment ticket), 来庁なし (no-show) or 対応済み.
- ``queue``: the console: call the next ticket (by the fair rule in ``queue``),
  recall, served, no-show, transfer to another counter; the waiting line in the
  order it will be called, with each ticket's estimated wait.
- ``poster``: a printable poster with the QR code of the phone ticket page.
- ``kiosk_setup``: pair this browser as the counter's kiosk (no limit on tickets,
  see ``throttle``), unpair it, or void every pairing of the counter.

The day list shows residents' names, so each view of it is audit-logged
(``services.day_list_viewed``: counter, date, number of rows, appointment ids). The
queue console and the other pages show ticket numbers only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.appointments import clock, documents, selectors, services, text, throttle
from madoguchi.appointments.models import AppointmentStatus, Counter, TicketStatus
from madoguchi.core.models import User

DESK_SESSION_KEY = "appointments.desk"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by staff_required
    return user


def _ctx(counter: Counter | None = None, **extra: Any) -> dict[str, Any]:
    return {"staff_section": "appointments", "counter": counter, **extra}


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    counters = list(selectors.counter_list_for_staff(_user(request)))
    now = clock.now()
    rows = [(c, selectors.queue_state(c, now=now)) for c in counters]
    floors = sorted({c.floor for c in counters if c.floor})
    return render(
        request, "appointments/staff/home.html", _ctx(rows=rows, floors=floors, today=text.day_label(clock.today(now)))
    )


@staff_required
def day(request: HttpRequest, code: str) -> HttpResponse:
    counter = selectors.counter_get_for_staff(_user(request), code)
    today = clock.today()
    chosen, date_error = today, ""
    if request.GET.get("date"):
        try:
            chosen = dt.date.fromisoformat(request.GET["date"])
        except ValueError:
            date_error = _("日付は 2026-04-01 のように入力してください。")
        else:
            if not 2000 <= chosen.year <= 2100:
                chosen, date_error = today, _("日付は 2000年から2100年までの間で入力してください。")
    appointments = selectors.day_appointments(counter, chosen)
    services.day_list_viewed(actor=_user(request), counter=counter, day=chosen, appointments=appointments)
    return render(
        request,
        "appointments/staff/day.html",
        _ctx(
            counter,
            appointments=appointments,
            day=chosen,
            day_label=text.day_label(chosen),
            is_today=chosen == today,
            previous_day=chosen - dt.timedelta(days=1),
            next_day=chosen + dt.timedelta(days=1),
            date_error=date_error,
            booked=AppointmentStatus.BOOKED,
            arrived=AppointmentStatus.ARRIVED,
        ),
        status=400 if date_error else 200,
    )


@staff_required
@require_POST
def mark(request: HttpRequest, code: str, public_id: str) -> HttpResponse:
    user = _user(request)
    counter = selectors.counter_get_for_staff(user, code)
    appointment = selectors.appointment_get_for_staff(user, counter, public_id)
    status = request.POST.get("status", "")
    if status not in (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.DONE):
        messages.error(request, _("操作を選んでください。"))
    else:
        try:
            services.appointment_mark(appointment=appointment, actor=user, status=status)
        except services.IllegalTransition as exc:
            messages.error(request, exc.message)
        else:
            labels: dict[str, str] = {
                AppointmentStatus.ARRIVED: _("%(ref)s を来庁済みにしました。整理券の列に入りました。"),
                AppointmentStatus.NO_SHOW: _("%(ref)s を来庁なしにしました。"),
                AppointmentStatus.DONE: _("%(ref)s を対応済みにしました。"),
            }
            messages.success(request, labels[status] % {"ref": appointment.reference})
    day_value = clock.local(appointment.slot.starts_at).date().isoformat()
    return redirect(reverse("appointments:staff_day", args=[counter.code]) + f"?date={day_value}")


@staff_required
def queue(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    counter = selectors.counter_get_for_staff(user, code)
    state = selectors.queue_state(counter, now=clock.now())
    others = [c for c in selectors.counters_active() if c.pk != counter.pk]
    desk = request.session.get(DESK_SESSION_KEY, {}).get(counter.code, "")
    return render(
        request,
        "appointments/staff/queue.html",
        _ctx(counter, state=state, others=others, desk=desk, today=text.day_label(clock.today())),
    )


def _remember_desk(request: HttpRequest, counter: Counter, desk: str) -> None:
    desks = dict(request.session.get(DESK_SESSION_KEY, {}))
    desks[counter.code] = desk
    request.session[DESK_SESSION_KEY] = desks


@staff_required
@require_POST
def queue_action(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    counter = selectors.counter_get_for_staff(user, code)
    action = request.POST.get("action", "")
    back = redirect("appointments:staff_queue", counter.code)
    if action == "call_next":
        desk = request.POST.get("desk", "").strip()[:20]
        _remember_desk(request, counter, desk)
        ticket = services.ticket_call_next(counter=counter, actor=user, desk=desk)
        if ticket is None:
            messages.info(request, _("お待ちの方はいません。"))
        else:
            messages.success(request, _("%(ticket)s を呼び出しました。") % {"ticket": ticket.label})
        return back
    ticket = selectors.ticket_get_for_staff(user, counter, request.POST.get("ticket", ""))
    try:
        if action == "recall":
            services.ticket_recall(ticket=ticket, actor=user)
            messages.success(request, _("%(ticket)s をもう一度呼び出しました。") % {"ticket": ticket.label})
        elif action == "served":
            services.ticket_finish(ticket=ticket, actor=user, status=TicketStatus.SERVED)
            messages.success(request, _("%(ticket)s の対応を完了しました。") % {"ticket": ticket.label})
        elif action == "no_show":
            services.ticket_finish(ticket=ticket, actor=user, status=TicketStatus.NO_SHOW)
            messages.success(request, _("%(ticket)s を不在にしました。") % {"ticket": ticket.label})
        elif action == "transfer":
            target = next(
                (c for c in selectors.counters_active() if c.code == request.POST.get("to", "")),
                None,
            )
            if target is None:
                messages.error(request, _("回送先の窓口を選んでください。"))
                return back
            services.ticket_transfer(ticket=ticket, actor=user, to_counter=target)
            messages.success(
                request,
                _("%(ticket)s を%(counter)sへ回送しました。") % {"ticket": ticket.label, "counter": target.name},
            )
        else:
            messages.error(request, _("操作を選んでください。"))
    except services.IllegalTransition as exc:
        messages.error(request, exc.message)
    except services.QueueError as exc:
        messages.error(request, exc.message)
    return back


@staff_required
def poster(request: HttpRequest, code: str) -> HttpResponse:
    counter = selectors.counter_get_for_staff(_user(request), code)
    url = request.build_absolute_uri(reverse("appointments:take", args=[counter.code]))
    svg = documents.qr_svg(url, title=_("%(counter)sの整理券を受け取るページ") % {"counter": counter.name}, scale=10)
    return render(request, "appointments/staff/poster.html", _ctx(counter, qr=svg, url=url))


@staff_required
@require_http_methods(["GET", "POST"])
def kiosk_setup(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    counter = selectors.counter_get_for_staff(user, code)
    if request.method == "POST":
        action = request.POST.get("action", "")
        response = redirect("appointments:staff_kiosk", counter.code)
        if action == "pair":
            services.kiosk_paired(counter=counter, actor=user)
            throttle.pair_kiosk(request, response, counter)
            messages.success(
                request,
                _("この端末を%(counter)sの発券機として登録しました。ログアウトしてから、発券機の画面を開いてください。")
                % {"counter": counter.name},
            )
        elif action == "unpair":
            throttle.unpair_kiosk(request, response, counter)
            messages.success(request, _("この端末の発券機の登録を解除しました。"))
        elif action == "unpair_all":
            services.kiosk_unpair_all(counter=counter, actor=user)
            throttle.unpair_kiosk(request, response, counter)
            messages.success(request, _("%(counter)sの発券機の登録をすべて解除しました。") % {"counter": counter.name})
        else:
            messages.error(request, _("操作を選んでください。"))
        return response
    return render(
        request,
        "appointments/staff/kiosk_setup.html",
        _ctx(
            counter,
            paired=throttle.is_paired_kiosk(request, counter),
            limit=throttle.tickets_per_client(),
        ),
    )
