"""The registry of identity-provider plugins.

Plugins register themselves when their module is imported (``AccountsConfig.ready``
imports them)::

    @register("demo")
    class DemoProvider(OIDCProvider): ...

``settings.IDENTITY_PROVIDERS`` lists the ids offered on the login page, in order.
"""

from __future__ import annotations

from django.conf import settings

from madoguchi.accounts.identity.base import IdentityProvider
from madoguchi.core.plugins import PluginRegistry


class Registry(PluginRegistry[IdentityProvider]):
    kind = "identity provider"

    def enabled(self) -> list[IdentityProvider]:
        """The registered providers named in ``settings.IDENTITY_PROVIDERS``, in that order."""
        return [self._plugins[i] for i in settings.IDENTITY_PROVIDERS if i in self._plugins]

    def get_enabled(self, identifier: str) -> IdentityProvider:
        """The provider ``identifier`` if it is registered and enabled; ``KeyError`` otherwise."""
        if identifier not in settings.IDENTITY_PROVIDERS or identifier not in self._plugins:
            raise KeyError(identifier)
        return self._plugins[identifier]


register = Registry()
