"""Staff pages of the integration with core systems (基幹系).

API keys and webhooks: for a 課長 (or higher) of the departments they cover; anyone else
gets 403, and a key or webhook of another department is 404. A new key or webhook
secret is shown once, on the page right after it is made (kept in the session only
until that page is shown). Export: for any staff member of the procedure's department.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.integrations import selectors, services
from madoguchi.integrations.forms import MYNUMBER_PERMISSION, ApiKeyForm, ExportForm, WebhookForm
from madoguchi.integrations.models import ApiKey, WebhookDelivery, WebhookSubscription

SECTION = "integrations"
NEW_SECRET = "integrations_new_secret"  # noqa: S105 - a session key name, not a secret


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _manager(request: HttpRequest) -> User:
    user = _user(request)
    if not selectors.departments_managed_by(user).exists():
        raise PermissionDenied("課長 or higher required")
    return user


def _remember_secret(request: HttpRequest, kind: str, ident: str, secret: str) -> None:
    request.session[NEW_SECRET] = {"kind": kind, "id": ident, "secret": secret}


def _pop_secret(request: HttpRequest, kind: str, ident: str) -> str | None:
    stored = request.session.pop(NEW_SECRET, None)
    if not isinstance(stored, dict) or stored.get("kind") != kind or stored.get("id") != ident:
        return None
    return str(stored.get("secret") or "") or None


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "integrations/home.html",
        {
            "staff_section": SECTION,
            "can_manage": selectors.departments_managed_by(user).exists(),
            "can_export": selectors.departments_exportable_by(user).exists(),
        },
    )


# -- API keys ----------------------------------------------------------------------------
@staff_required
def api_keys(request: HttpRequest) -> HttpResponseBase:
    user = _manager(request)
    form = ApiKeyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        key, raw = services.api_key_create(
            actor=user,
            name=form.cleaned_data["name"],
            departments=list(form.cleaned_data["departments"]),
            can_view_mynumber=form.cleaned_data["can_view_mynumber"],
        )
        _remember_secret(request, "api_key", str(key.pk), raw)
        return redirect("integrations:api_key_created", key_id=key.pk)
    return render(
        request,
        "integrations/api_keys.html",
        {"staff_section": SECTION, "form": form, "keys": selectors.api_key_list_for_staff(user)},
        status=400 if form.errors else 200,
    )


@never_cache
@staff_required
def api_key_created(request: HttpRequest, key_id: int) -> HttpResponseBase:
    user = _manager(request)
    try:
        key = selectors.api_key_get_for_staff(user, key_id)
    except ApiKey.DoesNotExist:
        raise Http404 from None
    secret = _pop_secret(request, "api_key", str(key.pk))
    if secret is None:
        messages.info(
            request, _("キーは作成時に一度だけ表示します。分からなくなった場合は失効させて作り直してください。")
        )
        return redirect("integrations:api_keys")
    return render(
        request,
        "integrations/api_key_created.html",
        {
            "staff_section": SECTION,
            "key": key,
            "secret": secret,
            "api_url": request.build_absolute_uri("/api/v1/cases"),
        },
    )


@require_POST
@staff_required
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponseBase:
    user = _manager(request)
    try:
        key = selectors.api_key_get_for_staff(user, key_id)
    except ApiKey.DoesNotExist:
        raise Http404 from None
    services.api_key_revoke(actor=user, key=key)
    messages.success(request, _("APIキー「%(name)s」を失効させました。") % {"name": key.name})
    return redirect("integrations:api_keys")


# -- webhooks ----------------------------------------------------------------------------
@staff_required
def webhooks(request: HttpRequest) -> HttpResponseBase:
    user = _manager(request)
    form = WebhookForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.webhook_create(
                actor=user,
                name=form.cleaned_data["name"],
                target_url=form.cleaned_data["target_url"],
                departments=list(form.cleaned_data["departments"]),
                event_types=form.cleaned_data["event_types"],
            )
        except services.InvalidInput:
            form.add_error("target_url", _("http:// または https:// で始まるURLを入力してください。"))
        else:
            _remember_secret(request, "webhook", str(subscription.public_id), secret)
            return redirect("integrations:webhook_created", public_id=subscription.public_id)
    return render(
        request,
        "integrations/webhooks.html",
        {"staff_section": SECTION, "form": form, "subscriptions": selectors.webhook_list_for_staff(user)},
        status=400 if form.errors else 200,
    )


def _webhook(user: User, public_id: uuid.UUID) -> WebhookSubscription:
    try:
        return selectors.webhook_get_for_staff(user, public_id)
    except WebhookSubscription.DoesNotExist:
        raise Http404 from None


@never_cache
@staff_required
def webhook_created(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    user = _manager(request)
    subscription = _webhook(user, public_id)
    secret = _pop_secret(request, "webhook", str(subscription.public_id))
    if secret is None:
        return redirect("integrations:webhook_detail", public_id=subscription.public_id)
    return render(
        request,
        "integrations/webhook_created.html",
        {"staff_section": SECTION, "subscription": subscription, "secret": secret},
    )


@staff_required
def webhook_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _manager(request)
    subscription = _webhook(user, public_id)
    return render(
        request,
        "integrations/webhook_detail.html",
        {
            "staff_section": SECTION,
            "subscription": subscription,
            "deliveries": selectors.delivery_list_for_webhook(subscription),
        },
    )


@require_POST
@staff_required
def webhook_disable(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    user = _manager(request)
    subscription = _webhook(user, public_id)
    services.webhook_disable(actor=user, subscription=subscription)
    messages.success(request, _("Webhook「%(name)s」を停止しました。") % {"name": subscription.name})
    return redirect("integrations:webhook_detail", public_id=subscription.public_id)


@require_POST
@staff_required
def delivery_resend(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    user = _manager(request)
    try:
        delivery = selectors.delivery_get_for_staff(user, public_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    try:
        services.webhook_delivery_resend(actor=user, delivery=delivery)
    except services.InvalidInput:
        messages.error(request, _("停止したWebhookの配信は再送できません。"))
    else:
        messages.success(request, _("再送を予約しました。まもなく送信されます。"))
    return redirect(
        reverse("integrations:webhook_detail", kwargs={"public_id": delivery.subscription.public_id})
        + f"#delivery-{delivery.public_id}"
    )


# -- export ------------------------------------------------------------------------------
@staff_required
def export(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    if not selectors.departments_exportable_by(user).exists():
        raise PermissionDenied("staff of a department required")
    include_mynumber = user.has_perm(MYNUMBER_PERMISSION)
    form = ExportForm(request.POST or None, user=user)
    if request.method == "POST":
        code = request.POST.get("procedure", "")
        if code and Procedure.objects.filter(code=code).exists():
            try:
                selectors.export_procedure_get(user, code)
            except Procedure.DoesNotExist:
                raise Http404 from None
        if form.is_valid():
            procedure = selectors.export_procedure_get(user, form.cleaned_data["procedure"])
            result = services.applications_export(
                actor=user,
                procedure=procedure,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                fmt=form.cleaned_data["fmt"],
                include_mynumber=include_mynumber,
            )
            response = HttpResponse(result.content, content_type=result.content_type)
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            response["Cache-Control"] = "no-store"
            return response
    context: dict[str, Any] = {"staff_section": SECTION, "form": form, "include_mynumber": include_mynumber}
    return render(request, "integrations/export.html", context, status=400 if form.errors else 200)
