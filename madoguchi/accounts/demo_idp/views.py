"""HTTP endpoints of the demo OpenID Provider (see the package docstring)."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.demo_idp import endpoints, keys, services
from madoguchi.accounts.forms import GovFormMixin
from madoguchi.accounts.identity.base import BASIC_FOUR_SCOPES
from madoguchi.accounts.selectors import demo_idp_resident_choices
from madoguchi.core.models import Resident

View = Callable[..., HttpResponseBase]


def demo_enabled(view: View) -> View:
    """404 unless the demo provider may run (``endpoints.demo_allowed``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not endpoints.demo_allowed():
            raise Http404("the demo identity provider is disabled")
        return view(request, *args, **kwargs)

    return wrapper


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


class ConsentForm(GovFormMixin, forms.Form):
    resident = forms.ModelChoiceField(
        label=_("マイナンバーカードの持ち主"),
        queryset=Resident.objects.all(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("カードの持ち主（住民）を選んでください"),
            "invalid_choice": _("カードの持ち主（住民）を選んでください"),
        },
    )


@demo_enabled
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/demo_idp/index.html",
        {
            "issuer": endpoints.issuer(request),
            "discovery_url": endpoints.absolute(request, "accounts:demo_idp_discovery"),
        },
    )


@demo_enabled
@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponseBase:
    params = request.POST if request.method == "POST" else request.GET
    try:
        auth = services.authorization_request_parse(
            params.dict(), allowed_redirect_uris=endpoints.allowed_redirect_uris(request)
        )
    except services.AuthorizationRequestError as exc:
        if exc.redirectable:
            return HttpResponseRedirect(exc.redirect_url())
        return render(request, "accounts/demo_idp/error.html", {"error": exc}, status=400)

    form = ConsentForm()
    if request.method == "POST":
        if request.POST.get("decision") != "allow":
            return HttpResponseRedirect(
                services.append_query(
                    auth.redirect_uri,
                    {"error": "access_denied", "error_description": "the user cancelled", "state": auth.state},
                )
            )
        form = ConsentForm(request.POST)
        if form.is_valid():
            code = services.authorization_code_issue(auth=auth, resident=form.cleaned_data["resident"])
            return HttpResponseRedirect(services.append_query(auth.redirect_uri, {"code": code, "state": auth.state}))

    query = params.get("q", "").strip()[:50]
    selected = str(params.get("resident", ""))
    return render(
        request,
        "accounts/demo_idp/authorize.html",
        {
            "form": form,
            "auth_params": auth.as_params(),
            "residents": demo_idp_resident_choices(query=query),
            "query": query,
            "selected": selected,
            "requested": [s for s in auth.scope.split() if s in BASIC_FOUR_SCOPES and s != "openid"],
        },
        status=400 if form.errors else 200,
    )


def _client_id_from_basic(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return urllib.parse.unquote(decoded.split(":", 1)[0])


@demo_enabled
@csrf_exempt  # a server-to-server endpoint; the code and PKCE verifier are the credentials
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    basic_client = _client_id_from_basic(request)
    client_id = basic_client if basic_client is not None else request.POST.get("client_id", "")
    try:
        body = services.token_issue(
            issuer=endpoints.issuer(request),
            grant_type=request.POST.get("grant_type", ""),
            code=request.POST.get("code", ""),
            client_id=client_id,
            redirect_uri=request.POST.get("redirect_uri", ""),
            code_verifier=request.POST.get("code_verifier", ""),
        )
    except services.TokenRequestError as exc:
        return _no_store(JsonResponse({"error": exc.error, "error_description": exc.description}, status=exc.status))
    return _no_store(JsonResponse(body))


@demo_enabled
@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(keys.jwks())


@demo_enabled
@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "issuer": endpoints.issuer(request),
            "authorization_endpoint": endpoints.absolute(request, "accounts:demo_idp_authorize"),
            "token_endpoint": endpoints.absolute(request, "accounts:demo_idp_token"),
            "jwks_uri": endpoints.absolute(request, "accounts:demo_idp_jwks"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(BASIC_FOUR_SCOPES),
            "claims_supported": ["sub", "name", "address", "birthdate", "gender"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
        }
    )
