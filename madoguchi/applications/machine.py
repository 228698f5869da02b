"""The application state machine: one transition table, checked in one place.

::

    draft ──► submitted (受付) ──► in_review (審査中) ──► pending_approval (決裁中)
      │  ▲          │                 │   ▲                   │        │
      ▼  │          │                 ▼   │ (resubmitted)     │ (sent  ▼
    awaiting_payment│     correction_requested (補正依頼)      │  back) decided (決定)
                    │                                          ▼        │
                    └──────────────► withdrawn (取下げ) ◄── in_review    ▼
                                                                 completed (交付・完了)

``draft``: the resident is filling in the form (saved on every step).
``awaiting_payment``: the answers are checked and the resident was sent to pay the fee.
``submitted``: received, with a reference number (受付番号).
``in_review``: a member of staff is examining it.
``correction_requested``: staff asked the resident to correct some answers (補正);
the resident edits those answers and resubmits, which puts it back ``in_review``.
``pending_approval``: the decision is drafted and goes through the e-approval route.
``decided``: the decision (決定) is made and the case is locked; the notice is issued.
``completed``: what was applied for has been handed over (交付・完了).
``withdrawn``: the resident withdrew it (取下げ) or an unsubmitted draft was abandoned.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("下書き")
    AWAITING_PAYMENT = "awaiting_payment", _("支払い待ち")
    SUBMITTED = "submitted", _("受付済み")
    IN_REVIEW = "in_review", _("審査中")
    CORRECTION_REQUESTED = "correction_requested", _("補正依頼中")
    PENDING_APPROVAL = "pending_approval", _("決裁中")
    DECIDED = "decided", _("決定")
    COMPLETED = "completed", _("交付・完了")
    WITHDRAWN = "withdrawn", _("取下げ")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.AWAITING_PAYMENT, Status.SUBMITTED, Status.WITHDRAWN}),
    Status.AWAITING_PAYMENT: frozenset({Status.SUBMITTED, Status.DRAFT}),
    Status.SUBMITTED: frozenset({Status.IN_REVIEW, Status.CORRECTION_REQUESTED, Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset(
        {Status.CORRECTION_REQUESTED, Status.PENDING_APPROVAL, Status.DECIDED, Status.WITHDRAWN}
    ),
    Status.CORRECTION_REQUESTED: frozenset({Status.IN_REVIEW, Status.WITHDRAWN}),
    Status.PENDING_APPROVAL: frozenset({Status.DECIDED, Status.IN_REVIEW}),
    Status.DECIDED: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}

#: The resident can still change the answers.
EDITABLE: frozenset[Status] = frozenset({Status.DRAFT})

#: Submitted: the application has a 受付番号 and is the ward's to handle.
RECEIVED: frozenset[Status] = frozenset(
    {
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.CORRECTION_REQUESTED,
        Status.PENDING_APPROVAL,
        Status.DECIDED,
        Status.COMPLETED,
    }
)

#: Still being handled by staff (not decided, completed or withdrawn).
OPEN: frozenset[Status] = frozenset(
    {Status.SUBMITTED, Status.IN_REVIEW, Status.CORRECTION_REQUESTED, Status.PENDING_APPROVAL}
)

#: The decision is made: answers and case are locked.
LOCKED: frozenset[Status] = frozenset({Status.DECIDED, Status.COMPLETED, Status.WITHDRAWN})


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
