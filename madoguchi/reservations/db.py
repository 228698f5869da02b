"""Retrying a transaction that SQLite refused with "database table is locked".

PostgreSQL makes a second writer wait for the row lock; SQLite with its usual file
database makes it wait too (``busy_timeout``). But connections that share one
in-memory database (SQLite's shared-cache mode: the test database, several threads)
get an immediate ``database table is locked`` error instead of waiting. A service
whose whole work is one transaction can simply run again, so ``retry_on_lock`` does
that, on SQLite only and only outside an enclosing transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")

ATTEMPTS = 200
PAUSE_SECONDS = 0.01


def retry_on_lock(work: Callable[[], T]) -> T:
    for _attempt in range(ATTEMPTS):
        try:
            return work()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or connection.in_atomic_block or "locked" not in str(exc):
                raise
            time.sleep(PAUSE_SECONDS)
    return work()
