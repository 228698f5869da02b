"""Field encryption for personal data kept at rest (マイナンバー and the like).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
through ``MultiFernet``, which gives key rotation: the first key encrypts, every key
decrypts, and ``rotate`` re-encrypts a token with the first key.

Keys come from ``settings.FIELD_ENCRYPTION_KEY`` (read at call time, never at import):
a list of keys or one string with keys separated by commas or white space, newest
first. Each key is either a Fernet key (32 url-safe base64 bytes) or any secret text,
from which a Fernet key is derived with HKDF-SHA256. When no key is configured, one
is derived from ``SECRET_KEY`` with HKDF, so the demo works with nothing set; in
production set ``FIELD_ENCRYPTION_KEY`` so that rotating ``SECRET_KEY`` does not make
stored values unreadable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"madoguchi-field-encryption"
_INFO = b"fernet-key-v1"


class DecryptionError(Exception):
    """The token was not made with any configured key, or it was altered."""


def derive_key(secret: str) -> bytes:
    """A Fernet key derived from any secret text with HKDF-SHA256."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


def _as_fernet_key(secret: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(secret.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) == 32 and len(secret) == 44:
        return secret.encode("ascii")
    return derive_key(secret)


def configured_secrets() -> tuple[str, ...]:
    """The configured secrets, newest first; the ``SECRET_KEY`` fallback if none."""
    value: str | Iterable[str] = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    parts = value.replace(",", " ").split() if isinstance(value, str) else [str(v).strip() for v in value]
    secrets = tuple(p for p in parts if p)
    return secrets or (str(settings.SECRET_KEY),)


@lru_cache(maxsize=8)
def _multi(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_as_fernet_key(s)) for s in secrets])


def _fernet() -> MultiFernet:
    return _multi(configured_secrets())


def encrypt_str(plaintext: str) -> str:
    """Encrypt text with the newest key; the token is ASCII and safe to store in JSON."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_str(token: str) -> str:
    """Decrypt a token made by ``encrypt_str`` with any configured key."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("the value cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (after a new key was put first)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("the value cannot be decrypted with the configured keys") from exc
