"""Submitting an application when its fee is paid (see ``payments.hooks``), and the
documents other apps issue for an application (the cases app's decision notice),
listed on the resident's page of the application without applications importing them::

    from madoguchi.applications.hooks import add_document_provider

    add_document_provider(lambda application: [("決定通知書（PDF）", url)])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from madoguchi.applications.models import Application
from madoguchi.applications.services import PAYMENT_PURPOSE, application_paid
from madoguchi.payments.hooks import on_payment_settled

on_payment_settled(PAYMENT_PURPOSE)(application_paid)


DocumentProvider = Callable[[Application], Sequence[tuple[str, str]]]
_document_providers: list[DocumentProvider] = []


def add_document_provider(provider: DocumentProvider) -> None:
    """Register ``provider``: it returns the (label, URL) pairs of the documents issued
    for an application, shown to its applicant."""
    if provider not in _document_providers:
        _document_providers.append(provider)


def documents_for(application: Application) -> list[tuple[str, str]]:
    return [document for provider in _document_providers for document in provider(application)]
