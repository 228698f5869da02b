from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _accounts_test_settings(settings: Any) -> Iterator[None]:
    # Mail tasks run at once (and land in the locmem outbox); fast hashing.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.IDENTITY_PROVIDERS = ["demo"]
    settings.STAFF_REQUIRE_2FA = False
    settings.LANGUAGE_CODE = "ja"
    cache.clear()
    yield
    cache.clear()
