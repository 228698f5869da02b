"""The registry of payment-provider plugins.

Plugins register themselves when their module is imported (``PaymentsConfig.ready``
imports them)::

    @register("sandbox")
    class SandboxProvider(PaymentProvider): ...

``settings.PAYMENT_DEFAULT_PROVIDER`` (default ``"sandbox"``) is used when a service
is not told which provider to use.
"""

from __future__ import annotations

from django.conf import settings

from madoguchi.core.plugins import PluginRegistry
from madoguchi.payments.providers.base import PaymentProvider

DEFAULT_PROVIDER = "sandbox"


class Registry(PluginRegistry[PaymentProvider]):
    kind = "payment provider"

    def default_id(self) -> str:
        return str(getattr(settings, "PAYMENT_DEFAULT_PROVIDER", DEFAULT_PROVIDER))


register = Registry()
