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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
