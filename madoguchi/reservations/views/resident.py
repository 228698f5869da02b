"""A resident's pages: booking a slot, paying, confirming or cancelling, registering a
group, applying to a lottery, registering for an event and showing its check-in QR
code. Every object is fetched through a selector that returns only the resident's
own (anything else is a 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.core.models import User
from madoguchi.reservations import checkin, errors, selectors
from madoguchi.reservations.forms import (
    BookingForm,
    GroupForm,
    LotteryApplicationForm,
    MemberForm,
    add_refusal,
)
from madoguchi.reservations.models import Booking, EventRegistration, Group, Room, TimeBlock
from madoguchi.reservations.services import bookings as booking_services
from madoguchi.reservations.services import events as event_services
from madoguchi.reservations.services import groups as group_services
from madoguchi.reservations.services import lottery as lottery_services
from madoguchi.reservations.services import refunds as refund_services


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


# -- booking ------------------------------------------------------------------------------
def _slot_params(request: HttpRequest, facility_code: str) -> tuple[Any, Room, dt.date, TimeBlock | None]:
    facility = selectors.facility_get_public(facility_code)
    params = request.POST if request.method == "POST" else request.GET
    room = facility.rooms.filter(code=params.get("room", "")).first()
    try:
        date = dt.date.fromisoformat(params.get("date", ""))
    except ValueError:
        date = None
    block = facility.time_blocks.filter(code=params.get("block", "")).first()
    if room is None or date is None:
        raise Http404
    return facility, room, date, block


@login_required
def book(request: HttpRequest, code: str) -> HttpResponseBase:
    user = _user(request)
    facility, room, date, block = _slot_params(request, code)
    groups = list(selectors.approved_groups_for_user(user))
    form = BookingForm(request.POST or None, facility=facility, groups=groups)
    refusal: errors.Refused | None = None
    if block is None:
        # A time block the facility does not have is outside its opening hours.
        refusal = errors.OutsideHours(_("その時間帯は開館時間外のため予約できません。"))
    else:
        try:
            booking_services.check_slot_bookable(room=room, date=date, block=block, now=timezone.now())
        except errors.Refused as exc:
            refusal = exc
    if request.method == "POST" and block is not None and refusal is None and form.is_valid():
        group = next((g for g in groups if str(g.public_id) == form.cleaned_data["group"]), None)
        try:
            booking = booking_services.booking_create(
                user=user,
                room=room,
                date=date,
                block=block,
                group=group,
                purpose=form.cleaned_data["purpose"],
                attendees=form.cleaned_data["attendees"],
                workplace=form.cleaned_data["workplace"],
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            if booking.status == Booking.Status.PENDING_PAYMENT:
                messages.success(request, _("仮予約しました。期限までに使用料をお支払いください。"))
            else:
                messages.success(request, _("予約が確定しました。"))
            return redirect("reservations:booking_detail", booking.public_id)
    elif request.method == "POST" and refusal is not None:
        form.is_valid()
        add_refusal(form, refusal)
    return render(
        request,
        "reservations/book.html",
        {
            "facility": facility,
            "room": room,
            "date": date,
            "block": block,
            "form": form,
            "refusal": refusal if request.method == "GET" else None,
            "groups": groups,
        },
        status=200,
    )


@login_required
def booking_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    booking_services.bookings_lapse_due()
    booking = selectors.booking_get_for_user(user=request.user, public_id=public_id)
    payment = booking_services.booking_latest_payment(booking)
    return render(
        request,
        "reservations/booking_detail.html",
        {
            "booking": booking,
            "payment": payment,
            "payment_failed": booking.status == Booking.Status.PENDING_PAYMENT
            and booking_services.payment_ended(payment),
            "cancel_deadline": booking_services.cancel_deadline(booking),
            "can_cancel": booking.status in Booking.ACTIVE
            and (
                booking.status == Booking.Status.OFFERED or timezone.now() < booking_services.cancel_deadline(booking)
            ),
            "cancel_fee_percent": booking.slot.room.facility.cancel_fee_percent,
        },
    )


@login_required
@require_POST
def booking_pay(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _user(request)
    booking = selectors.booking_get_for_user(user=user, public_id=public_id)
    back = request.build_absolute_uri(reverse("reservations:booking_detail", args=[booking.public_id]))
    try:
        url = booking_services.booking_start_payment(booking=booking, user=user, return_url=back, cancel_url=back)
    except errors.Refused as exc:
        messages.error(request, exc.message)
        return redirect("reservations:booking_detail", booking.public_id)
    return redirect(url)


@login_required
@require_POST
def booking_confirm(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _user(request)
    booking = selectors.booking_get_for_user(user=user, public_id=public_id)
    try:
        booking = booking_services.booking_confirm_offer(booking=booking, user=user)
    except errors.Refused as exc:
        messages.error(request, exc.message)
        return redirect("reservations:booking_detail", booking.public_id)
    if booking.status == Booking.Status.PENDING_PAYMENT:
        messages.success(request, _("利用を確定しました。期限までに使用料をお支払いください。"))
    else:
        messages.success(request, _("利用を確定しました。予約が確定しました。"))
    return redirect("reservations:booking_detail", booking.public_id)


@login_required
def booking_cancel(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """GET: the confirmation page (the deadline, what is refunded and the
    cancellation fee, or why it can no longer be cancelled online). POST: cancel."""
    user = _user(request)
    booking = selectors.booking_get_for_user(user=user, public_id=public_id)
    if request.method == "POST":
        try:
            booking_services.booking_cancel(booking=booking, user=user)
        except errors.Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("予約を取り消しました。"))
        return redirect("reservations:booking_detail", booking.public_id)
    return render(
        request,
        "reservations/booking_cancel.html",
        {
            "booking": booking,
            "active": booking.status in Booking.ACTIVE,
            "terms": refund_services.cancellation_terms(booking),
            "cancel_fee_percent": booking.slot.room.facility.cancel_fee_percent,
        },
    )


@login_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    booking_services.bookings_lapse_due()
    return render(
        request,
        "reservations/my.html",
        {
            "bookings": selectors.booking_list_for_user(user)[:100],
            "applications": selectors.lottery_applications_for_user(user)[:50],
            "registrations": selectors.registration_list_for_user(user)[:50],
            "groups": selectors.groups_for_user(user),
        },
    )


# -- groups -------------------------------------------------------------------------------
@login_required
def group_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    form = GroupForm(request.POST or None, has_resident_record=user.resident_id is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = group_services.group_register(
                user=user,
                name=data["name"],
                name_kana=data["name_kana"],
                activity=data["activity"],
                member_count=data["member_count"],
                rep_phone=data.get("rep_phone", ""),
                rep_name=data.get("rep_name", ""),
                rep_birth_date=data.get("rep_birth_date"),
                rep_address=data.get("rep_address", ""),
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("団体登録を申請しました。区の審査が終わるとお知らせします。"))
            return redirect("reservations:group_detail", group.public_id)
    return render(request, "reservations/group_new.html", {"form": form, "resident": user.resident})


@login_required
def group_detail(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _user(request)
    group = selectors.group_get_for_user(user=user, public_id=public_id)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group_services.group_add_member(
                group=group,
                user=user,
                name=form.cleaned_data["name"],
                name_kana=form.cleaned_data["name_kana"],
                in_ward=form.cleaned_data["in_ward"],
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("会員を登録しました。"))
            return redirect("reservations:group_detail", group.public_id)
    return render(
        request, "reservations/group_detail.html", {"group": group, "members": group.members.all(), "form": form}
    )


# -- lottery ------------------------------------------------------------------------------
@login_required
def lottery_apply(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    lottery = selectors.lottery_round_get_public(pk)
    groups: list[Group] = list(selectors.approved_groups_for_user(user))
    slots = selectors.lottery_slots(lottery)
    form = LotteryApplicationForm(request.POST or None, groups=groups, slots=slots, entries=lottery.max_entries)
    now = timezone.now()
    phase = lottery.phase(now)
    if request.method == "POST" and form.is_valid():
        group = next((g for g in groups if str(g.public_id) == form.cleaned_data["group"]), None)
        try:
            application = lottery_services.lottery_apply(
                user=user, lottery=lottery, group=group, choices=form.choice_pairs(), now=now
            )
        except errors.Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("抽選に申し込みました。"))
            return redirect("reservations:lottery_application", application.public_id)
    return render(
        request,
        "reservations/lottery_apply.html",
        {"lottery": lottery, "form": form, "groups": groups, "open": phase == lottery.Phase.OPEN},
    )


@login_required
def lottery_application(request: HttpRequest, public_id: str) -> HttpResponse:
    application = selectors.lottery_application_get_for_user(user=request.user, public_id=public_id)
    return render(
        request,
        "reservations/lottery_application.html",
        {"application": application, "lottery": application.round, "open": application.round.phase() == "open"},
    )


@login_required
@require_POST
def lottery_withdraw(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _user(request)
    application = selectors.lottery_application_get_for_user(user=user, public_id=public_id)
    try:
        lottery_services.lottery_withdraw(user=user, application=application)
    except errors.Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申込を取り下げました。"))
    return redirect("reservations:lottery_application", application.public_id)


# -- events -------------------------------------------------------------------------------
@login_required
@require_POST
def event_register(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    event = selectors.event_get_public(pk)
    try:
        registration = event_services.event_register(user=user, event=event)
    except errors.Refused as exc:
        messages.error(request, exc.message)
        return redirect("reservations:event_detail", event.pk)
    if registration.status == EventRegistration.Status.REGISTERED:
        messages.success(request, _("申込を受け付けました。"))
    else:
        messages.success(request, _("定員に達しているため、キャンセル待ちで受け付けました。"))
    return redirect("reservations:registration_detail", registration.public_id)


@login_required
def registration_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    registration = selectors.registration_get_for_user(user=request.user, public_id=public_id)
    qr = token = ""
    if registration.status == EventRegistration.Status.REGISTERED and registration.checked_in_at is None:
        token = checkin.make_token(registration)
        qr = checkin.qr_svg(request.build_absolute_uri(checkin.checkin_path(registration)), title=_("受付用QRコード"))
    return render(
        request,
        "reservations/registration_detail.html",
        {
            "registration": registration,
            "event": registration.event,
            "qr": qr,
            "token": token,
            "position": event_services.waitlist_position(registration),
            "can_cancel": registration.status in event_services.LIVE and timezone.now() < registration.event.starts_at,
        },
    )


@login_required
@require_POST
def registration_cancel(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _user(request)
    registration = selectors.registration_get_for_user(user=user, public_id=public_id)
    try:
        event_services.event_cancel(user=user, registration=registration)
    except errors.Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申込を取り消しました。"))
    return redirect("reservations:registration_detail", registration.public_id)
