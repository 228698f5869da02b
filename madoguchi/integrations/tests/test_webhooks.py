"""Webhooks against a real local HTTP receiver: signed delivery, retries with backoff,
the delivery log, and the transactional outbox around the submit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_transition
from madoguchi.core.models import AuditEvent, Department, User
from madoguchi.integrations import services, webhooks
from madoguchi.integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from madoguchi.integrations.services import (
    webhook_create,
    webhook_deliver_due,
    webhook_delivery_resend,
    webhook_disable,
)

from .conftest import Receiver, staff, submit

ALL_EVENTS = ["application.submitted", "application.status_changed"]


def subscribe(
    url: str, department: str = "kosodate", events: list[str] | None = None
) -> tuple[WebhookSubscription, str]:
    return webhook_create(
        actor=staff("kosodate-kacho"),
        name="基幹系",
        target_url=url,
        departments=[Department.objects.get(code=department)],
        event_types=events or ALL_EVENTS,
    )


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_submit_writes_one_pending_delivery_per_subscription_of_the_department(
    hanako: User, receiver: Receiver
) -> None:
    mine, _ = subscribe(receiver.url)
    other, _ = subscribe(receiver.url, department="kumin")
    only_changes, _ = subscribe(receiver.url, events=["application.status_changed"])
    application = submit(hanako)
    deliveries = list(WebhookDelivery.objects.all())
    assert [d.subscription_id for d in deliveries] == [mine.pk]
    delivery = deliveries[0]
    assert delivery.status == "pending" and delivery.attempts == 0
    assert delivery.event_type == "application.submitted"
    assert delivery.reference_number == application.reference_number
    assert delivery.payload["data"]["reference_number"] == application.reference_number
    assert other.deliveries.count() == 0 and only_changes.deliveries.count() == 0


def test_payload_holds_no_personal_data(hanako: User, receiver: Receiver) -> None:
    subscribe(receiver.url)
    submit(hanako)
    text = json.dumps(WebhookDelivery.objects.get().payload, ensure_ascii=False)
    for personal in ("山田", "ヤマダ", "1988-04-12", "中央一丁目", "hanako@example.jp", "03-1234-5678"):
        assert personal not in text


def test_delivered_with_a_signature_the_receiver_verifies(hanako: User, receiver: Receiver) -> None:
    subscription, secret = subscribe(receiver.url)
    application = submit(hanako)
    result = webhook_deliver_due()
    assert result.delivered == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    delivery = WebhookDelivery.objects.get()
    assert headers["x-madoguchi-event"] == "application.submitted"
    assert headers["x-madoguchi-delivery"] == str(delivery.public_id)
    timestamp = headers["x-madoguchi-timestamp"]
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert headers["x-madoguchi-signature"] == f"sha256={expected}"
    wrong = hmac.new(b"another secret", timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert headers["x-madoguchi-signature"] != f"sha256={wrong}"
    assert webhooks.verify(secret, timestamp, request.body, headers["x-madoguchi-signature"])
    assert not webhooks.verify(secret, timestamp, request.body + b" ", headers["x-madoguchi-signature"])
    assert not webhooks.verify(secret, str(int(timestamp) - 3600), request.body, headers["x-madoguchi-signature"])
    body = request.json()
    assert body["type"] == "application.submitted"
    assert body["data"]["reference_number"] == application.reference_number
    assert body["data"]["procedure"] == "jidoteate" and body["data"]["department"] == "kosodate"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == 200
    assert subscription.secret_encrypted and secret not in subscription.secret_encrypted


def test_a_500_then_200_is_retried_after_a_backoff_and_delivered_once(hanako: User, receiver: Receiver) -> None:
    receiver.statuses = [500, 200]
    subscribe(receiver.url)
    submit(hanako)
    first = webhook_deliver_due()
    assert first.retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code == 500 and delivery.last_error == "HTTP 500"
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 20 <= wait <= 37  # 30 s ± 20 %
    assert webhook_deliver_due().as_dict() == {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    assert webhook_deliver_due(now=later(40)).delivered == 1
    assert webhook_deliver_due(now=later(10_000)).as_dict()["delivered"] == 0
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2 and delivery.last_error == ""
    assert len(receiver.requests) == 2
    ids = {r.headers["X-Madoguchi-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.public_id)}
    assert [a.status_code for a in delivery.attempt_log.order_by("number")] == [500, 200]


def test_a_receiver_that_is_down_is_retried_with_growing_waits_then_failed(hanako: User, dead_url: str) -> None:
    subscribe(dead_url)
    submit(hanako)
    now = timezone.now()
    waits: list[float] = []
    for _attempt in range(4):
        assert webhook_deliver_due(now=now).as_dict()["skipped"] == 0
        delivery = WebhookDelivery.objects.get()
        if delivery.status == "failed":
            break
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 4
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]
    assert 24 <= waits[0] <= 36 and 96 <= waits[2] <= 144
    log = list(delivery.attempt_log.order_by("number"))
    assert [a.number for a in log] == [1, 2, 3, 4]
    assert all(a.status_code is None and "URLError" in a.error for a in log)
    assert "URLError" in delivery.last_error
    failed = AuditEvent.objects.get(action="integrations.webhook_failed")
    assert failed.data["attempts"] == 4
    assert webhook_deliver_due(now=now + dt.timedelta(days=1)).as_dict()["skipped"] == 0
    assert WebhookAttempt.objects.count() == 4


def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(
    hanako: User, receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    subscribe(receiver.url)
    submit(hanako)
    assert webhook_deliver_due().retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert "timed out" in delivery.last_error.lower()


def test_a_redirect_is_not_followed_and_counts_as_a_failure(hanako: User, receiver: Receiver) -> None:
    receiver.statuses = [302]
    subscribe(receiver.url)
    submit(hanako)
    assert webhook_deliver_due().retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 302 and len(receiver.requests) == 1


def test_the_submit_is_not_blocked_by_a_receiver_that_is_down(hanako: User, dead_url: str) -> None:
    subscribe(dead_url)
    application = submit(hanako)
    assert application.status == "submitted" and application.reference_number
    webhook_deliver_due()
    application.refresh_from_db()
    assert application.status == "submitted"
    assert WebhookDelivery.objects.get().status == "pending"


def test_the_submit_is_not_rolled_back_when_queueing_the_webhook_fails(
    hanako: User, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(receiver.url)

    def broken(*args: Any) -> None:
        WebhookDelivery.objects.create(subscription_id=0, event_id="00000000-0000-0000-0000-000000000000")
        raise RuntimeError("webhook table is broken")

    monkeypatch.setattr(services, "_write_deliveries", broken)
    application = submit(hanako)
    assert Application.objects.get(pk=application.pk).status == "submitted"
    assert AuditEvent.objects.filter(action="application.submit", target_id=str(application.pk)).exists()
    assert WebhookDelivery.objects.count() == 0


def test_a_rolled_back_transaction_creates_no_delivery(hanako: User, receiver: Receiver) -> None:
    subscribe(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(hanako)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the business transaction fails after the submit")
    assert WebhookDelivery.objects.count() == 0
    assert not Application.objects.filter(status="submitted").exists()
    webhook_deliver_due()
    assert receiver.requests == []


def test_a_status_change_is_sent_with_the_previous_status(hanako: User, receiver: Receiver) -> None:
    subscribe(receiver.url)
    application = submit(hanako)
    application_transition(application=application, target="in_review", actor=staff("kosodate-tanto"))
    change = WebhookDelivery.objects.get(event_type="application.status_changed")
    assert change.payload["data"]["status"] == "in_review"
    assert change.payload["data"]["previous_status"] == "submitted"
    assert change.event_id != WebhookDelivery.objects.get(event_type="application.submitted").event_id
    assert webhook_deliver_due().delivered == 2
    assert sorted(r.headers["X-Madoguchi-Event"] for r in receiver.requests) == sorted(ALL_EVENTS)


def test_a_disabled_webhook_sends_nothing_more(hanako: User, receiver: Receiver) -> None:
    subscription, _ = subscribe(receiver.url)
    submit(hanako)
    webhook_disable(actor=staff("kosodate-kacho"), subscription=subscription)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_error == "subscription disabled"
    submit(hanako)
    assert WebhookDelivery.objects.count() == 1
    webhook_deliver_due()
    assert receiver.requests == []


def test_a_failed_delivery_can_be_resent_with_the_same_id(hanako: User, receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    receiver.statuses = [503, 200]
    subscribe(receiver.url)
    submit(hanako)
    assert webhook_deliver_due().failed == 1
    delivery = WebhookDelivery.objects.get()
    resent = webhook_delivery_resend(actor=staff("kosodate-kacho"), delivery=delivery)
    assert resent.status == "pending" and resent.attempts == 0
    assert AuditEvent.objects.filter(action="integrations.webhook_resend").count() == 1
    assert webhook_deliver_due().delivered == 1
    assert [r.headers["X-Madoguchi-Delivery"] for r in receiver.requests] == [str(delivery.public_id)] * 2
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_the_command_delivers_what_is_due(hanako: User, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    subscribe(receiver.url)
    submit(hanako)
    call_command("webhooks_deliver")
    assert "delivered=1" in capsys.readouterr().out
    assert len(receiver.requests) == 1


def test_two_workers_do_not_send_the_same_delivery_twice(hanako: User, receiver: Receiver) -> None:
    subscribe(receiver.url)
    submit(hanako)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    assert services._claim(delivery.pk, now)
    assert not services._claim(delivery.pk, now)
    assert services.webhook_deliver(delivery.pk, now=now) is None
    assert receiver.requests == []


def test_the_commit_enqueues_a_prompt_delivery_task(
    hanako: User, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        submit(hanako)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "delivered"


def test_the_command_loop_stops_after_max_runs(hanako: User, receiver: Receiver) -> None:
    subscribe(receiver.url)
    submit(hanako)
    call_command("webhooks_deliver", loop=True, max_runs=1, interval=0, verbosity=0)
    assert len(receiver.requests) == 1
