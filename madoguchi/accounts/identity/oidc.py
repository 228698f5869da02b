"""The generic OpenID Connect client: authorization code flow with PKCE (S256).

Configured with ``OIDC_ISSUER``, ``OIDC_AUTHORIZATION_ENDPOINT``,
``OIDC_TOKEN_ENDPOINT``, ``OIDC_JWKS_URI``, ``OIDC_CLIENT_ID`` and (for a confidential
client) ``OIDC_CLIENT_SECRET``, sent with HTTP Basic (``client_secret_basic``).
Without a secret the client is public and relies on PKCE alone.

``exchange_code`` POSTs the code and ``code_verifier`` to the token endpoint, takes
the ``id_token`` from the answer, fetches the provider's JWKS (cached for
``JWKS_CACHE_SECONDS``, fetched again when the token names an unknown ``kid``) and
validates the token with PyJWT: signature, ``iss``, ``aud`` (and ``azp`` when there are
several audiences), ``exp``/``iat`` and ``nonce``. The 基本4情報 are read from the ID
token claims ``name``, ``address`` (a string or an OIDC address object with
``formatted``), ``birthdate`` (YYYY-MM-DD) and ``gender``.

The demo provider (``demo.py``) subclasses this and only changes where the endpoints
are, so the demo exercises exactly this code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar

import jwt
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.identity.base import (
    IdentityClaims,
    IdentityConfigurationError,
    IdentityProtocolError,
    IdentityProvider,
    IdentityTokenError,
)
from madoguchi.accounts.identity.registry import register

logger = logging.getLogger(__name__)

JWKS_CACHE_SECONDS = 300
ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256"]
CLOCK_SKEW_SECONDS = 60
MAX_RESPONSE_BYTES = 1_000_000

_MALE = {"male", "m", "1", "男", "男性"}
_FEMALE = {"female", "f", "2", "女", "女性"}


@dataclass(frozen=True)
class OIDCConfig:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret: str = ""


def _check_url(url: str) -> str:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise IdentityConfigurationError(f"not an http(s) URL: {url!r}")
    return url


def _read_json(request: urllib.request.Request, timeout: float) -> tuple[int, Any]:
    """Send ``request``; return (status, parsed JSON body). HTTP errors that carry a
    JSON body (as OAuth error responses do) are returned, not raised."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            status, body = response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(MAX_RESPONSE_BYTES)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise IdentityProtocolError(f"cannot reach {request.full_url}: {exc}") from exc
    try:
        return status, json.loads(body)
    except ValueError as exc:
        raise IdentityProtocolError(f"{request.full_url} answered HTTP {status} without JSON") from exc


def parse_gender(value: object) -> str:
    text = str(value or "").strip().lower()
    if text in _MALE:
        return "male"
    if text in _FEMALE:
        return "female"
    return ""


def parse_address(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("formatted") or "")
    return str(value or "")


def parse_birthdate(value: object) -> dt.date | None:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time zone)
        except ValueError:
            continue
    return None


def claims_from_id_token(provider: str, payload: dict[str, Any]) -> IdentityClaims:
    return IdentityClaims(
        provider=provider,
        subject=str(payload["sub"]),
        name=str(payload.get("name") or ""),
        address=parse_address(payload.get("address")),
        birthdate=parse_birthdate(payload.get("birthdate")),
        gender=parse_gender(payload.get("gender")),
    )


@register("oidc")
class OIDCProvider(IdentityProvider):
    """Any OpenID Provider configured through the ``OIDC_*`` settings."""

    verbose_name = _("マイナンバーカードでログイン（デジタル認証アプリ）")
    http_timeout: ClassVar[float] = 10.0

    # -- configuration -------------------------------------------------------------
    def get_config(self, request: HttpRequest) -> OIDCConfig:
        config = OIDCConfig(
            issuer=settings.OIDC_ISSUER,
            authorization_endpoint=settings.OIDC_AUTHORIZATION_ENDPOINT,
            token_endpoint=settings.OIDC_TOKEN_ENDPOINT,
            jwks_uri=settings.OIDC_JWKS_URI,
            client_id=settings.OIDC_CLIENT_ID,
            client_secret=settings.OIDC_CLIENT_SECRET,
        )
        missing = [
            name
            for name, value in (
                ("OIDC_ISSUER", config.issuer),
                ("OIDC_AUTHORIZATION_ENDPOINT", config.authorization_endpoint),
                ("OIDC_TOKEN_ENDPOINT", config.token_endpoint),
                ("OIDC_JWKS_URI", config.jwks_uri),
                ("OIDC_CLIENT_ID", config.client_id),
            )
            if not value
        ]
        if missing:
            raise IdentityConfigurationError(f"{self.identifier}: missing settings {', '.join(missing)}")
        return config

    # -- step 1: send the browser to the provider ----------------------------------
    def authorization_url(
        self, request: HttpRequest, state: str, nonce: str, code_challenge: str, redirect_uri: str
    ) -> str:
        config = self.get_config(request)
        params = {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        endpoint = _check_url(config.authorization_endpoint)
        separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
        return f"{endpoint}{separator}{urllib.parse.urlencode(params)}"

    # -- step 3: redeem the code and validate the ID token -------------------------
    def exchange_code(
        self, request: HttpRequest, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> IdentityClaims:
        config = self.get_config(request)
        tokens = self.request_tokens(config, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise IdentityProtocolError("token response has no id_token")
        payload = self.validate_id_token(config, id_token, nonce=nonce)
        return claims_from_id_token(self.identifier, payload)

    def request_tokens(self, config: OIDCConfig, *, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": config.client_id,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if config.client_secret:
            pair = (
                f"{urllib.parse.quote(config.client_id, safe='')}:{urllib.parse.quote(config.client_secret, safe='')}"
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        http_request = urllib.request.Request(  # noqa: S310 (scheme checked)
            _check_url(config.token_endpoint),
            data=urllib.parse.urlencode(form).encode("ascii"),
            headers=headers,
            method="POST",
        )
        status, body = _read_json(http_request, self.http_timeout)
        if status != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise IdentityProtocolError(f"token endpoint answered HTTP {status} {error}".strip())
        return body

    def fetch_jwks(self, config: OIDCConfig, *, refresh: bool = False) -> dict[str, Any]:
        key = "accounts:oidc:jwks:" + hashlib.sha256(config.jwks_uri.encode()).hexdigest()
        if not refresh:
            cached = cache.get(key)
            if isinstance(cached, dict):
                return cached
        http_request = urllib.request.Request(  # noqa: S310 (scheme checked)
            _check_url(config.jwks_uri), headers={"Accept": "application/json"}
        )
        status, body = _read_json(http_request, self.http_timeout)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise IdentityProtocolError(f"JWKS endpoint answered HTTP {status} without keys")
        cache.set(key, body, JWKS_CACHE_SECONDS)
        return body

    def signing_key(self, config: OIDCConfig, id_token: str) -> jwt.PyJWK:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise IdentityTokenError(f"malformed ID token: {exc}") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise IdentityTokenError(f"ID token algorithm {header.get('alg')!r} is not allowed")
        kid = header.get("kid")
        for refresh in (False, True):
            try:
                keys = jwt.PyJWKSet.from_dict(self.fetch_jwks(config, refresh=refresh)).keys
            except jwt.PyJWTError as exc:
                raise IdentityProtocolError(f"unusable JWKS: {exc}") from exc
            signing = [k for k in keys if getattr(k, "public_key_use", None) in (None, "sig")]
            if kid is not None:
                matches = [k for k in signing if k.key_id == kid]
            else:
                matches = signing if len(signing) == 1 else []
            if matches:
                return matches[0]
        raise IdentityTokenError(f"no JWKS key for kid {kid!r}")

    def validate_id_token(self, config: OIDCConfig, id_token: str, *, nonce: str) -> dict[str, Any]:
        key = self.signing_key(config, id_token)
        try:
            payload: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=config.client_id,
                issuer=config.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise IdentityTokenError(f"ID token rejected: {exc}") from exc
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != config.client_id:
            raise IdentityTokenError("ID token has several audiences and azp is not this client")
        token_nonce = payload.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise IdentityTokenError("ID token nonce does not match")
        if not str(payload.get("sub") or ""):
            raise IdentityTokenError("ID token has an empty sub")
        return payload
