"""The sandbox provider: the default, and it works offline.

It plays the part of a card payment company inside madoguchi, so the whole flow runs
on a laptop with nothing configured:

* ``create`` records a :class:`~madoguchi.payments.models.SandboxCharge` and sends the
  resident to the sandbox's hosted page ``/payments/sandbox/pay/<reference>/``, which
  shows the amount and offers test cards: approved, declined by the card company, or
  cancel.
* On submit the page notifies madoguchi exactly as a real provider would: an HTTP POST
  over the network (``urllib``) to ``/payments/webhook/sandbox/``, signed with
  HMAC-SHA256 (header ``X-Sandbox-Signature: t=<unix time>,v1=<hex>``, computed over
  ``"<t>." + raw body``). Then it sends the resident back to ``return_url`` (or
  ``cancel_url``). The server must therefore be able to reach itself at the address of
  the request and serve two requests at once.
* ``capture``, ``authorize`` and ``refund`` change the sandbox's local state.

The secret is ``settings.PAYMENT_SANDBOX_SECRET`` if set, else derived from
``SECRET_KEY``. The sandbox refuses to run with ``MADOGUCHI_ENV=production``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from madoguchi.payments.providers.base import (
    CreateResult,
    EventType,
    InvalidSignature,
    InvalidWebhook,
    PaymentProvider,
    ProviderError,
    WebhookEvent,
)
from madoguchi.payments.providers.registry import register

if TYPE_CHECKING:
    from madoguchi.payments.models import Payment, SandboxCharge

SIGNATURE_HEADER = "X-Sandbox-Signature"
#: A signature older (or newer) than this many seconds is refused.
SIGNATURE_TOLERANCE = 300
DELIVERY_TIMEOUT = 10

#: The test cards on the sandbox page: choice → (event sent, sandbox state).
CHOICES: dict[str, tuple[EventType, str]] = {
    "approve": (EventType.AUTHORIZED, "authorized"),
    "decline": (EventType.FAILED, "declined"),
    "cancel": (EventType.CANCELLED, "cancelled"),
}


def sandbox_allowed() -> bool:
    return settings.MADOGUCHI_ENV != "production"


def webhook_secret() -> bytes:
    configured = getattr(settings, "PAYMENT_SANDBOX_SECRET", "")
    if configured:
        return str(configured).encode()
    return salted_hmac("madoguchi.payments.sandbox", "webhook-secret", algorithm="sha256").hexdigest().encode()


def sign(body: bytes, timestamp: int | None = None) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(webhook_secret(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(body: bytes, header: str | None, now: float | None = None) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` is a fresh signature of ``body``."""
    if not header:
        raise InvalidSignature("missing signature header")
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("malformed signature header") from exc
    if abs((time.time() if now is None else now) - timestamp) > SIGNATURE_TOLERANCE:
        raise InvalidSignature("signature timestamp outside the tolerance")
    expected = hmac.new(webhook_secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise InvalidSignature("signature does not match")


def event_body(charge: SandboxCharge, event_type: EventType) -> bytes:
    """The JSON body of a notification about ``charge``. The event id is fixed per
    charge and type, so a resent notification is recognisably the same event."""
    event = {
        "id": f"evt_{charge.reference}_{event_type.value}",
        "type": f"payment.{event_type.value}",
        "reference": charge.reference,
        "amount": charge.amount_yen,
        "currency": "JPY",
    }
    return json.dumps(event, separators=(",", ":")).encode()


def deliver(url: str, body: bytes) -> None:
    """POST a signed notification to madoguchi's webhook endpoint over HTTP."""
    if not url.startswith(("http://", "https://")):
        raise ProviderError("webhook URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)}
    )
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ProviderError(f"webhook answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ProviderError(f"webhook delivery failed: {exc}") from exc
    if not 200 <= status < 300:
        raise ProviderError(f"webhook answered HTTP {status}")


def webhook_url(request: HttpRequest) -> str:
    configured = getattr(settings, "PAYMENT_SANDBOX_WEBHOOK_URL", "")
    if configured:
        return str(configured)
    return request.build_absolute_uri(reverse("payments:webhook", args=["sandbox"]))


def sandbox_decide(*, reference: str, choice: str, webhook_url: str) -> str:
    """The resident chose a test card on the sandbox page: notify madoguchi, then
    return the URL to send the browser to.

    The notification is delivered before the sandbox records the decision, so if the
    delivery fails the page can be submitted again; a second delivery carries the same
    event id and changes nothing. A charge already decided just sends the browser back.
    """
    from madoguchi.payments.models import SandboxCharge

    event_type, new_state = CHOICES[choice]
    charge = SandboxCharge.objects.get(reference=reference)
    if charge.state != SandboxCharge.State.OPEN:
        return charge.cancel_url if charge.state == SandboxCharge.State.CANCELLED else charge.return_url
    deliver(webhook_url, event_body(charge, event_type))
    SandboxCharge.objects.filter(pk=charge.pk, state=SandboxCharge.State.OPEN).update(state=new_state)
    return charge.cancel_url if choice == "cancel" else charge.return_url


@register("sandbox")
class SandboxProvider(PaymentProvider):
    verbose_name = _("サンドボックス（テスト用）")

    def _charge(self, payment: Payment) -> SandboxCharge:
        from madoguchi.payments.models import SandboxCharge

        try:
            return SandboxCharge.objects.select_for_update().get(reference=payment.provider_reference)
        except SandboxCharge.DoesNotExist as exc:
            raise ProviderError("unknown sandbox reference") from exc

    def create(self, payment: Payment, return_url: str, cancel_url: str) -> CreateResult:
        from madoguchi.payments.models import SandboxCharge

        if not sandbox_allowed():
            raise ProviderError("the sandbox payment provider never runs in production")
        charge = SandboxCharge.objects.create(
            reference=f"sbx_{secrets.token_urlsafe(18)}",
            amount_yen=payment.amount_yen,
            description=payment.description,
            return_url=return_url,
            cancel_url=cancel_url,
        )
        return CreateResult(
            provider_reference=charge.reference,
            redirect_url=reverse("payments:sandbox_pay", args=[charge.reference]),
        )

    def authorize(self, payment: Payment, amount: int) -> None:
        with transaction.atomic():
            charge = self._charge(payment)
            if charge.state != charge.State.OPEN or amount != charge.amount_yen:
                raise ProviderError(f"cannot authorize a {charge.state} sandbox charge for {amount}")
            charge.state = charge.State.AUTHORIZED
            charge.save(update_fields=["state"])

    def capture(self, payment: Payment, amount: int) -> None:
        with transaction.atomic():
            charge = self._charge(payment)
            if charge.state == charge.State.CAPTURED and charge.captured_yen == amount:
                return  # the same capture again: nothing to do
            if charge.state != charge.State.AUTHORIZED or not 0 < amount <= charge.amount_yen:
                raise ProviderError(f"cannot capture {amount} of a {charge.state} sandbox charge")
            charge.state = charge.State.CAPTURED
            charge.captured_yen = amount
            charge.save(update_fields=["state", "captured_yen"])

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        # The sandbox's state lives in madoguchi's database, so it commits or rolls back
        # with the service's transaction; ``idempotency_key`` needs no bookkeeping here.
        with transaction.atomic():
            charge = self._charge(payment)
            if charge.state != charge.State.CAPTURED or not 0 < amount <= charge.captured_yen - charge.refunded_yen:
                raise ProviderError(f"cannot refund {amount} of a {charge.state} sandbox charge")
            charge.refunded_yen += amount
            charge.save(update_fields=["refunded_yen"])
        return f"rf_{secrets.token_urlsafe(12)}"

    def parse_webhook(self, request: HttpRequest) -> WebhookEvent:
        body = request.body
        verify(body, request.headers.get(SIGNATURE_HEADER))
        try:
            data: Any = json.loads(body)
            event_id = str(data["id"])
            kind = str(data["type"])
            reference = str(data["reference"])
            amount = data.get("amount")
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("malformed sandbox notification") from exc
        if not isinstance(data, dict) or (amount is not None and not isinstance(amount, int)):
            raise InvalidWebhook("malformed sandbox notification")
        name = kind.removeprefix("payment.")
        event_type = EventType(name) if name in EventType.__members__.values() else EventType.OTHER
        return WebhookEvent(
            event_id=event_id, type=event_type, provider_reference=reference, amount=amount, payload=data
        )
