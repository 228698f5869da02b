"""Hooks through which other apps put their content on the portal's home page.

The portal must not import the apps that build on it (``applications`` uses
``portal.selectors.consent_given``), so they register a provider instead, in their
``AppConfig.ready``::

    from madoguchi.portal import hooks

    hooks.set_applications_provider(applications_for_portal)

The provider receives the logged-in resident's ``User`` and returns what the home
page shows in 「申請」: a sequence of objects, rendered by the template
``portal/_applications.html`` as the context variable ``applications`` (the
applications app may replace that template). Without a provider the list is empty and
the section says 「申請はまだありません」.

Other apps add a whole section to the home page with ``add_home_section_provider``
(e.g. the appointments app's 「窓口・施設の予約」): the provider receives the
resident's ``User`` and returns a ``HomeSection`` (or None to show nothing); the
home page renders each after 「申請」, in the order the apps registered them, as an
``<h2>`` with ``title`` and the section's ``template`` (which gets ``section``; its
own headings at h3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from madoguchi.core.models import User

ApplicationsProvider = Callable[[User], Sequence[Any]]

_providers: dict[str, ApplicationsProvider] = {}


def set_applications_provider(provider: ApplicationsProvider | None) -> ApplicationsProvider | None:
    """Set (or, with None, remove) the provider of the home page's applications;
    return the one it replaces."""
    previous = _providers.get("applications")
    if provider is None:
        _providers.pop("applications", None)
    else:
        _providers["applications"] = provider
    return previous


def applications_for(user: User) -> Sequence[Any]:
    provider = _providers.get("applications")
    return [] if provider is None else provider(user)


@dataclass(frozen=True)
class HomeSection:
    """A section of the portal's home page contributed by another app."""

    key: str  # unique; also the heading's id (``<key>-heading``)
    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


HomeSectionProvider = Callable[[User], HomeSection | None]

_sections: dict[str, HomeSectionProvider] = {}


def add_home_section_provider(key: str, provider: HomeSectionProvider | None) -> None:
    """Register (or, with None, remove) the provider of the home page section ``key``."""
    if provider is None:
        _sections.pop(key, None)
    else:
        _sections[key] = provider


def home_sections_for(user: User) -> list[HomeSection]:
    return [section for provider in _sections.values() if (section := provider(user)) is not None]
