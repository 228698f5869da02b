"""Fixtures for form tests: the real form data files, loaded into the test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from madoguchi.forms.importer import DEFAULT_DIR, forms_import


def data_files() -> list[Path]:
    return sorted(DEFAULT_DIR.glob("*.yaml"))


def load_definition(code: str) -> dict[str, Any]:
    """A form definition from ``forms/data/<code>.yaml`` as plain data."""
    data: dict[str, Any] = yaml.safe_load((DEFAULT_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def online_forms(catalog: None) -> None:
    """The catalog plus every form in forms/data, imported as published versions."""
    forms_import()
