"""Shared pytest fixtures: the real catalog data, loaded once per test database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings


def _import_catalog() -> None:
    from madoguchi.catalog.importer import catalog_import

    catalog_import(directory=settings.CATALOG_DIR)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        _import_catalog()
    yield


@pytest.fixture
def catalog(db: Any) -> None:
    """The real catalog (procedures.yaml, life_events.yaml); re-imported if a
    transactional test flushed it."""
    from madoguchi.catalog.models import Procedure

    if not Procedure.objects.exists():
        _import_catalog()


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Tests create many accounts; a fast hasher keeps them quick (never in production).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test process keeps its own cache, so parallel workers do not share state.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
