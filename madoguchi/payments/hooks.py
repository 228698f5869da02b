"""Reacting to a payment that is settled (authorized or captured).

The app that owns what is paid for registers a callback for its ``purpose``::

    from madoguchi.payments.hooks import on_payment_settled

    @on_payment_settled("application")
    def submit_paid_application(payment: Payment) -> None:
        application_submit_paid(application_id=payment.object_id)

``services`` calls the callbacks of ``payment.purpose`` exactly once per payment: when
it first becomes authorized or captured, inside the same transaction that records the
change and sets ``Payment.settled_at``. Duplicate or retried webhooks find
``settled_at`` set and call nothing; if a callback raises, the whole change rolls back
and the provider's retry tries again. Callbacks must therefore only write to the
database (queue anything that leaves the process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from madoguchi.payments.models import Payment

SettledCallback: TypeAlias = "Callable[[Payment], None]"


class SettledHooks:
    def __init__(self) -> None:
        self._callbacks: dict[str, list[SettledCallback]] = {}

    def __call__(self, purpose: str) -> Callable[[SettledCallback], SettledCallback]:
        """Decorator: call the function when a payment for ``purpose`` is settled."""

        def decorator(callback: SettledCallback) -> SettledCallback:
            self.connect(purpose, callback)
            return callback

        return decorator

    def connect(self, purpose: str, callback: SettledCallback) -> None:
        callbacks = self._callbacks.setdefault(purpose, [])
        if callback not in callbacks:
            callbacks.append(callback)

    def disconnect(self, purpose: str, callback: SettledCallback) -> None:
        if callback in self._callbacks.get(purpose, []):
            self._callbacks[purpose].remove(callback)

    def callbacks(self, purpose: str) -> list[SettledCallback]:
        return list(self._callbacks.get(purpose, []))

    def run(self, payment: Payment) -> None:
        for callback in self.callbacks(payment.purpose):
            callback(payment)


on_payment_settled = SettledHooks()
