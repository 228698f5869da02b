"""Hooks through which apps that build on the catalog add actions to a procedure's page
(e.g. 「オンラインで申請する」 from the applications app) without the catalog
depending on them. An app registers a provider in its ``AppConfig.ready``::

    from madoguchi.catalog import hooks

    hooks.add_procedure_action_provider(online_application_action)

A provider receives the ``Procedure`` and returns ``(label, url)`` pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from madoguchi.catalog.models import Procedure

ActionProvider = Callable[[Procedure], Sequence[tuple[str, str]]]

_providers: list[ActionProvider] = []


def add_procedure_action_provider(provider: ActionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def procedure_actions(procedure: Procedure) -> list[tuple[str, str]]:
    return [action for provider in _providers for action in provider(procedure)]
