"""The business calendar of a counter: which days it is open and at which hours.

A counter is closed on a day when the ward office is (``core.japanese.is_closed_day``:
Saturday, Sunday, national holidays from jpholiday, 年末年始 12/29–1/3), when a
``ClosedDay`` without a counter closes the whole ward that day (e.g. 庁舎点検), or
when a ``ClosedDay`` of that counter does. On an open day its ``OpeningHours`` rows
for that weekday give one or more periods; with no row for the weekday it is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q

from madoguchi.appointments import clock
from madoguchi.appointments.models import ClosedDay, Counter, OpeningHours
from madoguchi.core.japanese import is_closed_day


@dataclass(frozen=True)
class Period:
    starts_at: dt.datetime
    ends_at: dt.datetime

    def contains(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.starts_at <= start and end <= self.ends_at


def closed_dates(counter: Counter, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The ward's and the counter's own closed days between ``start`` and ``end``
    (inclusive), with their reasons (weekends and holidays are not listed)."""
    rows = ClosedDay.objects.filter(Q(counter=counter) | Q(counter__isnull=True), date__gte=start, date__lte=end)
    return {row.date: row.reason for row in rows}


def is_open_day(counter: Counter, day: dt.date, *, closed: dict[dt.date, str] | None = None) -> bool:
    if is_closed_day(day):
        return False
    if closed is None:
        closed = closed_dates(counter, day, day)
    return day not in closed


def weekly_hours(counter: Counter) -> dict[int, list[tuple[dt.time, dt.time]]]:
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in OpeningHours.objects.filter(counter=counter).order_by("weekday", "opens"):
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    return hours


def periods_on(
    counter: Counter,
    day: dt.date,
    *,
    hours: dict[int, list[tuple[dt.time, dt.time]]] | None = None,
    closed: dict[dt.date, str] | None = None,
) -> list[Period]:
    """The counter's opening periods on ``day`` (empty on a closed day)."""
    if not is_open_day(counter, day, closed=closed):
        return []
    if hours is None:
        hours = weekly_hours(counter)
    return [
        Period(clock.combine(day, opens), clock.combine(day, closes)) for opens, closes in hours.get(day.weekday(), [])
    ]


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    current = start
    while current <= end:
        yield current
        current += dt.timedelta(days=1)


def slot_times(
    counter: Counter, start: dt.date, end: dt.date, *, minutes: int
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Every ``minutes``-long slot that fits in an opening period between ``start`` and
    ``end`` (inclusive), in order."""
    hours = weekly_hours(counter)
    closed = closed_dates(counter, start, end)
    length = dt.timedelta(minutes=minutes)
    for day in days(start, end):
        for period in periods_on(counter, day, hours=hours, closed=closed):
            begin = period.starts_at
            while begin + length <= period.ends_at:
                yield begin, begin + length
                begin += length


@dataclass(frozen=True)
class OpenCheck:
    """Whether a counter is open for ``starts_at``–``ends_at``; ``reason`` is
    ``closed_day`` or ``outside_hours`` when it is not."""

    ok: bool
    reason: str = ""
    closed_reason: str = ""


def check_open(counter: Counter, starts_at: dt.datetime, ends_at: dt.datetime) -> OpenCheck:
    day = clock.local(starts_at).date()
    closed = closed_dates(counter, day, day)
    if not is_open_day(counter, day, closed=closed):
        return OpenCheck(False, "closed_day", closed.get(day, ""))
    if not any(p.contains(starts_at, ends_at) for p in periods_on(counter, day, closed=closed)):
        return OpenCheck(False, "outside_hours")
    return OpenCheck(True)


def is_open_now(counter: Counter, at: dt.datetime) -> OpenCheck:
    """Whether the counter takes queue tickets at ``at``: an open day, inside one of
    its periods."""
    return check_open(counter, at, at)
