"""Addresses and fixed values of the demo OpenID Provider."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

#: The only client the demo server knows: madoguchi itself, a public client (PKCE).
DEMO_CLIENT_ID = "madoguchi-demo"

#: Provider ids whose callback URLs the demo server accepts as ``redirect_uri``.
CALLBACK_PROVIDERS = ("demo", "oidc")


def demo_allowed() -> bool:
    """The demo provider lets anyone log in as any resident, so it runs only when it is
    enabled in ``IDENTITY_PROVIDERS`` and never with ``MADOGUCHI_ENV=production``."""
    return "demo" in settings.IDENTITY_PROVIDERS and settings.MADOGUCHI_ENV != "production"


def absolute(request: HttpRequest, url_name: str) -> str:
    return request.build_absolute_uri(reverse(url_name))


def issuer(request: HttpRequest) -> str:
    """``http(s)://<host>/accounts/demo-idp/`` for the host of ``request``."""
    return absolute(request, "accounts:demo_idp_index")


def allowed_redirect_uris(request: HttpRequest) -> set[str]:
    return {
        request.build_absolute_uri(reverse("accounts:identity_callback", args=[provider]))
        for provider in CALLBACK_PROVIDERS
    }
