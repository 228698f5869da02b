"""The plugin registry shared by every kind of plugin (identity providers, payment
providers, …): each kind keeps one ``register = <Kind>Registry()`` and plugins
register themselves with it as a class decorator::

    @register("demo")
    class DemoProvider(IdentityProvider): ...

One instance of each plugin class is made, with its id; ids are checked and unique.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound=type[Any])


class PluginRegistry(Generic[T]):
    kind = "plugin"

    def __init__(self) -> None:
        self._plugins: dict[str, T] = {}

    def __call__(self, identifier: str) -> Callable[[C], C]:
        """Class decorator: register one instance of the class under ``identifier``."""

        def decorator(cls: C) -> C:
            if not identifier or not identifier.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"invalid {self.kind} id {identifier!r}")
            if identifier in self._plugins:
                raise ValueError(f"{self.kind} {identifier!r} is already registered")
            self._plugins[identifier] = cls(identifier)
            return cls

        return decorator

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._plugins

    def __getitem__(self, identifier: str) -> T:
        return self._plugins[identifier]

    def __iter__(self) -> Iterator[T]:
        return iter(self._plugins.values())

    def __len__(self) -> int:
        return len(self._plugins)
