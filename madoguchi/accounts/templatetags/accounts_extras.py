"""Template helpers of the account pages."""

from __future__ import annotations

import datetime as dt
import math

from django import template

register = template.Library()


@register.filter
def minutes_ceil(value: dt.timedelta | None) -> int:
    """Whole minutes, rounded up (a 14 min 10 s wait reads as 15 minutes)."""
    if value is None:
        return 0
    return max(1, math.ceil(value.total_seconds() / 60))
