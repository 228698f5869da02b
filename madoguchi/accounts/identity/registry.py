"""The registry of identity-provider plugins.

Plugins register themselves when their module is imported (``AccountsConfig.ready``
imports them)::

    @register("demo")
    class DemoProvider(OIDCProvider): ...

``settings.IDENTITY_PROVIDERS`` lists the ids offered on the login page, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings

from madoguchi.accounts.identity.base import IdentityProvider

P = TypeVar("P", bound=type[IdentityProvider])


class Registry:
    def __init__(self) -> None:
        self._providers: dict[str, IdentityProvider] = {}

    def __call__(self, identifier: str) -> Callable[[P], P]:
        """Class decorator: register one instance of the class under ``identifier``."""

        def decorator(cls: P) -> P:
            if not identifier or not identifier.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"invalid identity provider id {identifier!r}")
            if identifier in self._providers:
                raise ValueError(f"identity provider {identifier!r} is already registered")
            self._providers[identifier] = cls(identifier)
            return cls

        return decorator

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._providers

    def __getitem__(self, identifier: str) -> IdentityProvider:
        return self._providers[identifier]

    def __iter__(self) -> Iterator[IdentityProvider]:
        return iter(self._providers.values())

    def __len__(self) -> int:
        return len(self._providers)

    def enabled(self) -> list[IdentityProvider]:
        """The registered providers named in ``settings.IDENTITY_PROVIDERS``, in that order."""
        return [self._providers[i] for i in settings.IDENTITY_PROVIDERS if i in self._providers]

    def get_enabled(self, identifier: str) -> IdentityProvider:
        """The provider ``identifier`` if it is registered and enabled; ``KeyError`` otherwise."""
        if identifier not in settings.IDENTITY_PROVIDERS or identifier not in self._providers:
            raise KeyError(identifier)
        return self._providers[identifier]


register = Registry()
