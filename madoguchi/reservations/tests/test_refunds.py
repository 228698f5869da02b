"""Refunds of booking fees through the payment plugin: on cancellation (with the
facility's cancellation fee), for a payment that arrives after the booking ended,
failures (a provider that refuses, a provider that crashes) retried with backoff by
the tick, never twice, and the staff page with its 「再実行」 button.

Payments go through the sandbox provider as on the real page: ``sandbox_decide``
notifies madoguchi's webhook (signed, parsed and verified by the provider; only the
HTTP hop is replaced by a direct call), then records the card's approval. A failing
provider is a sandbox subclass registered for these tests whose refunds can be
switched to refuse or to crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from madoguchi.core.models import AuditEvent, Department, User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.payments.machine import Status as PaymentStatus
from madoguchi.payments.models import Payment, Refund, SandboxCharge
from madoguchi.payments.providers import sandbox
from madoguchi.payments.providers.base import ProviderError
from madoguchi.payments.providers.registry import register
from madoguchi.payments.services import payment_handle_webhook
from madoguchi.reservations import errors
from madoguchi.reservations.models import Booking, Facility, Room, Slot, TimeBlock
from madoguchi.reservations.services.bookings import (
    booking_cancel,
    booking_confirm_offer,
    booking_create,
    booking_start_payment,
)
from madoguchi.reservations.services.lottery import lottery_apply, lottery_draw
from madoguchi.reservations.services.refunds import (
    RefundOutcome,
    booking_refund,
    booking_refunds_retry_due,
    retry_delay,
)

from .conftest import NOW, MakeRound, aware, staff_member
from .test_lottery import AFTER_CLOSE, _applicants
from .test_lottery import slot as lottery_slot

pytestmark = pytest.mark.django_db
WEDNESDAY = dt.date(2030, 6, 12)  # cancellation deadline (3 days before): 2030-06-10 00:00
FLAKY = "flaky-sandbox"


class FlakySandbox(sandbox.SandboxProvider):
    """The sandbox, except that refunds can be made to fail: ``"refuse"`` answers
    as a card company declining the refund, ``"crash"`` as a connection dropped."""

    refund_failure: ClassVar[str] = ""

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        if self.refund_failure == "refuse":
            raise ProviderError("refund declined by the card company")
        if self.refund_failure == "crash":
            raise ConnectionResetError("connection reset by the payment company")
        return super().refund(payment, amount, idempotency_key)


if FLAKY not in register:
    register(FLAKY)(FlakySandbox)


@pytest.fixture
def flaky(settings: Any) -> Iterator[type[FlakySandbox]]:
    settings.PAYMENT_DEFAULT_PROVIDER = FLAKY
    yield FlakySandbox
    FlakySandbox.refund_failure = ""


@pytest.fixture
def immediate_tasks(settings: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Tasks run when the transaction that enqueued them commits."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return django_capture_on_commit_callbacks


def book_paid(user: User, room: Room, block: TimeBlock, monkeypatch: pytest.MonkeyPatch) -> tuple[Booking, Payment]:
    """Book ``room`` (1,200円) and pay at the sandbox's page with the approving card."""
    booking = booking_create(
        user=user, room=room, date=WEDNESDAY, block=block, purpose="自治会の定例会", attendees=10, now=NOW
    )
    booking_start_payment(
        booking=booking, user=user, return_url="http://testserver/b/", cancel_url="http://testserver/b/", now=NOW
    )
    pay_at_sandbox(Payment.objects.get(object_id=str(booking.public_id)), monkeypatch)
    booking.refresh_from_db()
    return booking, Payment.objects.get(object_id=str(booking.public_id))


def pay_at_sandbox(payment: Payment, monkeypatch: pytest.MonkeyPatch) -> None:
    def deliver(url: str, body: bytes) -> None:
        request = RequestFactory().post(
            url, data=body, content_type="application/json", headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
        )
        payment_handle_webhook(provider=payment.provider, request=request)

    monkeypatch.setattr(sandbox, "deliver", deliver)
    sandbox.sandbox_decide(
        reference=payment.provider_reference,
        choice="approve",
        webhook_url=f"http://testserver/payments/webhook/{payment.provider}/",
    )


def refunds_of(payment: Payment) -> list[int]:
    return list(Refund.objects.filter(payment=payment).values_list("amount_yen", flat=True))


def refunded_messages(user: User) -> set[str]:
    return set(
        OutboxMessage.objects.filter(user=user, subject="【施設予約】使用料を返金しました").values_list(
            "channel", flat=True
        )
    )


# -- cancellation -------------------------------------------------------------------------------
def test_cancelling_a_paid_booking_before_the_deadline_refunds_the_whole_fee(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch, immediate_tasks: Any
) -> None:
    booking, payment = book_paid(resident, paid_room, morning, monkeypatch)
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == PaymentStatus.AUTHORIZED

    with immediate_tasks(execute=True):
        booking_cancel(booking=booking, user=resident, now=NOW)

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert (booking.refund_due, booking.refunded_yen, booking.cancel_fee_yen) == (False, 1200, 0)
    assert booking.refunded_at is not None
    assert (payment.status, payment.captured_yen, payment.refunded_yen) == (PaymentStatus.REFUNDED, 1200, 1200)
    assert refunds_of(payment) == [1200]
    charge = SandboxCharge.objects.get(reference=payment.provider_reference)
    assert (charge.captured_yen, charge.refunded_yen) == (1200, 1200)
    assert refunded_messages(resident) == {"email", "inbox"}
    assert AuditEvent.objects.filter(action="reservations.booking.refund", target_id=str(booking.pk)).exists()


def test_a_cancellation_fee_in_the_facility_rules_is_kept_and_the_rest_refunded(
    resident: User,
    facility: Facility,
    paid_room: Room,
    morning: TimeBlock,
    monkeypatch: pytest.MonkeyPatch,
    immediate_tasks: Any,
) -> None:
    Facility.objects.filter(pk=facility.pk).update(cancel_fee_percent=25)
    booking, payment = book_paid(resident, paid_room, morning, monkeypatch)

    with immediate_tasks(execute=True):
        booking_cancel(booking=booking, user=resident, now=NOW)

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.cancel_fee_yen, booking.refunded_yen, booking.refund_due) == (300, 900, False)
    assert (payment.status, payment.captured_yen, payment.refunded_yen) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        1200,
        900,
    )
    assert refunds_of(payment) == [900]
    cancelled = OutboxMessage.objects.get(user=resident, subject="【施設予約】予約を取り消しました", channel="email")
    assert "取消手数料 300円" in cancelled.body_text and "900円" in cancelled.body_text


def test_a_cancellation_after_the_deadline_is_refused_and_nothing_is_refunded(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, payment = book_paid(resident, paid_room, morning, monkeypatch)
    with pytest.raises(errors.DeadlinePassed, match="取消しの期限"):
        booking_cancel(booking=booking, user=resident, now=aware(2030, 6, 10, 0, 1))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, booking.refund_due) == (Booking.Status.CONFIRMED, False)
    assert payment.status == PaymentStatus.AUTHORIZED
    assert booking_refunds_retry_due(now=aware(2030, 6, 11)).refunded == 0
    assert refunds_of(payment) == []


# -- a payment after the booking ended ----------------------------------------------------------
def test_a_payment_completing_after_the_booking_lapsed_is_refunded_in_full(
    resident: User, facility: Facility, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    Facility.objects.filter(pk=facility.pk).update(cancel_fee_percent=50)  # not for a booking never held
    booking = booking_create(
        user=resident, room=paid_room, date=WEDNESDAY, block=morning, purpose="定例会", attendees=5, now=NOW
    )
    booking_start_payment(
        booking=booking, user=resident, return_url="http://testserver/b/", cancel_url="http://testserver/b/", now=NOW
    )
    payment = Payment.objects.get(object_id=str(booking.public_id))
    # The booking ends while the resident is on the payment page (the race the
    # lapse and the webhook can run into); then the card is approved.
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.LAPSED, cancelled_at=NOW)
    pay_at_sandbox(payment, monkeypatch)

    booking.refresh_from_db()
    assert (booking.status, booking.refund_due) == (Booking.Status.LAPSED, True)
    assert booking.refund_next_attempt_at is not None

    sweep = booking_refunds_retry_due(now=booking.refund_next_attempt_at)

    assert (sweep.refunded, sweep.failed) == (1, 0)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, booking.refund_due, booking.refunded_yen) == (Booking.Status.LAPSED, False, 1200)
    assert (payment.status, payment.refunded_yen) == (PaymentStatus.REFUNDED, 1200)
    assert refunds_of(payment) == [1200]
    assert refunded_messages(resident) == {"email", "inbox"}


# -- failures and retries -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("failure", "error"),
    [("refuse", "ProviderError: refund declined"), ("crash", "ConnectionResetError: connection reset")],
)
def test_a_failed_refund_keeps_the_cancellation_and_the_tick_retries_it_with_backoff(
    failure: str,
    error: str,
    resident: User,
    paid_room: Room,
    morning: TimeBlock,
    monkeypatch: pytest.MonkeyPatch,
    flaky: type[FlakySandbox],
) -> None:
    booking, payment = book_paid(resident, paid_room, morning, monkeypatch)
    assert payment.provider == FLAKY
    flaky.refund_failure = failure

    booking_cancel(booking=booking, user=resident, now=NOW)
    first = booking_refunds_retry_due(now=NOW)

    assert (first.refunded, first.failed) == (0, 1)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert (booking.refund_due, booking.refund_attempts) == (True, 1)
    assert booking.refund_last_error.startswith(error)
    assert booking.refund_next_attempt_at == NOW + retry_delay(1) == NOW + dt.timedelta(minutes=5)
    assert refunds_of(payment) == []
    assert refunded_messages(resident) == set()
    assert AuditEvent.objects.filter(action="reservations.booking.refund_failed", target_id=str(booking.pk)).exists()

    # Not due yet: the tick leaves it alone.
    assert booking_refunds_retry_due(now=NOW + dt.timedelta(minutes=4)).failed == 0
    # Due and still failing: the wait doubles.
    second_try = NOW + dt.timedelta(minutes=6)
    assert booking_refunds_retry_due(now=second_try).failed == 1
    booking.refresh_from_db()
    assert booking.refund_attempts == 2
    assert booking.refund_next_attempt_at == second_try + dt.timedelta(minutes=10)

    flaky.refund_failure = ""
    done = booking_refunds_retry_due(now=second_try + dt.timedelta(minutes=11))

    assert (done.refunded, done.failed) == (1, 0)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, booking.refund_due, booking.refunded_yen) == (Booking.Status.CANCELLED, False, 1200)
    assert (booking.refund_last_error, booking.refund_next_attempt_at) == ("", None)
    assert (payment.status, payment.refunded_yen) == (PaymentStatus.REFUNDED, 1200)
    assert refunds_of(payment) == [1200]
    assert refunded_messages(resident) == {"email", "inbox"}


def test_repeated_ticks_and_retries_never_refund_twice(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, payment = book_paid(resident, paid_room, morning, monkeypatch)
    booking_cancel(booking=booking, user=resident, now=NOW)

    assert booking_refunds_retry_due(now=NOW).refunded == 1
    assert booking_refunds_retry_due(now=NOW).refunded == 0
    assert booking_refunds_retry_due(now=NOW + dt.timedelta(days=1)).refunded == 0
    assert booking_refund(booking_id=booking.pk, actor=None, now=NOW) == RefundOutcome.NOTHING_DUE
    # Even a flag raised again by mistake refunds nothing more: the amounts come
    # from what the payment has already given back.
    Booking.objects.filter(pk=booking.pk).update(refund_due=True, refund_next_attempt_at=NOW)
    assert booking_refunds_retry_due(now=NOW).refunded == 1

    payment.refresh_from_db()
    booking.refresh_from_db()
    assert refunds_of(payment) == [1200]
    assert (payment.refunded_yen, booking.refunded_yen, booking.refund_due) == (1200, 1200, False)
    assert SandboxCharge.objects.get(reference=payment.provider_reference).refunded_yen == 1200
    assert (
        len(OutboxMessage.objects.filter(user=resident, subject="【施設予約】使用料を返金しました")) == 2
    )  # email+inbox


def test_cancelling_a_paid_lottery_win_refunds_it_and_offers_the_slot_to_the_next_applicant(
    make_round: MakeRound, kakaricho: User, monkeypatch: pytest.MonkeyPatch, immediate_tasks: Any
) -> None:
    lottery = make_round()
    paid_slot = lottery_slot(lottery, 6, room="room-b")  # 1,200円
    for user, group in _applicants(lottery, 2):
        lottery_apply(user=user, lottery=lottery, group=group, choices=[(paid_slot.pk, None)], now=NOW)
    lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    offered = Booking.objects.get(status=Booking.Status.OFFERED)
    win = booking_confirm_offer(booking=offered, user=offered.user, now=AFTER_CLOSE)
    back = "http://testserver/b/"
    booking_start_payment(booking=win, user=win.user, return_url=back, cancel_url=back, now=AFTER_CLOSE)
    payment = Payment.objects.get(object_id=str(win.public_id))
    pay_at_sandbox(payment, monkeypatch)
    assert Booking.objects.get(pk=win.pk).status == Booking.Status.CONFIRMED

    with immediate_tasks(execute=True):
        booking_cancel(booking=Booking.objects.get(pk=win.pk), user=win.user, now=AFTER_CLOSE + dt.timedelta(days=1))

    payment.refresh_from_db()
    assert (payment.status, payment.refunded_yen) == (PaymentStatus.REFUNDED, 1200)
    assert Booking.objects.get(pk=win.pk).refunded_yen == 1200
    next_in_line = Booking.objects.get(status=Booking.Status.OFFERED)
    assert next_in_line.user_id != win.user_id and next_in_line.slot_id == win.slot_id


def test_a_free_booking_cancelled_has_nothing_to_refund(resident: User, free_room: Room, morning: TimeBlock) -> None:
    booking = booking_create(
        user=resident, room=free_room, date=WEDNESDAY, block=morning, purpose="定例会", attendees=5, now=NOW
    )
    booking_cancel(booking=booking, user=resident, now=NOW)
    booking.refresh_from_db()
    assert (booking.refund_due, booking.refunded_yen) == (False, 0)


# -- staff: the refunds page and 「再実行」 --------------------------------------------------------
def failed_refund(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch, flaky: type[FlakySandbox]
) -> Booking:
    booking, _payment = book_paid(resident, paid_room, morning, monkeypatch)
    flaky.refund_failure = "refuse"
    booking_cancel(booking=booking, user=resident, now=NOW)
    booking_refunds_retry_due(now=NOW)
    flaky.refund_failure = ""
    booking.refresh_from_db()
    assert booking.refund_due and booking.refund_attempts == 1
    return booking


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_kakaricho_sees_the_failed_refund_and_retries_it_once_even_when_clicking_twice(
    resident: User,
    paid_room: Room,
    morning: TimeBlock,
    kakaricho: User,
    monkeypatch: pytest.MonkeyPatch,
    flaky: type[FlakySandbox],
) -> None:
    booking = failed_refund(resident, paid_room, morning, monkeypatch, flaky)
    client = logged_in(kakaricho)

    page = client.get(reverse("reservations:staff_refunds")).content.decode()
    assert "返金の管理" in page and "refund declined by the card company" in page and "再実行" in page
    assert AuditEvent.objects.filter(action="reservations.staff.viewed", actor=kakaricho).exists()

    url = reverse("reservations:staff_refund_retry", args=[booking.public_id])
    first = client.post(url, follow=True)
    second = client.post(url, follow=True)

    assert "返金しました" in first.content.decode()
    assert "すでに済んでいます" in second.content.decode()
    payment = Payment.objects.get(object_id=str(booking.public_id))
    assert refunds_of(payment) == [1200]
    booking.refresh_from_db()
    assert (booking.refund_due, booking.refunded_yen) == (False, 1200)
    event = AuditEvent.objects.filter(action="reservations.booking.refund", target_id=str(booking.pk)).get()
    assert event.actor == kakaricho
    assert "1,200円" in client.get(reverse("reservations:staff_refunds")).content.decode()  # 最近の返金


def test_refunds_page_and_retry_are_closed_to_other_departments_tanto_and_residents(
    resident: User,
    paid_room: Room,
    morning: TimeBlock,
    tanto: User,
    other_department_staff: User,
    monkeypatch: pytest.MonkeyPatch,
    flaky: type[FlakySandbox],
) -> None:
    booking = failed_refund(resident, paid_room, morning, monkeypatch, flaky)
    url = reverse("reservations:staff_refund_retry", args=[booking.public_id])
    page = reverse("reservations:staff_refunds")

    other = logged_in(other_department_staff)  # 課長 of another department
    assert other.post(url).status_code == 404
    listing = other.get(page)
    assert listing.status_code == 200 and "refund declined" not in listing.content.decode()

    same_department_tanto = logged_in(tanto)
    assert same_department_tanto.get(page).status_code == 403
    assert same_department_tanto.post(url).status_code == 403

    assert logged_in(resident).post(url).status_code == 403
    assert logged_in(staff_member(booking.facility.department, "tanto")).get(page).status_code == 403

    booking.refresh_from_db()
    assert (booking.refund_due, booking.refund_attempts) == (True, 1)
    assert refunds_of(Payment.objects.get(object_id=str(booking.public_id))) == []


def test_the_admin_role_of_any_department_may_retry(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch, flaky: type[FlakySandbox]
) -> None:
    booking = failed_refund(resident, paid_room, morning, monkeypatch, flaky)
    elsewhere, _ = Department.objects.get_or_create(code="somu", defaults={"name": "総務課"})
    admin = staff_member(elsewhere, "admin")
    response = logged_in(admin).post(reverse("reservations:staff_refund_retry", args=[booking.public_id]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.refunded_yen == 1200


# -- the resident's confirmation page -----------------------------------------------------------
def test_the_cancel_confirmation_page_states_the_refund_and_the_deadline_rule(
    resident: User,
    facility: Facility,
    paid_room: Room,
    morning: TimeBlock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Facility.objects.filter(pk=facility.pk).update(cancel_fee_percent=10)
    booking, _payment = book_paid(resident, paid_room, morning, monkeypatch)
    client = logged_in(resident)
    url = reverse("reservations:booking_cancel", args=[booking.public_id])

    page = client.get(url).content.decode()
    assert "1,080円 をお支払いに使ったカードに返金します" in page
    assert "120円（使用料の10%）" in page
    assert "を過ぎると、オンラインでは取り消せず、使用料も返金されません" in page
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED  # GET changes nothing

    response = client.post(url)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due, booking.cancel_fee_yen) == (Booking.Status.CANCELLED, True, 120)
    detail = client.get(reverse("reservations:booking_detail", args=[booking.public_id])).content.decode()
    assert "返金する手続きをしています" in detail


def test_after_the_deadline_the_confirmation_page_says_it_cannot_be_cancelled_online(
    resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, _payment = book_paid(resident, paid_room, morning, monkeypatch)
    # The day of use is tomorrow: the deadline (3 days before) has passed.
    Slot.objects.filter(pk=booking.slot_id).update(date=timezone.localdate() + dt.timedelta(days=1))
    client = logged_in(resident)
    url = reverse("reservations:booking_cancel", args=[booking.public_id])

    page = client.get(url).content.decode()

    assert "オンラインでは取り消せません。予約はそのまま残り、使用料は返金されません" in page
    assert f'action="{url}"' not in page
    client.post(url)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due) == (Booking.Status.CONFIRMED, False)


def test_another_residents_cancel_page_is_404(
    resident: User, other_resident: User, paid_room: Room, morning: TimeBlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, _payment = book_paid(resident, paid_room, morning, monkeypatch)
    url = reverse("reservations:booking_cancel", args=[booking.public_id])
    assert logged_in(other_resident).get(url).status_code == 404
    assert logged_in(other_resident).post(url).status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
