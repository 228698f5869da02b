"""Template filters of the resident portal."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from madoguchi.core.templatetags.madoguchi import wareki

register = template.Library()


@register.filter
def local_wareki(value: dt.datetime | None) -> str:
    """A timestamp as the 和暦 date and time in the ward's time zone
    (令和8年1月2日 14:05), or the English date and time on English pages."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{wareki(local.date())} {local:%H:%M}"
