"""System checks (``manage.py check``) for the reservations app's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured


def check_local_government_code(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``WARD_LOCAL_GOVERNMENT_CODE`` must be a 全国地方公共団体コード (or empty):
    the open data files carry it in their first column."""
    from madoguchi.reservations.opendata import local_government_code

    try:
        local_government_code(str(getattr(settings, "WARD_LOCAL_GOVERNMENT_CODE", "")))
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Use the 6-digit code with its check digit, e.g. 131032.", id="reservations.E001")]
    return []
