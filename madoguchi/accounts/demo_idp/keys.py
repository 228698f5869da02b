"""The demo provider's RS256 signing key: generated once, kept in the database."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from jwt.algorithms import RSAAlgorithm

from madoguchi.accounts.models import DemoSigningKey

KEY_SIZE = 2048


def _generate() -> tuple[str, str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = hashlib.sha256(public_der).hexdigest()[:32]
    return kid, pem


def signing_key_get() -> DemoSigningKey:
    """The current key, created on first use. Concurrent first calls end with one key."""
    key = DemoSigningKey.objects.order_by("created_at", "pk").first()
    if key is not None:
        return key
    kid, pem = _generate()
    try:
        with transaction.atomic():
            DemoSigningKey.objects.create(pk=1, kid=kid, private_key_pem=pem)
    except IntegrityError:
        pass  # another process created it first
    return DemoSigningKey.objects.order_by("created_at", "pk").first() or DemoSigningKey.objects.get(pk=1)


def private_key(key: DemoSigningKey) -> rsa.RSAPrivateKey:
    loaded = serialization.load_pem_private_key(key.private_key_pem.encode("ascii"), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise TypeError("the demo signing key is not an RSA key")
    return loaded


def jwks() -> dict[str, Any]:
    key = signing_key_get()
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key(key).public_key(), as_dict=True)
    jwk.update({"kid": key.kid, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}
