"""Filters of the e-approval pages: the short date of an electronic stamp, hours and
rates in the report."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone, translation

from madoguchi.core.japanese import format_wareki

register = template.Library()


@register.filter
def stamp_date(value: dt.date | dt.datetime | None) -> str:
    """The date as a date stamp shows it: 令8.11.23 (English pages: 2026-11-23)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    if translation.get_language() == "en":
        return value.isoformat()
    wareki = format_wareki(value)  # 令和8年11月23日
    era_year = wareki.split("年", 1)[0]
    return f"{era_year[0]}{era_year[2:]}.{value.month}.{value.day}"


@register.filter
def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
