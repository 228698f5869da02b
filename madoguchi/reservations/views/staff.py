"""Staff pages (/reservations/staff/): the day's bookings of a facility, group
approvals, refunds (list, retry), lottery rounds (create, draw, notify), events
(create, participants, check-in). Staff see the facilities and events of their own
departments; running a draw and handling refunds need 係長 or above in the facility's
department. Residents get 403."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.core.japanese import parse_date
from madoguchi.core.models import Department, User
from madoguchi.reservations import errors, selectors
from madoguchi.reservations.forms import CheckinForm, EventForm, GroupReviewForm, LotteryRoundForm, add_refusal
from madoguchi.reservations.models import EventRegistration, Group, LotteryApplication, LotteryWin
from madoguchi.reservations.services import bookings as booking_services
from madoguchi.reservations.services import events as event_services
from madoguchi.reservations.services import groups as group_services
from madoguchi.reservations.services import lottery as lottery_services
from madoguchi.reservations.services import refunds as refund_services
from madoguchi.reservations.services.access import staff_viewed

SECTION = "reservations"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by staff_required
    return user


def _render(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    return render(request, template, {"staff_section": SECTION, **context})


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    booking_services.bookings_lapse_due()
    return _render(
        request,
        "reservations/staff/home.html",
        {
            "facilities": selectors.facilities_for_staff(user),
            "rounds": selectors.lottery_rounds_for_staff(user)[:20],
            "events": selectors.events_for_staff(user).filter(ends_at__gte=timezone.now())[:20],
            "pending_groups": selectors.groups_pending().count(),
            "refunds": selectors.refunds_due(user)[:20],
            "can_handle_refunds": selectors.can_handle_refunds(user),
        },
    )


@staff_required
def facility_day(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    facility = selectors.facility_get_for_staff(user, code)
    date = parse_date(request.GET.get("date", "")) or timezone.localdate()
    staff_viewed(actor=user, target=facility, what=f"bookings of {date.isoformat()}")
    return _render(
        request,
        "reservations/staff/facility_day.html",
        {
            "facility": facility,
            "date": date,
            "previous_day": date - dt.timedelta(days=1),
            "next_day": date + dt.timedelta(days=1),
            "bookings": selectors.bookings_for_staff_day(facility, date),
        },
    )


@staff_required
def groups(request: HttpRequest) -> HttpResponse:
    if not selectors.can_review_groups(request.user):
        raise PermissionDenied("facility department only")
    staff_viewed(actor=_user(request), target=None, what="pending group registrations")
    return _render(
        request,
        "reservations/staff/groups.html",
        {"groups": selectors.groups_pending(), "form": GroupReviewForm()},
    )


@staff_required
@require_POST
def group_review(request: HttpRequest, public_id: str) -> HttpResponseBase:
    if not selectors.can_review_groups(request.user):
        raise PermissionDenied("facility department only")
    group = Group.objects.filter(public_id=public_id).first() if _is_uuid(public_id) else None
    if group is None:
        raise Http404
    form = GroupReviewForm(request.POST)
    form.is_valid()
    try:
        group_services.group_review(
            group=group,
            staff=_user(request),
            approve=request.POST.get("decision") == "approve",
            note=form.cleaned_data.get("note", ""),
        )
    except errors.Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("「%(name)s」の審査を記録しました。") % {"name": group.name})
    return redirect("reservations:staff_groups")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# -- refunds -------------------------------------------------------------------------------
@staff_required
def refunds(request: HttpRequest) -> HttpResponse:
    """Refunds not gone through yet (with the last error) and the latest that did;
    係長 and above of the facility's department, or 管理者."""
    user = _user(request)
    if not selectors.can_handle_refunds(user):
        raise PermissionDenied("kakaricho required")
    staff_viewed(actor=user, target=None, what="refunds of bookings")
    return _render(
        request,
        "reservations/staff/refunds.html",
        {
            "open_refunds": selectors.refunds_open_for_staff(user)[:200],
            "done_refunds": selectors.refunds_done_for_staff(user)[:20],
        },
    )


@staff_required
@require_POST
def refund_retry(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """「再実行」: try the refund now. A second click finds it done and refunds nothing."""
    user = _user(request)
    if not selectors.can_handle_refunds(user):
        raise PermissionDenied("kakaricho required")
    booking = selectors.refund_booking_get_for_staff(user, public_id)
    outcome = refund_services.booking_refund(booking_id=booking.pk, actor=user)
    if outcome == refund_services.RefundOutcome.REFUNDED:
        messages.success(request, _("返金しました。予約した方にお知らせしました。"))
    elif outcome == refund_services.RefundOutcome.FAILED:
        booking.refresh_from_db(fields=["refund_last_error"])
        messages.error(
            request,
            _("返金できませんでした（%(error)s）。時間をおいて自動でもう一度試みます。")
            % {"error": booking.refund_last_error},
        )
    else:
        messages.info(request, _("この予約の返金はすでに済んでいます。"))
    return redirect("reservations:staff_refunds")


# -- lotteries -----------------------------------------------------------------------------
@staff_required
def lottery_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    form = LotteryRoundForm(request.POST or None, facilities=selectors.facilities_for_staff(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not selectors.can_draw(user, data["facility"]):
            raise PermissionDenied("kakaricho required")
        try:
            lottery = lottery_services.lottery_round_create(
                actor=user,
                facility=data["facility"],
                month=data["month"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                confirm_deadline=data["confirm_deadline"],
                first_come_opens_at=data["first_come_opens_at"],
                max_entries=data["max_entries"],
                max_wins=data["max_wins"],
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("抽選を作成しました。シードのハッシュを公開しました。"))
            return redirect("reservations:staff_lottery", lottery.pk)
    return _render(request, "reservations/staff/lottery_new.html", {"form": form})


@staff_required
def lottery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    lottery = selectors.lottery_round_get_for_staff(user, pk)
    booking_services.bookings_lapse_due()
    wins = (
        LotteryWin.objects.filter(round=lottery)
        .select_related("entry__application__group", "slot__room", "slot__block", "booking")
        .order_by("slot__date", "slot__block__sort_order", "slot__room__sort_order", "pk")
    )
    return _render(
        request,
        "reservations/staff/lottery_detail.html",
        {
            "lottery": lottery,
            "phase": lottery.phase(),
            "can_draw": selectors.can_draw(user, lottery.facility),
            "applications": LotteryApplication.objects.filter(
                round=lottery, status=LotteryApplication.Status.SUBMITTED
            ).count(),
            "wins": wins[:500],
            "slot_count": lottery.slots.count(),
        },
    )


@staff_required
@require_POST
def lottery_draw(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    lottery = selectors.lottery_round_get_for_staff(user, pk)
    if not selectors.can_draw(user, lottery.facility):
        raise PermissionDenied("kakaricho required")
    try:
        lottery = lottery_services.lottery_draw(lottery=lottery, actor=user)
    except errors.Refused as exc:
        messages.error(request, exc.message)
        return redirect("reservations:staff_lottery", lottery.pk)
    sent = lottery_services.lottery_notify_results(lottery=lottery)
    messages.success(
        request,
        _("抽選を実施しました（当選 %(wins)s 件）。%(sent)s 件の申込者に結果を通知しました。")
        % {"wins": lottery.win_count, "sent": sent},
    )
    return redirect("reservations:staff_lottery", lottery.pk)


@staff_required
@require_POST
def lottery_notify(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    lottery = selectors.lottery_round_get_for_staff(user, pk)
    if not selectors.can_draw(user, lottery.facility):
        raise PermissionDenied("kakaricho required")
    try:
        sent = lottery_services.lottery_notify_results(lottery=lottery)
    except errors.Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(sent)s 件の申込者に結果を通知しました。") % {"sent": sent})
    return redirect("reservations:staff_lottery", lottery.pk)


# -- events --------------------------------------------------------------------------------
def _departments_for(user: User) -> object:
    ids = selectors.staff_department_ids(user)
    qs = Department.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


@staff_required
def event_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    form = EventForm(
        request.POST or None, departments=_departments_for(user), facilities=selectors.facilities_for_staff(user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = event_services.event_create(
                actor=user,
                department_id=data["department"].pk,
                facility_id=data["facility"].pk if data["facility"] else None,
                title=data["title"],
                title_kana=data["title_kana"],
                description=data["description"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                place_name=data["place_name"],
                capacity=data["capacity"],
                application_closes_at=data["application_closes_at"],
                fee_yen=data["fee_yen"] or 0,
                organizer=data["organizer"],
                contact_phone=data["contact_phone"],
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("イベントを公開しました。"))
            return redirect("reservations:staff_event", event.pk)
    return _render(request, "reservations/staff/event_new.html", {"form": form})


@staff_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    event = selectors.event_get_for_staff(user, pk)
    staff_viewed(actor=user, target=event, what="event registrations")
    registrations = event.registrations.select_related("user").order_by("status", "created_at", "pk")
    return _render(
        request,
        "reservations/staff/event_detail.html",
        {"event": event, "registrations": registrations},
    )


@staff_required
@require_POST
def event_checkin_registration(request: HttpRequest, pk: int, public_id: str) -> HttpResponseBase:
    user = _user(request)
    event = selectors.event_get_for_staff(user, pk)
    registration = (
        EventRegistration.objects.filter(event=event, public_id=public_id).first() if _is_uuid(public_id) else None
    )
    if registration is None:
        messages.error(request, _("この申込は見つかりません。"))
        return redirect("reservations:staff_event", event.pk)
    try:
        event_services.event_checkin(staff=user, registration=registration)
    except errors.Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s さんを受付しました。") % {"name": registration.user})
    return redirect("reservations:staff_event", event.pk)


@staff_required
def checkin(request: HttpRequest) -> HttpResponseBase:
    """Check-in by QR code: the code's URL opens this page with ``?code=``; the
    member of staff sees who it is and confirms with a button (POST)."""
    user = _user(request)
    data = request.POST if request.method == "POST" else request.GET
    form = CheckinForm(data if "code" in data else None)
    registration = None
    if form.is_bound and form.is_valid():
        try:
            registration = event_services.registration_for_code(form.cleaned_data["code"])
            if not selectors.staff_may_check_in(user, registration.event):
                raise errors.InvalidCode(_("このイベントの受付は担当部署の職員だけができます。"), field="code")
            staff_viewed(actor=user, target=registration, what="check-in code")
            if request.method == "POST":
                event_services.event_checkin(staff=user, registration=registration)
                messages.success(
                    request,
                    _("%(name)s さんを「%(event)s」に受付しました。")
                    % {"name": registration.user, "event": registration.event.title},
                )
                return redirect("reservations:staff_checkin")
            if registration.checked_in_at is not None:
                raise errors.AlreadyCheckedIn(
                    _("この方は %(at)s にすでに受付済みです。")
                    % {"at": timezone.localtime(registration.checked_in_at).strftime("%Y-%m-%d %H:%M")},
                    field="code",
                )
            if registration.status != EventRegistration.Status.REGISTERED:
                raise errors.InvalidState(
                    _("この申込は「%(status)s」のため受付できません。") % {"status": registration.get_status_display()},
                    field="code",
                )
        except errors.Refused as exc:
            add_refusal(form, exc)
            registration = None
    return _render(request, "reservations/staff/checkin.html", {"form": form, "registration": registration})
