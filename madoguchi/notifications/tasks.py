"""Background tasks of the notifications app (Django Tasks API, django-tasks backport).

``deliver_message(message_id)`` delivers one outbox message
(``services.message_deliver``); ``outbox_enqueue`` enqueues it when the caller's
transaction commits. ``drain_outbox()`` delivers every due message
(``services.outbox_drain``).

How retries are scheduled. A failed attempt sets the message's ``next_attempt_at``
(exponential backoff with jitter) and then:

* if the task backend supports deferred tasks (``supports_defer``; the database
  backend ``django_tasks_db.DatabaseBackend`` does), it enqueues
  ``deliver_message.using(run_after=next_attempt_at)``. The database worker
  (``manage.py db_worker``) does not pick a task up before its ``run_after``, so the
  retry happens on time with nothing else running;
* in every case the message stays due in the outbox table, where ``outbox_drain``
  finds it. Run ``manage.py outbox_drain --loop --interval 30`` next to the worker (or
  ``outbox_drain`` from cron, or enqueue ``drain_outbox``) as the safety net: it also
  delivers messages whose task was never enqueued (the process died between the
  commit and the enqueue) or was lost, and puts back messages left in ``sending`` by a
  worker that died.

Extra tasks are harmless: every delivery first claims the row (``pending`` and due →
``sending``), so a message is delivered once however many tasks and drains look at
it. ``drain_outbox`` does not re-enqueue itself: a self-rescheduling chain would
multiply if it were ever started twice.
"""

from __future__ import annotations

from django_tasks import task

from madoguchi.notifications import services


@task()
def deliver_message(message_id: int) -> str:
    """Deliver one outbox message; returns its status afterwards (or ``skipped``)."""
    message = services.message_deliver(message_id)
    return "skipped" if message is None else str(message.status)


@task()
def drain_outbox(limit: int = 500) -> dict[str, int]:
    """Deliver every due outbox message; returns the counts."""
    return services.outbox_drain(limit=limit).as_dict()
