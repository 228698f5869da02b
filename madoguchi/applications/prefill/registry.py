"""The registry of prefill sources."""

from __future__ import annotations

from madoguchi.applications.prefill.base import PrefillSource
from madoguchi.core.plugins import PluginRegistry


class Registry(PluginRegistry[PrefillSource]):
    kind = "prefill source"

    def ordered(self) -> list[PrefillSource]:
        return sorted(self, key=lambda source: (source.priority, source.identifier))


register = Registry()
