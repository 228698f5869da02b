from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.core.crypto import DecryptionError, decrypt_str, derive_key, encrypt_str, rotate


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=200))
def test_encrypt_decrypt_round_trip(text: str) -> None:
    token = encrypt_str(text)
    assert decrypt_str(token) == text
    if len(text) >= 4:
        assert text not in token


def test_same_plaintext_gives_different_tokens() -> None:
    assert encrypt_str("123456789018") != encrypt_str("123456789018")


def test_without_field_key_the_key_is_derived_from_secret_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEY="", SECRET_KEY="one-secret"):
        token = encrypt_str("hello")
        assert Fernet(derive_key("one-secret")).decrypt(token.encode()).decode() == "hello"
    with override_settings(FIELD_ENCRYPTION_KEY="", SECRET_KEY="another-secret"), pytest.raises(DecryptionError):
        decrypt_str(token)


def test_a_fernet_key_is_used_as_given() -> None:
    key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEY=key):
        token = encrypt_str("秘密")
    assert Fernet(key.encode()).decrypt(token.encode()).decode() == "秘密"


def test_key_rotation_old_tokens_still_decrypt_and_rotate_to_the_new_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEY="old-key"):
        old_token = encrypt_str("value")
    with override_settings(FIELD_ENCRYPTION_KEY="new-key, old-key"):
        assert decrypt_str(old_token) == "value"
        new_token = rotate(old_token)
    with override_settings(FIELD_ENCRYPTION_KEY=["new-key"]):
        assert decrypt_str(new_token) == "value"
        with pytest.raises(DecryptionError):
            decrypt_str(old_token)


def test_tampered_token_is_rejected() -> None:
    token = encrypt_str("value")
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(DecryptionError):
        decrypt_str(tampered)
    with pytest.raises(DecryptionError):
        decrypt_str("not a token")
