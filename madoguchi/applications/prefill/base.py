"""The contract of a prefill source."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise

from madoguchi.core.models import User


class PrefillSource:
    """Subclasses set ``priority`` (lower is asked first) and ``label`` (shown next to
    a prefilled field) and implement ``values``."""

    priority: ClassVar[int] = 100
    label: ClassVar[str | Promise] = ""

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier

    def values(self, user: User) -> dict[str, Any]:
        """Raw values (as a resident would type them: strings, ISO dates, ``{family,
        given}`` parts) keyed by prefill key. Must not raise for missing data: leave
        the key out instead."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"
