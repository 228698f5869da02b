"""Background tasks of the integration app (Django Tasks API).

``deliver_webhook(delivery_id)`` sends one webhook delivery
(``services.webhook_deliver``); it is enqueued when the transaction that wrote the
delivery commits, and when staff resend one. Retries are not enqueued as tasks: the
``webhooks_deliver --loop`` command (run by ``./run worker``) sends every delivery whose
``next_attempt_at`` has come, including any whose task was lost.
"""

from __future__ import annotations

from django_tasks import task

from madoguchi.integrations import services


@task()
def deliver_webhook(delivery_id: int) -> str:
    delivery = services.webhook_deliver(delivery_id)
    return "skipped" if delivery is None else str(delivery.status)
