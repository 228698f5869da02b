"""The approval request state machine: one table, checked in one place.

::

                       approve (not the last step: next step)
                      ┌──────┐
                      ▼      │
    (start) ──► pending (決裁中) ──approve (last member of the last step)──► approved (決裁済み)
                      │  │  │
                      │  │  └──reject──► rejected (否決)
                      │  └─────send_back──► sent_back (差戻し): back to the requester
                      └──withdraw (requester)──► withdrawn (取下げ)

Every state but ``pending`` is final: the request is locked, nothing changes it again
(``models.ApprovalRequest.save`` refuses). After a 差戻し the requester revises the
subject and starts a new request.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "pending", _("決裁中")
    APPROVED = "approved", _("決裁済み")
    REJECTED = "rejected", _("否決")
    SENT_BACK = "sent_back", _("差戻し")
    WITHDRAWN = "withdrawn", _("取下げ")


class Action(models.TextChoices):
    APPROVE = "approve", _("承認")
    REJECT = "reject", _("否決")
    SEND_BACK = "send_back", _("差戻し")
    WITHDRAW = "withdraw", _("取下げ")


#: What each action may lead to from ``pending``.
TRANSITIONS: dict[Action, frozenset[Status]] = {
    Action.APPROVE: frozenset({Status.PENDING, Status.APPROVED}),
    Action.REJECT: frozenset({Status.REJECTED}),
    Action.SEND_BACK: frozenset({Status.SENT_BACK}),
    Action.WITHDRAW: frozenset({Status.WITHDRAWN}),
}

#: Actions taken by an approver on a step (they fill the approver's box on the route).
DECISIONS: frozenset[Action] = frozenset({Action.APPROVE, Action.REJECT, Action.SEND_BACK})

#: Finished: the request is locked.
FINAL: frozenset[Status] = frozenset({Status.APPROVED, Status.REJECTED, Status.SENT_BACK, Status.WITHDRAWN})

#: Finished by an approver's decision (what the lead time and the decision counts measure).
DECIDED: frozenset[Status] = frozenset({Status.APPROVED, Status.REJECTED, Status.SENT_BACK})


class IllegalTransition(Exception):
    def __init__(self, current: str, action: str, target: str) -> None:
        self.current = current
        self.action = action
        self.target = target
        super().__init__(f"approval request cannot {action} from {current!r} to {target!r}")


def check_transition(current: str, action: str, target: str) -> Status:
    """``target`` if ``action`` may move a request in ``current`` there; else raise."""
    if Status(current) != Status.PENDING or Status(target) not in TRANSITIONS[Action(action)]:
        raise IllegalTransition(current, action, target)
    return Status(target)
