"""The application state machine: one transition table, checked in one place.

::

    draft ──► submitted
      │  ▲
      ▼  │ (payment declined or cancelled)
    awaiting_payment ──► submitted
    draft ──► withdrawn

``draft``: the resident is filling in the form (saved on every step).
``awaiting_payment``: the answers are checked and the resident was sent to pay the fee.
``submitted``: received, with a reference number (受付番号). Staff-side states
(審査中, 完了, …) are added by the case handling app.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("下書き")
    AWAITING_PAYMENT = "awaiting_payment", _("支払い待ち")
    SUBMITTED = "submitted", _("受付済み")
    WITHDRAWN = "withdrawn", _("取り下げ")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.AWAITING_PAYMENT, Status.SUBMITTED, Status.WITHDRAWN}),
    Status.AWAITING_PAYMENT: frozenset({Status.SUBMITTED, Status.DRAFT}),
    Status.SUBMITTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}

#: The resident can still change the answers.
EDITABLE: frozenset[Status] = frozenset({Status.DRAFT})


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"application cannot go from {current!r} to {target!r}")


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: str, target: str) -> Status:
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    return Status(target)
