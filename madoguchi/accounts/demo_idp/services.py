"""What the demo OpenID Provider does: check authorization requests, issue codes,
redeem them for ID tokens. See the package docstring for the rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from madoguchi.accounts.demo_idp import endpoints, keys
from madoguchi.accounts.identity.pkce import random_token, verify_s256
from madoguchi.accounts.models import DemoAuthorizationCode
from madoguchi.core.models import Resident

CODE_LIFETIME = dt.timedelta(seconds=60)
ID_TOKEN_LIFETIME = dt.timedelta(minutes=5)
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class AuthorizationRequestError(Exception):
    """A bad authorization request. ``redirectable`` is False when ``client_id`` or
    ``redirect_uri`` is wrong: then the error is shown, never sent anywhere."""

    def __init__(self, error: str, description: str, *, redirectable: bool, redirect_uri: str = "", state: str = ""):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirectable = redirectable
        self.redirect_uri = redirect_uri
        self.state = state

    def redirect_url(self) -> str:
        params = {"error": self.error, "error_description": self.description}
        if self.state:
            params["state"] = self.state
        return append_query(self.redirect_uri, params)


class TokenRequestError(Exception):
    """An OAuth token error response (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str

    def as_params(self) -> dict[str, str]:
        """The request as query parameters (carried through the consent form)."""
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


def append_query(url: str, params: Mapping[str, str]) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}{urllib.parse.urlencode(params)}"


def authorization_request_parse(params: Mapping[str, str], *, allowed_redirect_uris: set[str]) -> AuthorizationRequest:
    """Check an authorization request; raise :class:`AuthorizationRequestError`."""
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if client_id != endpoints.DEMO_CLIENT_ID:
        raise AuthorizationRequestError("unauthorized_client", "unknown client_id", redirectable=False)
    if redirect_uri not in allowed_redirect_uris:
        raise AuthorizationRequestError("invalid_request", "redirect_uri is not registered", redirectable=False)

    state = params.get("state", "")

    def fail(error: str, description: str) -> AuthorizationRequestError:
        return AuthorizationRequestError(error, description, redirectable=True, redirect_uri=redirect_uri, state=state)

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "only response_type=code is supported")
    scope = params.get("scope", "")
    if "openid" not in scope.split():
        raise fail("invalid_scope", "the openid scope is required")
    if not state:
        raise fail("invalid_request", "state is required")
    nonce = params.get("nonce", "")
    if not nonce or len(nonce) > 200:
        raise fail("invalid_request", "nonce is required")
    if params.get("code_challenge_method") != "S256":
        raise fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
    code_challenge = params.get("code_challenge", "")
    if not _CHALLENGE.match(code_challenge):
        raise fail("invalid_request", "code_challenge is missing or malformed")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope[:200],
        state=state,
        nonce=nonce,
        code_challenge=code_challenge,
    )


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def authorization_code_issue(*, auth: AuthorizationRequest, resident: Resident) -> str:
    """Store a new code for ``resident`` and return it (it is not kept in clear)."""
    code = random_token(32)
    now = timezone.now()
    DemoAuthorizationCode.objects.filter(expires_at__lt=now - dt.timedelta(hours=1)).delete()
    DemoAuthorizationCode.objects.create(
        code_hash=_hash_code(code),
        client_id=auth.client_id,
        redirect_uri=auth.redirect_uri,
        scope=auth.scope,
        nonce=auth.nonce,
        code_challenge=auth.code_challenge,
        resident=resident,
        issued_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    return code


def subject_for(resident: Resident) -> str:
    """A stable, opaque ``sub`` per resident (no registry number leaks out)."""
    return salted_hmac("madoguchi.accounts.demo_idp.sub", resident.resident_number, algorithm="sha256").hexdigest()[:40]


def id_token_claims(*, issuer: str, row: DemoAuthorizationCode, now: dt.datetime) -> dict[str, Any]:
    resident = row.resident
    scopes = set(row.scope.split())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject_for(resident),
        "aud": row.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": int(row.issued_at.timestamp()),
        "nonce": row.nonce,
        "acr": "aal3",
    }
    if "name" in scopes:
        claims["name"] = f"{resident.family_name}\u3000{resident.given_name}"
    if "address" in scopes:
        household = resident.household
        claims["address"] = {"formatted": household.address, "postal_code": household.postal_code}
    if "birthdate" in scopes:
        claims["birthdate"] = resident.birth_date.isoformat()
    if "gender" in scopes:
        claims["gender"] = resident.sex
    return claims


def token_issue(
    *, issuer: str, grant_type: str, code: str, client_id: str, redirect_uri: str, code_verifier: str
) -> dict[str, Any]:
    """Redeem an authorization code; raise :class:`TokenRequestError`.

    A code is marked used by the first attempt to redeem it, whatever the outcome,
    so a stolen code cannot be tried again with other verifiers."""
    if grant_type != "authorization_code":
        raise TokenRequestError("unsupported_grant_type", "only authorization_code is supported")
    if client_id != endpoints.DEMO_CLIENT_ID:
        raise TokenRequestError("invalid_client", "unknown client_id", status=401)
    if not code:
        raise TokenRequestError("invalid_request", "code is required")
    now = timezone.now()
    code_hash = _hash_code(code)
    with transaction.atomic():
        claimed = DemoAuthorizationCode.objects.filter(code_hash=code_hash, used_at__isnull=True).update(used_at=now)
        row = DemoAuthorizationCode.objects.select_related("resident__household").filter(code_hash=code_hash).first()
    if row is None:
        raise TokenRequestError("invalid_grant", "unknown code")
    if not claimed:
        raise TokenRequestError("invalid_grant", "code was already used")
    if row.expires_at <= now:
        raise TokenRequestError("invalid_grant", "code has expired")
    if row.client_id != client_id:
        raise TokenRequestError("invalid_grant", "code was issued to another client")
    if row.redirect_uri != redirect_uri:
        raise TokenRequestError("invalid_grant", "redirect_uri does not match the authorization request")
    if not verify_s256(code_verifier, row.code_challenge):
        raise TokenRequestError("invalid_grant", "code_verifier does not match code_challenge")

    key = keys.signing_key_get()
    id_token = jwt.encode(
        id_token_claims(issuer=issuer, row=row, now=now),
        keys.private_key(key),
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    return {
        "access_token": random_token(32),
        "token_type": "Bearer",
        "expires_in": int(ID_TOKEN_LIFETIME.total_seconds()),
        "scope": row.scope,
        "id_token": id_token,
    }
