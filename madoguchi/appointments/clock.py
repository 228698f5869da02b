"""The one place the appointments app asks for the time.

Services and selectors take an optional ``now``; when it is not given they call
``now()`` here. Tests (and the browser journeys, whose live server runs in the same
process) replace this function to fix the time; nothing else reads the clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local_tz() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local(value: dt.datetime) -> dt.datetime:
    """``value`` in the ward's time zone (Asia/Tokyo)."""
    return value.astimezone(local_tz())


def today(at: dt.datetime | None = None) -> dt.date:
    """The ward's calendar date at ``at`` (default: now)."""
    return local(at or now()).date()


def combine(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock time on a day in the ward's time zone, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=local_tz())
