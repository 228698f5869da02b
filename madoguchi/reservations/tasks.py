"""Background tasks of the reservations app (Django Tasks API).

``refund_booking(booking_id)`` makes the first attempt to refund a cancelled or
lapsed booking's fee (``services.refunds.booking_refund``); :func:`refund_soon`
enqueues it when the transaction that marked the booking ``refund_due`` commits.
Retries are not enqueued as tasks: the periodic ``reservations_tick`` command tries
every refund whose next attempt has come, including any whose task was lost (the
process stopped between the commit and the enqueue, or the enqueue failed).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_tasks import task

from madoguchi.reservations.services import refunds

logger = logging.getLogger(__name__)


@task()
def refund_booking(booking_id: int) -> str:
    return str(refunds.booking_refund(booking_id=booking_id, actor=None))


def refund_soon(booking_id: int) -> None:
    """Enqueue :func:`refund_booking` once the current transaction commits. Never
    raises: a refund whose task could not be enqueued is tried by the tick."""

    def enqueue() -> None:
        try:
            refund_booking.enqueue(booking_id)
        except Exception:
            logger.warning("could not enqueue the refund of booking %s; the tick tries it", booking_id, exc_info=True)

    transaction.on_commit(enqueue)
