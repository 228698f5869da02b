"""Reads about notifications: a resident's inbox, and the outbox for monitoring."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from madoguchi.core.models import User
from madoguchi.notifications.models import InboxMessage, OutboxMessage


def inbox_messages_for_user(user: User) -> QuerySet[InboxMessage]:
    """``user``'s inbox, newest first."""
    return InboxMessage.objects.filter(user=user).order_by("-created_at", "-pk")


def inbox_message_get_for_user(*, user: User, message_id: int) -> InboxMessage | None:
    """One inbox message if it belongs to ``user`` (the only access check)."""
    return InboxMessage.objects.filter(user=user, pk=message_id).first()


def inbox_unread_count(user: User) -> int:
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).count()


def outbox_due(*, now: dt.datetime | None = None) -> QuerySet[OutboxMessage]:
    """Pending messages whose next attempt is due."""
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now or timezone.now()
    ).order_by("next_attempt_at", "pk")
