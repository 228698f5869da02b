"""Background tasks of the accounts app (Django Tasks API, django-tasks backport).

Mail is rendered in the request (in the person's language) and handed to the worker
as a ``send_email`` task. With the database backend the task row is written in the
same transaction as the change that caused the mail: no mail for a change that
rolled back, and no change without its mail.

The worker puts the mail into the notifications outbox
(``notifications.services.outbox_enqueue``, one message per address, keyed by the
task's id so that a task run twice queues it once) and makes the first delivery
attempt at once. From there the outbox owns it: a mail server that refuses or is
down delays the mail with retries and backoff, and it is never lost (see
``madoguchi.notifications.services``)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import TaskContext, task

from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import message_deliver, outbox_enqueue


@task(takes_context=True)
def send_email(context: TaskContext, *, subject: str, body: str, to: list[str], language: str = "") -> list[int]:
    """Queue the mail in the outbox and try to deliver it; returns the outbox ids."""
    ids: list[int] = []
    with transaction.atomic():
        for address in to:
            message = outbox_enqueue(
                channel=OutboxMessage.Channel.EMAIL,
                to_address=address,
                subject=subject,
                body_text=body,
                language=language or None,
                dedupe_key=f"accounts.send_email:{context.task_result.id}:{address.lower()}",
                schedule=False,
            )
            ids.append(message.pk)
    for message_id in ids:
        # A failure is recorded on the message and retried by the outbox; None means
        # there was nothing to do here (already sent, or being sent elsewhere).
        message_deliver(message_id)
    return ids
