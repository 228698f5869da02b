"""The outbox itself: enqueueing inside the caller's transaction, idempotency,
attachments, backoff, claiming, recovery, the tasks and the drain command."""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.notifications import services
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import (
    backoff_delay,
    message_deliver,
    outbox_drain,
    outbox_enqueue,
    outbox_recover_stale,
)
from madoguchi.notifications.tasks import deliver_message, drain_outbox
from madoguchi.notifications.tests.conftest import SMTPServer
from madoguchi.notifications.tests.helpers import BODY, SUBJECT, enqueue_mail, make_user, reload

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = LOCMEM


class Boom(Exception):
    pass


def test_rolled_back_transaction_leaves_no_message_and_sends_nothing(
    smtp_server: SMTPServer, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            outbox_enqueue(
                channel=OutboxMessage.Channel.EMAIL, to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY
            )
            raise Boom
    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert outbox_drain().sent == 0
    assert smtp_server.handler.attempts == 0

    # The same code committed: delivered right after the commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = outbox_enqueue(
                channel=OutboxMessage.Channel.EMAIL, to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY
            )
    assert len(callbacks) == 1
    assert reload(message).status == OutboxMessage.Status.SENT
    assert len(smtp_server.handler.received) == 1


def test_nothing_is_enqueued_before_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    default_task_backend.clear()  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            message = outbox_enqueue(
                channel=OutboxMessage.Channel.EMAIL, to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY
            )
            assert default_task_backend.results == []  # type: ignore[attr-defined]
    results = default_task_backend.results  # type: ignore[attr-defined]
    assert [(r.task.func, r.args) for r in results] == [(deliver_message.func, [message.pk])]
    assert mail.outbox == []  # the request sends nothing itself


def test_same_dedupe_key_twice_gives_one_message_and_one_delivery(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        first = enqueue_mail(dedupe_key="application:42:received")
        second = enqueue_mail(dedupe_key="application:42:received", subject="別の件名")
    assert first.pk == second.pk
    assert second.subject == SUBJECT
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    outbox_drain()
    outbox_drain(now=timezone.now() + dt.timedelta(days=1))
    assert len(mail.outbox) == 1


def test_different_dedupe_keys_and_no_key_give_separate_messages() -> None:
    enqueue_mail(dedupe_key="a")
    enqueue_mail(dedupe_key="b")
    enqueue_mail()
    enqueue_mail()
    assert OutboxMessage.objects.count() == 4


def test_enqueue_outside_a_transaction_is_refused() -> None:
    # The test runs inside a transaction; leave it by pretending we are not.
    from django.db import connection

    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with pytest.raises(RuntimeError):
            outbox_enqueue(channel="email", to_address="a@example.jp", subject="件名", body_text="本文")
    finally:
        connection.in_atomic_block = saved


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channel": "fax", "to_address": "a@example.jp"}, "unknown channel"),
        ({"channel": "email"}, "needs to_address"),
        ({"channel": "inbox"}, "needs a user"),
        ({"channel": "email", "to_address": "a@example.jp", "subject": " \n "}, "subject is required"),
        (
            {"channel": "email", "to_address": "a@example.jp", "attachments": [{"content_type": "text/plain"}]},
            "filename is required",
        ),
        (
            {
                "channel": "email",
                "to_address": "a@example.jp",
                "attachments": [{"filename": "a.txt", "path": "x", "content_base64": "eA=="}],
            },
            "exactly one",
        ),
        (
            {
                "channel": "email",
                "to_address": "a@example.jp",
                "attachments": [{"filename": "a.txt", "content_base64": "@@"}],
            },
            "not valid base64",
        ),
        (
            {
                "channel": "email",
                "to_address": "a@example.jp",
                "attachments": [
                    {"filename": "a.bin", "content_base64": base64.b64encode(b"x" * (256 * 1024 + 1)).decode()}
                ],
            },
            "over",
        ),
    ],
)
def test_invalid_messages_are_refused_at_enqueue(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("subject", SUBJECT)
    kwargs.setdefault("body_text", BODY)
    with pytest.raises(ValueError, match=message), transaction.atomic():
        outbox_enqueue(**kwargs)
    assert OutboxMessage.objects.count() == 0


def test_email_to_a_user_uses_their_address_and_subject_is_one_line() -> None:
    user = make_user(email="taro@example.jp")
    message = enqueue_mail(to_address="", user=user, subject="受付\n完了")
    assert message.to_address == "taro@example.jp"
    assert message.subject == "受付 完了"
    assert message.language == "ja"
    assert message_deliver(message.pk) is not None
    assert mail.outbox[0].to == ["taro@example.jp"]


def test_html_alternative_and_attachments_inline_and_from_storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = str(tmp_path)
    path = default_storage.save("notices/受理通知書.pdf", ContentFile(b"%PDF-1.4 demo"))
    message = enqueue_mail(
        body_html="<p>山田 花子 様</p>",
        attachments=[
            {
                "filename": "受付票.txt",
                "content_type": "text/plain",
                "content_base64": base64.b64encode("受付番号 A-0001".encode()).decode(),
            },
            {"filename": "受理通知書.pdf", "content_type": "application/pdf", "path": path},
        ],
    )
    assert message_deliver(message.pk) is not None
    assert reload(message).status == OutboxMessage.Status.SENT
    sent = mail.outbox[0]
    assert sent.alternatives[0][0] == "<p>山田 花子 様</p>"  # type: ignore[attr-defined]
    names = [attachment[0] for attachment in sent.attachments]
    assert names == ["受付票.txt", "受理通知書.pdf"]
    assert sent.attachments[1][1] == b"%PDF-1.4 demo"


def test_missing_attachment_is_retried_with_an_error_that_names_no_file(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    message = enqueue_mail(
        attachments=[{"filename": "山田花子_住民票.pdf", "content_type": "application/pdf", "path": "gone.pdf"}]
    )
    result = message_deliver(message.pk)
    assert result is not None
    assert result.status == OutboxMessage.Status.PENDING
    assert result.last_error == "DeliveryError: attachment 1 is not in storage"
    assert mail.outbox == []


def test_backoff_doubles_from_thirty_seconds_and_is_capped_at_an_hour() -> None:
    rng = random.Random(7)
    expected = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    for attempts, seconds in enumerate(expected, start=1):
        delay = backoff_delay(attempts, rng=rng).total_seconds()
        assert 0.8 * seconds <= delay <= min(3600, 1.2 * seconds)


@given(attempts=st.integers(min_value=-5, max_value=10_000), seed=st.integers())
def test_backoff_is_always_positive_and_never_over_the_cap(attempts: int, seed: int) -> None:
    delay = backoff_delay(attempts, rng=random.Random(seed)).total_seconds()
    assert 24 <= delay <= 3600


def test_backoff_has_jitter() -> None:
    delays = {backoff_delay(3, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) > 1


def test_a_message_in_sending_is_skipped_and_a_claim_is_taken_once() -> None:
    message = enqueue_mail()
    now = timezone.now()
    assert services._claim(message.pk, now) is True
    assert services._claim(message.pk, now) is False
    assert reload(message).status == OutboxMessage.Status.SENDING
    assert message_deliver(message.pk) is None
    assert outbox_drain().as_dict()["sent"] == 0
    assert mail.outbox == []


def test_message_left_in_sending_by_a_dead_worker_is_recovered_and_sent() -> None:
    message = enqueue_mail()
    now = timezone.now()
    assert services._claim(message.pk, now)
    # Not stale yet.
    assert outbox_recover_stale(now=now + dt.timedelta(minutes=5)) == 0
    later = now + dt.timedelta(minutes=16)
    result = outbox_drain(now=later)
    assert result.recovered == 1
    assert result.sent == 1
    assert len(mail.outbox) == 1
    assert reload(message).attempts == 2


def test_drain_delivers_oldest_due_first_and_respects_the_limit() -> None:
    messages = [enqueue_mail(to_address=f"p{i}@example.jp") for i in range(3)]
    assert outbox_drain(limit=2).sent == 2
    assert [m.to[0] for m in mail.outbox] == ["p0@example.jp", "p1@example.jp"]
    assert outbox_drain().sent == 1
    assert all(reload(m).status == OutboxMessage.Status.SENT for m in messages)


def test_deliver_message_task_and_drain_task(settings: Any) -> None:
    first = enqueue_mail()
    assert deliver_message.call(first.pk) == "sent"
    assert deliver_message.call(first.pk) == "skipped"
    assert deliver_message.call(999_999) == "skipped"
    enqueue_mail()
    assert drain_outbox.call() == {"sent": 1, "retrying": 0, "failed": 0, "skipped": 0, "recovered": 0}
    assert len(mail.outbox) == 2


def test_outbox_drain_command_once_and_in_a_loop() -> None:
    enqueue_mail()
    out = io.StringIO()
    call_command("outbox_drain", stdout=out)
    assert "sent=1" in out.getvalue()
    enqueue_mail()
    out = io.StringIO()
    call_command("outbox_drain", "--loop", "--interval", "0", "--max-runs", "2", stdout=out)
    assert "sent=1" in out.getvalue()
    assert len(mail.outbox) == 2
