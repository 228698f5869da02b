"""The payment state machine: one transition table, checked in one place.

::

    created ──► pending ──► authorized ──► captured ──► partially_refunded ──► refunded
       │           │            │             └──────────────────────────────► refunded
       │           │            └──► voided
       └───────────┴──► failed / cancelled / expired

``created``: madoguchi has recorded what is to be paid. ``pending``: the resident was
sent to the provider. ``authorized``: the provider reserved the amount on the card.
``captured``: the money is taken. Refunds may be partial; the refunded total never
exceeds the captured amount.

These functions know nothing about the database, so the machine can be tested on its
own (see ``tests/test_machine.py``); ``models.Payment`` and ``services`` use them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    CREATED = "created", _("作成済み")
    PENDING = "pending", _("支払い手続き中")
    AUTHORIZED = "authorized", _("与信済み")
    CAPTURED = "captured", _("支払い完了")
    VOIDED = "voided", _("与信取消")
    REFUNDED = "refunded", _("返金済み")
    PARTIALLY_REFUNDED = "partially_refunded", _("一部返金済み")
    FAILED = "failed", _("失敗")
    CANCELLED = "cancelled", _("キャンセル")
    EXPIRED = "expired", _("期限切れ")


_ENDED_EARLY = {Status.FAILED, Status.CANCELLED, Status.EXPIRED}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.PENDING, *_ENDED_EARLY}),
    Status.PENDING: frozenset({Status.AUTHORIZED, *_ENDED_EARLY}),
    Status.AUTHORIZED: frozenset({Status.CAPTURED, Status.VOIDED}),
    Status.CAPTURED: frozenset({Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.PARTIALLY_REFUNDED: frozenset({Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.VOIDED: frozenset(),
    Status.REFUNDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}

#: The resident has paid (or the amount is reserved): what a procedure waits for.
SETTLED: frozenset[Status] = frozenset({Status.AUTHORIZED, Status.CAPTURED})
#: No further transition is possible.
FINAL: frozenset[Status] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
#: Money has been taken: refunds are possible from here.
REFUNDABLE: frozenset[Status] = frozenset({Status.CAPTURED, Status.PARTIALLY_REFUNDED})


class IllegalTransition(Exception):
    """A transition that the table does not allow, or a refund beyond what was captured."""

    def __init__(self, current: str, target: str, reason: str = "") -> None:
        self.current = current
        self.target = target
        super().__init__(f"payment cannot go from {current!r} to {target!r}" + (f": {reason}" if reason else ""))


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: str, target: str) -> Status:
    """``target`` as a :class:`Status` if the table allows ``current`` → ``target``;
    :class:`IllegalTransition` otherwise."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    return Status(target)


def refund_outcome(*, status: str, captured_yen: int, refunded_yen: int, amount_yen: int) -> tuple[Status, int]:
    """The status and refunded total after refunding ``amount_yen``.

    Raises :class:`IllegalTransition` if the payment is not captured, or the amount is
    not positive, or it would take the refunded total beyond the captured amount."""
    if Status(status) not in REFUNDABLE:
        raise IllegalTransition(status, Status.REFUNDED, "only a captured payment can be refunded")
    if amount_yen <= 0:
        raise IllegalTransition(status, Status.REFUNDED, "refund amount must be positive")
    total = refunded_yen + amount_yen
    if total > captured_yen:
        raise IllegalTransition(
            status, Status.REFUNDED, f"refund of {amount_yen} exceeds {captured_yen - refunded_yen}"
        )
    target = Status.REFUNDED if total == captured_yen else Status.PARTIALLY_REFUNDED
    return check_transition(status, target), total
