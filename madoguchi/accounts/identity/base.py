"""The contract of an identity-provider plugin.

An identity provider lets a person prove who they are with an outside service. The
shape is OpenID Connect's authorization code flow with PKCE, which is what
デジタル認証アプリ (My Number Card authentication by デジタル庁) uses:

1. ``accounts.views.identity_start`` makes a fresh ``state``, ``nonce`` and PKCE
   ``code_verifier``, keeps them in the session, and redirects the browser to
   ``provider.authorization_url(request, state, nonce, code_challenge, redirect_uri)``.
2. The person authenticates at the provider (with デジタル認証アプリ: reads their My
   Number Card and enters the PIN) and consents to share 基本4情報 (name, address,
   date of birth, sex).
3. The provider sends the browser back to ``/accounts/callback/<id>/?code=…&state=…``.
   The view checks ``state`` against the session and calls
   ``provider.exchange_code(request, code, code_verifier, redirect_uri, nonce)``, which
   redeems the code server to server, validates the ID token (signature, ``iss``,
   ``aud``, ``exp``, ``nonce``) and returns :class:`IdentityClaims`.
4. ``accounts.services.identity_account_resolve`` matches the claims with the resident
   registry and returns the account to log in.

Every method raises :class:`IdentityError` (or a subclass) for anything that went
wrong; the message is for logs and never shown to the person, and never contains
personal data.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from django.http import HttpRequest
from django.utils.functional import Promise

#: Scopes asked for: ``openid`` plus the four basic attributes (基本4情報).
BASIC_FOUR_SCOPES: tuple[str, ...] = ("openid", "name", "address", "birthdate", "gender")


class IdentityError(Exception):
    """Authentication with the provider failed. Base class of every plugin error."""


class IdentityConfigurationError(IdentityError):
    """The provider is not configured (missing endpoint, client id, …)."""


class IdentityProtocolError(IdentityError):
    """The provider answered with an error or with something that is not OIDC."""


class IdentityTokenError(IdentityError):
    """The ID token failed validation (signature, issuer, audience, expiry, nonce)."""


@dataclass(frozen=True)
class IdentityClaims:
    """What the provider vouches for. Values are as the provider sent them, except
    ``gender``, which is mapped to ``core.Resident.Sex`` values (or "" if unknown)."""

    provider: str
    subject: str
    name: str = ""
    address: str = ""
    birthdate: dt.date | None = None
    gender: str = ""

    @property
    def has_basic_four(self) -> bool:
        return bool(self.name and self.address and self.birthdate and self.gender)


class IdentityProvider(ABC):
    """One way to log in with an outside identity service.

    Subclasses are registered with ``@register("<id>")`` (see ``registry.py``); the
    registry creates one instance per id, so instances must not keep per-request
    state. Read settings when a method is called, never at import time.
    """

    #: Shown on the login page, e.g. 「マイナンバーカードでログイン（デジタル認証アプリ）」.
    verbose_name: ClassVar[str | Promise] = ""
    #: Optional note shown under the button (e.g. that this is a demo).
    description: ClassVar[str | Promise] = ""
    scopes: ClassVar[tuple[str, ...]] = BASIC_FOUR_SCOPES

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier!r}>"

    @abstractmethod
    def authorization_url(
        self, request: HttpRequest, state: str, nonce: str, code_challenge: str, redirect_uri: str
    ) -> str:
        """The URL to send the browser to. ``code_challenge`` is the PKCE S256
        challenge; ``state`` and ``nonce`` must be passed on unchanged.

        Raises :class:`IdentityConfigurationError` if the provider cannot be used."""

    @abstractmethod
    def exchange_code(
        self, request: HttpRequest, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> IdentityClaims:
        """Redeem ``code`` (with the PKCE ``code_verifier`` and the same
        ``redirect_uri`` as in the authorization request), validate the ID token
        against ``nonce`` and return the claims.

        Raises :class:`IdentityError` on any failure."""
