"""The contract of a payment-provider plugin.

A payment provider takes card (or other) payments for madoguchi. The flow is that of
a hosted payment page, which every Japanese card acquirer offers:

1. ``services.payment_start`` calls :meth:`PaymentProvider.create` with the payment
   and the two URLs the resident comes back to; the provider answers with its own
   reference for the payment and the URL of its payment page. The payment becomes
   ``pending`` and the resident's browser is redirected there.
2. The resident pays (or is declined, or cancels) on the provider's page. The
   provider then **notifies madoguchi server to server**: an HTTP POST to
   ``/payments/webhook/<provider id>/``. :meth:`PaymentProvider.parse_webhook` checks
   the signature and turns the request into a :class:`WebhookEvent`;
   ``services.payment_handle_webhook`` applies it once, however many times it is
   delivered. The browser's return to ``return_url`` only *shows* the result: it never
   changes the payment, because a browser can be closed or a URL forged.
3. Staff (or the procedure, when the certificate is issued) capture an authorized
   payment with :meth:`PaymentProvider.capture`, and refund with
   :meth:`PaymentProvider.refund`.

Every method raises :class:`ProviderError` (or a subclass) for anything that went
wrong. Messages are for logs: they never contain card data or personal data.
Providers never see card numbers in madoguchi: the card is entered on their page.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest
from django.utils.functional import Promise

if TYPE_CHECKING:
    from madoguchi.payments.models import Payment


class ProviderError(Exception):
    """The provider could not do what was asked. Base class of every plugin error."""


class InvalidWebhook(ProviderError):
    """A webhook request that is not a well-formed notification from this provider."""


class InvalidSignature(InvalidWebhook):
    """The webhook's signature is missing, stale, or does not match the body."""


class EventType(enum.StrEnum):
    """What a notification says happened. Providers map their own event names to these;
    anything else is :attr:`OTHER` and is recorded but changes nothing."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    OTHER = "other"


@dataclass(frozen=True)
class CreateResult:
    """The provider's reference for the new payment and the page to send the resident to."""

    provider_reference: str
    redirect_url: str


@dataclass(frozen=True)
class WebhookEvent:
    """One notification. ``event_id`` is unique per provider and the same on every
    redelivery; ``amount`` is in yen when the provider sends one. ``payload`` is kept
    for the record and must not contain card data."""

    event_id: str
    type: EventType
    provider_reference: str
    amount: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(ABC):
    """One payment company.

    Subclasses are registered with ``@register("<id>")`` (see ``registry.py``); the
    registry makes one instance per id, so instances keep no per-request state. Read
    settings when a method is called, never at import time.
    """

    #: Shown to staff, e.g. 「サンドボックス（テスト用）」.
    verbose_name: ClassVar[str | Promise] = ""

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"

    @abstractmethod
    def create(self, payment: Payment, return_url: str, cancel_url: str) -> CreateResult:
        """Register ``payment`` (amount, description; ``payment.idempotency_key`` may be
        passed on as the provider's idempotency key) and return the provider's
        reference and the URL of its payment page. After paying the provider sends the
        resident to ``return_url``; after cancelling, to ``cancel_url``."""

    @abstractmethod
    def authorize(self, payment: Payment, amount: int) -> None:
        """Reserve ``amount`` yen without the hosted page (e.g. a stored card). Most
        flows authorize on the payment page and never call this."""

    @abstractmethod
    def capture(self, payment: Payment, amount: int) -> None:
        """Take ``amount`` yen of an authorized payment."""

    @abstractmethod
    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        """Give back ``amount`` yen of a captured payment; return the provider's refund
        reference. A repeated call with the same ``idempotency_key`` must not refund twice."""

    @abstractmethod
    def parse_webhook(self, request: HttpRequest) -> WebhookEvent:
        """Check the signature of a webhook request over its raw body and return the
        event. Raises :class:`InvalidSignature` for a bad or missing signature and
        :class:`InvalidWebhook` for a body that cannot be understood."""
