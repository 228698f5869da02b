"""Messages to residents: each goes to the outbox twice, as an email and as an inbox
message, in the caller's transaction (``notifications.services.outbox_enqueue``)."""

from __future__ import annotations

from django.conf import settings

from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_enqueue


def notify_user(*, user: User, key: str, subject: str, body: str, link: str = "") -> None:
    """Queue ``subject``/``body`` for ``user`` by email and in the inbox. ``key`` makes
    it idempotent: the same key never queues a second copy."""
    text = f"{body}\n\n{settings.WARD_NAME}"
    for channel in (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.INBOX):
        outbox_enqueue(
            channel=channel,
            user=user,
            subject=subject,
            body_text=text,
            dedupe_key=f"{key}:{channel}"[:200],
            link_url=link,
            language=user.preferred_language or "ja",
        )
