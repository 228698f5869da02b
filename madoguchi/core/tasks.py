"""Enqueueing background tasks together with the change they belong to.

With the database task backend (the default) the task row is written in the
caller's transaction, so it exists exactly when the change does and costs no commit
of its own. Other backends (the immediate backend in tests, an external queue) get
the task after the transaction commits, so that a task never sees an uncommitted
change.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def _stores_in_database(task: Any) -> bool:
    backend = task.get_backend()
    module = type(backend).__module__
    return module.startswith("django_tasks_db") or module.startswith("django_tasks.backends.database")


def enqueue_with_change(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task`` as part of the current transaction. Never raises: a failed
    enqueue is logged (the caller's periodic sweep picks the work up) and leaves the
    caller's transaction usable."""

    def enqueue() -> None:
        try:
            with transaction.atomic():  # a savepoint: a failed INSERT spoils nothing else
                task.enqueue(*args, **kwargs)
        except Exception:
            logger.warning("could not enqueue %s%r; the periodic sweep will do it", task.name, args, exc_info=True)

    if transaction.get_connection().in_atomic_block and _stores_in_database(task):
        enqueue()
    else:
        transaction.on_commit(enqueue)
