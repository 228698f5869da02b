"""Template filters of the appointments pages."""

from __future__ import annotations

import datetime as dt

from django import template

from madoguchi.appointments import clock, text

register = template.Library()


@register.filter
def daylabel(value: dt.date | dt.datetime | None) -> str:
    """2026年11月25日（水） (a datetime is taken on the ward's calendar)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = clock.local(value).date()
    return text.day_label(value)


@register.filter
def hhmm(value: dt.datetime | None) -> str:
    return text.time_label(value) if value is not None else ""


@register.filter
def isodate(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""
