"""Template filters available in every template (registered as a builtin)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import translation

from madoguchi.core.japanese import format_seireki, format_wareki

register = template.Library()


@register.filter
def wareki(value: dt.date | None) -> str:
    """令和8年11月23日 in Japanese; an ISO-like English date otherwise."""
    if value is None:
        return ""
    if translation.get_language() == "en":
        return value.strftime("%-d %B %Y")
    return format_wareki(value)


@register.filter
def both_calendars(value: dt.date | None) -> str:
    """令和8年11月23日（2026年）: the 和暦 with the 西暦 year for clarity."""
    if value is None:
        return ""
    if translation.get_language() == "en":
        return value.strftime("%-d %B %Y")
    return f"{format_wareki(value)}（{value.year}年）"


@register.filter
def seireki(value: dt.date | None) -> str:
    if value is None:
        return ""
    if translation.get_language() == "en":
        return value.strftime("%Y-%m-%d")
    return format_seireki(value)


@register.filter
def yen(value: int | None) -> str:
    if value is None:
        return ""
    if translation.get_language() == "en":
        return f"¥{value:,}"
    return f"{value:,}円"


@register.simple_tag(takes_context=True)
def localized(context: template.Context, obj: object, field: str) -> str:
    """``obj.<field>_en`` when the page is in English and it is filled, else ``obj.<field>``."""

    def get(name: str) -> object:
        return obj.get(name, "") if isinstance(obj, dict) else getattr(obj, name, "")

    if translation.get_language() == "en":
        english = get(f"{field}_en")
        if english:
            return str(english)
    return str(get(field) or "")
