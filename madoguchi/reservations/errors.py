"""Refusals: every service raises a :class:`Refused` with a message in the active
language and the form field it concerns (``""`` for the request as a whole). Views
show the message at that field; nothing has changed when one is raised."""

from __future__ import annotations

from django_stubs_ext import StrOrPromise


class Refused(Exception):
    #: A stable name for tests and the API.
    code = "refused"

    def __init__(self, message: StrOrPromise, *, field: str = "") -> None:
        self.message = str(message)
        self.field = field
        super().__init__(self.message)


class SlotTaken(Refused):
    code = "slot_taken"


class ClosedDay(Refused):
    code = "closed_day"


class OutsideHours(Refused):
    code = "outside_hours"


class NotBookableYet(Refused):
    code = "not_bookable_yet"


class PastSlot(Refused):
    code = "past"


class MonthlyLimit(Refused):
    code = "monthly_limit"


class NotEligible(Refused):
    code = "not_eligible"


class LotteryOnly(Refused):
    code = "lottery_only"


class DeadlinePassed(Refused):
    code = "deadline_passed"


class InvalidState(Refused):
    code = "invalid_state"


class WindowClosed(Refused):
    code = "window_closed"


class OverCap(Refused):
    code = "over_cap"


class DuplicatePerson(Refused):
    code = "duplicate_person"


class AlreadyApplied(Refused):
    code = "already_applied"


class InvalidChoice(Refused):
    code = "invalid_choice"


class AlreadyDrawn(Refused):
    code = "already_drawn"


class AlreadyRegistered(Refused):
    code = "already_registered"


class InvalidCode(Refused):
    code = "invalid_code"


class AlreadyCheckedIn(Refused):
    code = "already_checked_in"
