"""Delivery through a real SMTP server on 127.0.0.1 (aiosmtpd): a server that refuses
or is not listening delays a message but never loses it, never sends it twice, and
never makes the code that enqueued it fail."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from madoguchi.core.audit import audit_verify
from madoguchi.core.models import AuditEvent
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import message_deliver, outbox_drain, outbox_enqueue, outbox_retry_now
from madoguchi.notifications.tasks import deliver_message
from madoguchi.notifications.tests.conftest import SMTPServer
from madoguchi.notifications.tests.helpers import BODY, SUBJECT, enqueue_mail, reload

pytestmark = pytest.mark.django_db

NOTHING = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0, "recovered": 0}


def _assert_no_content_in(text: str) -> None:
    assert SUBJECT not in text
    assert "山田" not in text
    assert "受付番号" not in text


def test_mail_is_kept_while_the_server_refuses_and_sent_once_when_it_accepts(smtp_server: SMTPServer) -> None:
    smtp_server.handler.refuse = 2
    message = enqueue_mail()
    start = timezone.now()

    assert outbox_drain(now=start).retrying == 1
    first = OutboxMessage.objects.get(pk=message.pk)
    assert first.status == OutboxMessage.Status.PENDING
    assert first.attempts == 1
    assert start + dt.timedelta(seconds=24) <= first.next_attempt_at <= start + dt.timedelta(seconds=36)
    assert first.last_error.startswith("SMTPDataError: 451")
    _assert_no_content_in(first.last_error)
    assert smtp_server.handler.received == []

    # Not due yet: a drain in between leaves it alone.
    assert outbox_drain(now=start + dt.timedelta(seconds=10)).as_dict() == NOTHING
    assert smtp_server.handler.attempts == 1

    assert outbox_drain(now=first.next_attempt_at).retrying == 1
    second = OutboxMessage.objects.get(pk=message.pk)
    assert second.attempts == 2
    delay = second.next_attempt_at - first.next_attempt_at
    assert dt.timedelta(seconds=48) <= delay <= dt.timedelta(seconds=72)  # backoff doubled, with jitter

    assert outbox_drain(now=second.next_attempt_at).sent == 1
    sent = reload(message)
    assert sent.status == OutboxMessage.Status.SENT
    assert sent.attempts == 3
    assert sent.sent_at is not None
    assert sent.last_error == ""

    assert smtp_server.handler.attempts == 3
    assert len(smtp_server.handler.received) == 1
    envelope = smtp_server.handler.received[0]
    assert envelope.rcpt_tos == ["hanako@example.jp"]
    received = smtp_server.handler.messages()[0]
    assert received["Subject"].strip() == SUBJECT  # folded header: the parser keeps the fold's space
    assert received["To"] == "hanako@example.jp"
    assert received["Content-Language"] == "ja"
    assert f"madoguchi.outbox.{message.pk}." in received["Message-ID"]
    body = received.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == BODY  # CRLF on the wire

    # Nothing is sent again, however often the outbox is drained.
    assert outbox_drain(now=start + dt.timedelta(days=2)).as_dict() == NOTHING
    assert message_deliver(message.pk, now=start + dt.timedelta(days=2)) is None
    assert len(smtp_server.handler.received) == 1


def test_each_failed_attempt_enqueues_a_deferred_retry_task(smtp_server: SMTPServer) -> None:
    smtp_server.handler.refuse = 1
    message = enqueue_mail()
    default_task_backend.clear()  # type: ignore[attr-defined]
    outbox_drain()
    pending = reload(message)
    results = default_task_backend.results  # type: ignore[attr-defined]
    assert len(results) == 1
    assert results[0].task.func is deliver_message.func
    assert results[0].args == [message.pk]
    assert results[0].task.run_after == pending.next_attempt_at


def test_mail_is_kept_while_nothing_listens_and_sent_when_the_server_comes_up(smtp_server_down: SMTPServer) -> None:
    message = enqueue_mail()
    assert outbox_drain().retrying == 1
    pending = reload(message)
    assert pending.status == OutboxMessage.Status.PENDING
    assert pending.attempts == 1
    assert pending.last_error.startswith("ConnectionRefusedError")
    assert pending.next_attempt_at > timezone.now()

    smtp_server_down.start()
    assert outbox_drain(now=pending.next_attempt_at).sent == 1
    assert reload(message).status == OutboxMessage.Status.SENT
    assert len(smtp_server_down.handler.received) == 1
    assert smtp_server_down.handler.messages()[0]["Subject"].strip() == SUBJECT


def test_message_becomes_failed_and_audited_after_the_last_attempt_and_can_be_retried(
    smtp_server: SMTPServer, settings: Any
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    smtp_server.handler.refuse = 1000
    message = enqueue_mail()
    now = timezone.now()
    for attempt in range(1, 4):
        outbox_drain(now=now)
        message = reload(message)
        assert message.attempts == attempt
        now = message.next_attempt_at
    assert message.status == OutboxMessage.Status.FAILED
    assert smtp_server.handler.attempts == 3

    events = AuditEvent.objects.filter(action="notifications.delivery_failed", target_id=str(message.pk))
    assert events.count() == 1
    event = events.get()
    assert event.target_type == "notifications.outboxmessage"
    assert event.data["attempts"] == 3
    assert event.data["error"].startswith("SMTPDataError: 451")
    _assert_no_content_in(json.dumps(event.data, ensure_ascii=False))
    assert audit_verify()[1] == []

    # Failed for good: no more attempts.
    assert outbox_drain(now=now + dt.timedelta(days=30)).as_dict() == NOTHING
    assert smtp_server.handler.attempts == 3

    # Staff send it again once the server works.
    smtp_server.handler.refuse = 0
    with transaction.atomic():
        assert outbox_retry_now(message_ids=[message.pk], actor=None) == 1
    retried = reload(message)
    assert retried.status == OutboxMessage.Status.PENDING
    assert retried.attempts == 0
    assert outbox_drain().sent == 1
    assert len(smtp_server.handler.received) == 1
    assert AuditEvent.objects.filter(action="notifications.retry_requested", target_id=str(message.pk)).exists()


def test_failed_delivery_never_raises_into_the_code_that_enqueued(
    smtp_server_down: SMTPServer, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The immediate backend runs the delivery task right after the commit, in the
    # same process: the worst case for the caller.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = outbox_enqueue(
                channel=OutboxMessage.Channel.EMAIL, to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY
            )
    assert len(callbacks) == 1
    pending = reload(message)
    assert pending.status == OutboxMessage.Status.PENDING
    assert pending.attempts == 1
    assert pending.last_error.startswith("ConnectionRefusedError")


class ExplodingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise RuntimeError(f"backend bug while sending {email_messages[0].subject} {email_messages[0].body}")


def test_unexpected_errors_are_recorded_without_the_message_content(settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.ExplodingBackend"
    message = enqueue_mail()
    result = message_deliver(message.pk)
    assert result is not None
    assert result.status == OutboxMessage.Status.PENDING
    assert result.last_error == "RuntimeError"


def test_signup_succeeds_while_the_mail_server_is_down_and_the_mail_arrives_later(
    client: Client, smtp_server_down: SMTPServer, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    password = "Hikkoshi-no-Kisetsu-77"
    response = client.post(
        reverse("accounts:signup"), {"email": "hanako@example.jp", "password1": password, "password2": password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup_done")
    message = OutboxMessage.objects.get(to_address="hanako@example.jp")
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert mail.outbox == []

    smtp_server_down.start()
    assert outbox_drain(now=message.next_attempt_at).sent == 1
    received = smtp_server_down.handler.messages()
    assert len(received) == 1
    assert "メールアドレスの確認" in str(received[0]["Subject"])
    body = received[0].get_body(("plain",))
    assert body is not None
    assert "/accounts/verify/" in body.get_content()
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_a_message_being_sent_by_one_worker_is_skipped_by_another(smtp_server: SMTPServer) -> None:
    smtp_server.handler.hold = True
    message = enqueue_mail()
    outcome: dict[str, Any] = {}

    def first_worker() -> None:
        try:
            outcome["result"] = message_deliver(message.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert smtp_server.handler.entered.wait(10), "the first worker never reached the SMTP server"
        assert reload(message).status == OutboxMessage.Status.SENDING
        # A second worker and a drain, while the first is talking to the server:
        assert message_deliver(message.pk) is None
        assert outbox_drain().as_dict() == NOTHING
    finally:
        smtp_server.handler.release.set()
        thread.join(10)
    assert outcome["result"] is not None
    assert outcome["result"].status == OutboxMessage.Status.SENT
    assert len(smtp_server.handler.received) == 1
    assert reload(message).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_connection_is_skipped_not_waited_for(smtp_server: SMTPServer) -> None:
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("the database has no SELECT … FOR UPDATE SKIP LOCKED (SQLite); the claim covers it there")
    message = enqueue_mail()
    locked = threading.Event()
    done = threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=message.pk)
                locked.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert locked.wait(10)
        assert message_deliver(message.pk) is None  # returns at once instead of blocking
        assert outbox_drain().as_dict() == NOTHING | {"skipped": 1}
    finally:
        done.set()
        thread.join(10)
    assert smtp_server.handler.attempts == 0
    assert outbox_drain().sent == 1
    assert len(smtp_server.handler.received) == 1
