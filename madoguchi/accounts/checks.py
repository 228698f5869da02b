"""System checks of the accounts app (run by ``manage.py check`` and ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register("security")
def identity_provider_checks(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    production = settings.MADOGUCHI_ENV == "production"
    if production and "demo" in settings.IDENTITY_PROVIDERS:
        messages.append(
            Error(
                "The demo identity provider lets anyone log in as any resident.",
                hint='Set IDENTITY_PROVIDERS to "oidc" (or leave it empty) in production.',
                id="accounts.E001",
            )
        )
    if "oidc" in settings.IDENTITY_PROVIDERS:
        missing = [
            name
            for name in (
                "OIDC_ISSUER",
                "OIDC_AUTHORIZATION_ENDPOINT",
                "OIDC_TOKEN_ENDPOINT",
                "OIDC_JWKS_URI",
                "OIDC_CLIENT_ID",
            )
            if not getattr(settings, name, "")
        ]
        if missing:
            messages.append(
                Error(
                    f"IDENTITY_PROVIDERS includes oidc but {', '.join(missing)} is not set.",
                    id="accounts.E002",
                )
            )
    if production and not settings.STAFF_REQUIRE_2FA:
        messages.append(
            Warning(
                "Staff can log in without two-factor authentication.",
                hint="Set STAFF_REQUIRE_2FA=true.",
                id="accounts.W001",
            )
        )
    return messages
