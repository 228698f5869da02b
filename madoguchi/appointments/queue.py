"""The order in which a counter calls its waiting tickets: appointments and walk-ins
share the counter fairly. Pure functions, no database (property-tested).

The rule (``choose_next``):

1. A ticket of an appointment has *priority* when the resident arrived no later than
   the end of the booked slot and the slot starts within ``early`` (default 10
   minutes) from now. Priority tickets go before walk-ins, the earliest slot first
   (then the earliest arrival).
2. But when the last ``max_run`` calls at this counter (default 2) were all priority
   calls and the walk-in who has waited longest has waited more than ``walkin_wait``
   (default 20 minutes), that walk-in is called next. So at most ``max_run``
   appointments go in a row while a walk-in waits longer than that.
3. Everyone else (walk-ins, appointments that arrived after their slot ended, and
   appointments that came early, until their slot is near) is called in the order
   they joined the queue (``queued_at``; a ticket moved from another counter keeps
   the time it first joined).

``predicted_order`` applies the rule repeatedly to give the order in which the waiting
tickets will be called if nobody else arrives; the ticket page shows a resident's
position in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_RUN = 2
DEFAULT_WALKIN_WAIT = dt.timedelta(minutes=20)
DEFAULT_EARLY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket, as the rule sees it."""

    id: int
    queued_at: dt.datetime
    slot_start: dt.datetime | None = None  # appointments only
    slot_end: dt.datetime | None = None

    @property
    def is_appointment(self) -> bool:
        return self.slot_start is not None and self.slot_end is not None

    def has_priority(self, now: dt.datetime, *, early: dt.timedelta = DEFAULT_EARLY) -> bool:
        if self.slot_start is None or self.slot_end is None:
            return False
        return self.queued_at <= self.slot_end and now >= self.slot_start - early


@dataclass(frozen=True)
class Rule:
    max_run: int = DEFAULT_MAX_RUN
    walkin_wait: dt.timedelta = DEFAULT_WALKIN_WAIT
    early: dt.timedelta = DEFAULT_EARLY


def _priority_key(c: Candidate) -> tuple[dt.datetime, dt.datetime, int]:
    assert c.slot_start is not None  # noqa: S101 - only priority candidates
    return (c.slot_start, c.queued_at, c.id)


def _fifo_key(c: Candidate) -> tuple[dt.datetime, int]:
    return (c.queued_at, c.id)


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    priority: bool  # called as a priority appointment (counts towards the run)


def choose_next(
    waiting: Sequence[Candidate], *, priority_run: int, now: dt.datetime, rule: Rule | None = None
) -> Choice | None:
    """The ticket to call next, or None when nobody waits. ``priority_run`` is how many
    of the counter's latest calls in a row were priority calls."""
    rule = rule or Rule()
    if not waiting:
        return None
    priority = sorted((c for c in waiting if c.has_priority(now, early=rule.early)), key=_priority_key)
    regular = sorted((c for c in waiting if not c.has_priority(now, early=rule.early)), key=_fifo_key)
    if not priority:
        return Choice(regular[0], False)
    if not regular:
        return Choice(priority[0], True)
    longest_wait = now - regular[0].queued_at
    if priority_run >= rule.max_run and longest_wait > rule.walkin_wait:
        return Choice(regular[0], False)
    return Choice(priority[0], True)


def predicted_order(
    waiting: Sequence[Candidate], *, priority_run: int, now: dt.datetime, rule: Rule | None = None
) -> list[Choice]:
    """The order in which ``waiting`` would be called from ``now`` on if nobody else
    joined (time is held at ``now``): ``choose_next`` applied until nobody is left.
    With the time held, each list keeps its own order, so this is a merge of the two
    sorted lists (n log n) instead of n calls of ``choose_next``."""
    rule = rule or Rule()
    priority = sorted((c for c in waiting if c.has_priority(now, early=rule.early)), key=_priority_key)
    regular = sorted((c for c in waiting if not c.has_priority(now, early=rule.early)), key=_fifo_key)
    order: list[Choice] = []
    run = priority_run
    p = r = 0
    while p < len(priority) or r < len(regular):
        owed = r < len(regular) and run >= rule.max_run and now - regular[r].queued_at > rule.walkin_wait
        if p < len(priority) and not owed:
            order.append(Choice(priority[p], True))
            p += 1
            run += 1
        else:
            order.append(Choice(regular[r], False))
            r += 1
            run = 0
    return order
