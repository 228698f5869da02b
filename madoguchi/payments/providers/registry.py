"""The registry of payment-provider plugins.

Plugins register themselves when their module is imported (``PaymentsConfig.ready``
imports them)::

    @register("sandbox")
    class SandboxProvider(PaymentProvider): ...

``settings.PAYMENT_DEFAULT_PROVIDER`` (default ``"sandbox"``) is used when a service
is not told which provider to use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings

from madoguchi.payments.providers.base import PaymentProvider

P = TypeVar("P", bound=type[PaymentProvider])

DEFAULT_PROVIDER = "sandbox"


class Registry:
    def __init__(self) -> None:
        self._providers: dict[str, PaymentProvider] = {}

    def __call__(self, identifier: str) -> Callable[[P], P]:
        """Class decorator: register one instance of the class under ``identifier``."""

        def decorator(cls: P) -> P:
            if not identifier or not identifier.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"invalid payment provider id {identifier!r}")
            if identifier in self._providers:
                raise ValueError(f"payment provider {identifier!r} is already registered")
            self._providers[identifier] = cls(identifier)
            return cls

        return decorator

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._providers

    def __getitem__(self, identifier: str) -> PaymentProvider:
        return self._providers[identifier]

    def __iter__(self) -> Iterator[PaymentProvider]:
        return iter(self._providers.values())

    def __len__(self) -> int:
        return len(self._providers)

    def default_id(self) -> str:
        return str(getattr(settings, "PAYMENT_DEFAULT_PROVIDER", DEFAULT_PROVIDER))


register = Registry()
