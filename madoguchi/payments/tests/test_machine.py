"""Property tests of the payment state machine: the pure table, and the same rules
when driven through the services and webhooks against the database."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from madoguchi.payments import machine
from madoguchi.payments.machine import TRANSITIONS, IllegalTransition, Status
from madoguchi.payments.models import Payment, PaymentEvent, SandboxCharge
from madoguchi.payments.providers.base import EventType, ProviderError, WebhookEvent
from madoguchi.payments.services import payment_apply_event, payment_capture, payment_refund

from .conftest import make_payment

statuses = st.sampled_from(list(Status))


def test_every_status_has_a_row_and_final_states_have_no_exit() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert machine.FINAL == {Status.VOIDED, Status.REFUNDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
    assert Status.CAPTURED not in TRANSITIONS[Status.PENDING]  # capture only after authorization


@given(current=statuses, target=statuses)
def test_check_transition_follows_the_table(current: Status, target: Status) -> None:
    if target in TRANSITIONS[current]:
        assert machine.check_transition(current, target) == target
    else:
        with pytest.raises(IllegalTransition):
            machine.check_transition(current, target)


@given(steps=st.lists(st.tuples(statuses, st.integers(min_value=-50, max_value=400)), max_size=30))
def test_random_walks_reach_only_allowed_states_and_never_over_refund(steps: list[tuple[Status, int]]) -> None:
    captured = 300
    status, refunded = Status.CAPTURED, 0
    for target, amount in steps:
        if target in (Status.REFUNDED, Status.PARTIALLY_REFUNDED):
            try:
                new_status, new_refunded = machine.refund_outcome(
                    status=status, captured_yen=captured, refunded_yen=refunded, amount_yen=amount
                )
            except IllegalTransition:
                assert status not in machine.REFUNDABLE or amount <= 0 or refunded + amount > captured
                continue
            assert new_status in TRANSITIONS[status]
            assert new_refunded == refunded + amount
            assert (new_status == Status.REFUNDED) == (new_refunded == captured)
            status, refunded = new_status, new_refunded
        else:
            try:
                new_status = machine.check_transition(status, target)
            except IllegalTransition:
                assert target not in TRANSITIONS[status]
                continue
            status = new_status
        assert 0 <= refunded <= captured


EVENTS = [e for e in EventType if e != EventType.OTHER]
OPS = st.one_of(
    st.tuples(st.just("event"), st.sampled_from([EventType.AUTHORIZED, *EVENTS])),
    st.tuples(st.just("capture"), st.just(0)),
    st.tuples(
        st.just("refund"),
        st.just("rest") | st.integers(min_value=1, max_value=150) | st.integers(min_value=-10, max_value=400),
    ),
)


# Half the sequences start by paying, so that captures and refunds are exercised too.
PAID_FIRST = [("event", EventType.AUTHORIZED), ("capture", 0)]
SEQUENCES = st.tuples(st.booleans(), st.lists(OPS, max_size=12)).map(lambda t: (PAID_FIRST if t[0] else []) + t[1])


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=SEQUENCES)
def test_services_apply_only_legal_transitions(resident: Any, ops: list[tuple[str, Any]]) -> None:
    payment = make_payment(resident)
    settled = 0
    for n, (kind, arg) in enumerate(ops):
        before = Payment.objects.get(pk=payment.pk)
        if kind == "event":
            event = WebhookEvent(
                event_id=f"{payment.pk}-{n}", type=arg, provider_reference=payment.provider_reference, amount=300
            )
            payment_apply_event(provider="sandbox", event=event)
            recorded = PaymentEvent.objects.get(provider="sandbox", event_id=event.event_id)
            # Keep the provider's side in step, as the provider itself would be.
            charge = SandboxCharge.objects.filter(reference=payment.provider_reference)
            if arg == EventType.AUTHORIZED:
                charge.filter(state="open").update(state="authorized")
            elif arg == EventType.CAPTURED and recorded.outcome == PaymentEvent.Outcome.APPLIED:
                charge.update(state="captured", captured_yen=300)
            if recorded.outcome == PaymentEvent.Outcome.REFUSED:
                after = Payment.objects.get(pk=payment.pk)
                assert (after.status, after.refunded_yen) == (before.status, before.refunded_yen)
        else:
            amount = before.refundable_yen if arg == "rest" else arg
            if kind == "capture":
                legal = before.status in (Status.AUTHORIZED, Status.CAPTURED)
            else:
                legal = before.status in machine.REFUNDABLE and 0 < amount <= before.refundable_yen
            try:
                if kind == "capture":
                    payment_capture(payment=Payment.objects.get(pk=payment.pk), actor=None)
                else:
                    payment_refund(payment=Payment.objects.get(pk=payment.pk), amount_yen=amount, actor=None)
            except (IllegalTransition, ProviderError):
                assert not legal
                after = Payment.objects.get(pk=payment.pk)
                assert (after.status, after.refunded_yen, after.captured_yen) == (
                    before.status,
                    before.refunded_yen,
                    before.captured_yen,
                )
            else:
                assert legal
                after = Payment.objects.get(pk=payment.pk)
                if kind == "refund":
                    assert after.refunded_yen == before.refunded_yen + amount
                else:
                    assert (after.status, after.captured_yen) == (Status.CAPTURED, after.amount_yen)
        after = Payment.objects.get(pk=payment.pk)
        assert after.status == before.status or after.status in TRANSITIONS[Status(before.status)]
        assert 0 <= after.refunded_yen <= after.captured_yen <= after.amount_yen
        if after.settled_at is not None and before.settled_at is None:
            settled += 1
        if before.settled_at is not None:
            assert after.settled_at == before.settled_at
    assert settled <= 1
    note_event(f"final status: {Payment.objects.get(pk=payment.pk).status}")
