from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def ward(request: HttpRequest) -> dict[str, Any]:
    english = translation.get_language() == "en"
    return {"ward_name": settings.WARD_NAME_EN if english else settings.WARD_NAME}
