"""PKCE (RFC 7636) with the S256 method, and the random values of an OIDC flow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random string (used for ``state``, ``nonce`` and codes)."""
    return secrets.token_urlsafe(nbytes)


def new_code_verifier() -> str:
    """A high-entropy ``code_verifier``: 64 random bytes → 86 characters (43–128 allowed)."""
    return secrets.token_urlsafe(64)


def code_challenge_s256(code_verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_valid_code_verifier(code_verifier: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return 43 <= len(code_verifier) <= 128 and set(code_verifier) <= allowed


def verify_s256(code_verifier: str, code_challenge: str) -> bool:
    if not is_valid_code_verifier(code_verifier):
        return False
    return hmac.compare_digest(code_challenge_s256(code_verifier), code_challenge)
