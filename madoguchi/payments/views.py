"""Pages and endpoints of payments.

* ``webhook``: where providers notify madoguchi (server to server). Thin: the
  provider plugin checks the signature, ``services.payment_handle_webhook`` applies the
  event. 200 when the event is applied, was already applied or changes nothing; 409
  when the state machine refuses it (the provider may retry); 400 for a bad signature
  or body; 404 for an unknown provider.
* ``sandbox_pay``: the sandbox provider's hosted payment page (test cards, no JavaScript).
* ``payment_return``: where the resident lands after paying; it only shows the state
  that the webhook recorded.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.payments.forms import SandboxPayForm
from madoguchi.payments.machine import Status
from madoguchi.payments.models import SandboxCharge
from madoguchi.payments.providers import sandbox
from madoguchi.payments.providers.base import InvalidWebhook, ProviderError
from madoguchi.payments.selectors import payment_get_for_payer
from madoguchi.payments.services import UnknownProvider, WebhookOutcome, payment_handle_webhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        result = payment_handle_webhook(provider=provider, request=request)
    except UnknownProvider as exc:
        raise Http404 from exc
    except InvalidWebhook as exc:
        logger.warning("payment webhook from %s refused: %s", provider, exc)
        return JsonResponse({"detail": "invalid notification"}, status=400)
    status = 409 if result.outcome == WebhookOutcome.REFUSED else 200
    return JsonResponse({"outcome": result.outcome.value}, status=status)


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, reference: str) -> HttpResponseBase:
    if not sandbox.sandbox_allowed():
        raise Http404
    charge = SandboxCharge.objects.filter(reference=reference).first()
    if charge is None:
        raise Http404
    form = SandboxPayForm(request.POST if request.method == "POST" else None)
    error = ""
    if charge.state != SandboxCharge.State.OPEN:
        return _back(request, charge.cancel_url if charge.state == SandboxCharge.State.CANCELLED else charge.return_url)
    if form.is_valid():
        try:
            url = sandbox.sandbox_decide(
                reference=reference, choice=form.cleaned_data["choice"], webhook_url=sandbox.webhook_url(request)
            )
        except ProviderError as exc:
            logger.warning("sandbox could not notify madoguchi: %s", exc)
            error = "delivery"
        else:
            return _back(request, url)
    return render(
        request,
        "payments/sandbox_pay.html",
        {"charge": charge, "form": form, "delivery_failed": error == "delivery"},
        status=502 if error else 200,
    )


def _back(request: HttpRequest, url: str) -> HttpResponseBase:
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        raise Http404
    return redirect(url)


@login_required
def payment_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    payment = payment_get_for_payer(user=request.user, public_id=public_id)
    return render(request, "payments/return.html", {"payment": payment, "Status": Status})
