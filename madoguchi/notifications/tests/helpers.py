from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_enqueue

SUBJECT = "【デモ区】転入届の受付が完了しました"
BODY = "山田 花子 様\n\n転入届を受け付けました。受付番号は A-0001 です。\n\nデモ区役所 区民課\n"

_counter = itertools.count(1)


def make_user(**kwargs: Any) -> User:
    n = next(_counter)
    kwargs.setdefault("email", f"resident{n}@example.jp")
    return User.objects.create_user(username=f"notif-user-{n}", password=None, **kwargs)


def enqueue_mail(**kwargs: Any) -> OutboxMessage:
    """Enqueue one e-mail in its own (committed, for the test) transaction."""
    kwargs.setdefault("channel", OutboxMessage.Channel.EMAIL)
    kwargs.setdefault("to_address", "hanako@example.jp")
    kwargs.setdefault("subject", SUBJECT)
    kwargs.setdefault("body_text", BODY)
    with transaction.atomic():
        return outbox_enqueue(**kwargs)


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def reload(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message
