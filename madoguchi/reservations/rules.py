"""Facility calendars and identity keys, as plain functions.

A facility is closed on a date when its calendar says so (``office``: the ward
office's own closed days from ``madoguchi.core.japanese.is_closed_day``; ``year_end``:
only the 年末年始 closure), on its fixed weekly closing day, or during a
``FacilityClosure``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.utils.translation import gettext as _

from madoguchi.accounts.selectors import normalize_address
from madoguchi.core.japanese import is_closed_day, is_year_end_closure, normalize
from madoguchi.reservations.models import Facility, FacilityClosure


def closed_reason(facility: Facility, date: dt.date, closures: Iterable[FacilityClosure] | None = None) -> str:
    """Why ``facility`` is closed on ``date``; ``""`` when it is open."""
    if closures is None:
        closures = facility.closures.filter(start_date__lte=date, end_date__gte=date)
    for closure in closures:
        if closure.start_date <= date <= closure.end_date:
            return closure.reason or _("臨時休館日")
    if is_year_end_closure(date):
        return _("年末年始の休館日")
    if facility.calendar == Facility.Calendar.OFFICE and is_closed_day(date):
        return _("土日・祝日は休館です")
    if date.weekday() in facility.closed_weekday_set:
        return _("定休日")
    return ""


def is_open(facility: Facility, date: dt.date, closures: Iterable[FacilityClosure] | None = None) -> bool:
    return not closed_reason(facility, date, closures)


def month_start(date: dt.date) -> dt.date:
    return date.replace(day=1)


def next_month(date: dt.date) -> dt.date:
    return (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_days(month: dt.date) -> list[dt.date]:
    start = month_start(month)
    end = next_month(start)
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def person_key(*, name: str, birth_date: dt.date, address: str) -> str:
    """The same real person gives the same key: name without spaces or width
    differences, birth date, address with dash and width variants folded. Hashed, so
    the key itself holds no personal data."""
    text = "|".join([normalize(name), birth_date.isoformat(), normalize_address(address)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resident_key(resident_id: int | None) -> str | None:
    return f"resident:{resident_id}" if resident_id else None
