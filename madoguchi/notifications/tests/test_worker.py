"""End to end with the real task queue: the database backend and ``db_worker``."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_drain, outbox_enqueue
from madoguchi.notifications.tests.conftest import SMTPServer
from madoguchi.notifications.tests.helpers import BODY, SUBJECT, reload

pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)


@pytest.fixture
def db_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_worker_delivers_after_commit_retries_when_refused_and_rollback_enqueues_nothing(
    db_tasks: None, smtp_server: SMTPServer
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        outbox_enqueue(channel="email", to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY)
        raise Boom
    assert OutboxMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == 0

    smtp_server.handler.refuse = 1
    with transaction.atomic():
        message = outbox_enqueue(channel="email", to_address="hanako@example.jp", subject=SUBJECT, body_text=BODY)
    assert DBTaskResult.objects.count() == 1  # enqueued by the commit

    _run_worker()
    pending = reload(message)
    assert pending.status == OutboxMessage.Status.PENDING
    assert pending.attempts == 1
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == pending.next_attempt_at  # a deferred retry, not yet due
    assert retry.args_kwargs["args"] == [message.pk]

    _run_worker()  # the retry is not due: the worker leaves it
    assert reload(message).attempts == 1

    # When it is due the retry is delivered (the drain stands in for time passing).
    assert outbox_drain(now=pending.next_attempt_at).sent == 1
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    _run_worker()  # the deferred task finds the message already sent
    assert reload(message).status == OutboxMessage.Status.SENT
    assert len(smtp_server.handler.received) == 1
    assert smtp_server.handler.attempts == 2
