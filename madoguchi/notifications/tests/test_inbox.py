"""The inbox channel and the resident's inbox."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from madoguchi.notifications import selectors
from madoguchi.notifications.models import InboxMessage, OutboxMessage
from madoguchi.notifications.services import (
    inbox_mark_all_read,
    inbox_mark_read,
    inbox_mark_unread,
    message_deliver,
    outbox_drain,
    outbox_enqueue,
)
from madoguchi.notifications.tests.helpers import BODY, SUBJECT, make_user, reload

pytestmark = pytest.mark.django_db


def _enqueue_inbox(user: object, **kwargs: object) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(
            channel=OutboxMessage.Channel.INBOX,
            user=user,  # type: ignore[arg-type]
            subject=SUBJECT,
            body_text=BODY,
            **kwargs,  # type: ignore[arg-type]
        )


def test_inbox_message_is_written_with_the_change_and_never_again() -> None:
    user = make_user()
    message = _enqueue_inbox(user, link_url="/applications/42/")
    assert message.to_address == ""
    # Written in the caller's transaction: no worker needed.
    assert reload(message).status == OutboxMessage.Status.SENT
    assert reload(message).attempts == 1
    inbox = InboxMessage.objects.get(user=user)
    assert (inbox.subject, inbox.body, inbox.link_url) == (SUBJECT, BODY, "/applications/42/")
    assert inbox.outbox_message_id == message.pk
    assert inbox.read_at is None
    assert mail.outbox == []  # the inbox channel sends no mail

    # Delivering or draining creates nothing more.
    assert message_deliver(message.pk) is None
    assert outbox_drain().sent == 0
    assert InboxMessage.objects.filter(user=user).count() == 1


def test_inbox_message_rolled_back_with_the_change() -> None:
    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(channel=OutboxMessage.Channel.INBOX, user=user, subject=SUBJECT, body_text=BODY)
        raise RuntimeError("the business change fails")
    assert not OutboxMessage.objects.exists()
    assert not InboxMessage.objects.exists()


def test_same_dedupe_key_gives_one_inbox_message() -> None:
    user = make_user()
    first = _enqueue_inbox(user, dedupe_key="k-1")
    again = _enqueue_inbox(user, dedupe_key="k-1")
    assert again.pk == first.pk
    assert InboxMessage.objects.filter(user=user).count() == 1


def test_pending_inbox_message_of_a_deleted_account_fails_for_good() -> None:
    # A message left pending (queued before inbox entries were written at once).
    user = make_user()
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.INBOX, user=user, subject=SUBJECT, body_text=BODY, next_attempt_at=timezone.now()
    )
    user.delete()
    result = message_deliver(message.pk)
    assert result is not None
    assert result.status == OutboxMessage.Status.FAILED
    assert result.attempts == 1
    assert "no account" in result.last_error
    assert not InboxMessage.objects.exists()


def test_pending_inbox_message_is_still_delivered_by_the_worker() -> None:
    user = make_user()
    message = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.INBOX, user=user, subject=SUBJECT, body_text=BODY, next_attempt_at=timezone.now()
    )
    assert outbox_drain().sent == 1
    assert reload(message).status == OutboxMessage.Status.SENT
    assert InboxMessage.objects.filter(user=user, outbox_message=message).count() == 1


def test_resident_reads_only_their_own_inbox() -> None:
    hanako, taro = make_user(), make_user()
    for _ in range(2):
        _enqueue_inbox(hanako)
    _enqueue_inbox(taro)
    outbox_drain()
    assert selectors.inbox_unread_count(hanako) == 2
    assert selectors.inbox_messages_for_user(taro).count() == 1
    first = selectors.inbox_messages_for_user(hanako).first()
    assert first is not None
    assert selectors.inbox_message_get_for_user(user=taro, message_id=first.pk) is None

    with pytest.raises(InboxMessage.DoesNotExist):
        inbox_mark_read(user=taro, message_id=first.pk)
    assert reload_inbox(first).read_at is None

    read = inbox_mark_read(user=hanako, message_id=first.pk)
    assert read.is_read
    read_at = read.read_at
    assert inbox_mark_read(user=hanako, message_id=first.pk).read_at == read_at  # stays as first read
    assert selectors.inbox_unread_count(hanako) == 1
    assert not inbox_mark_unread(user=hanako, message_id=first.pk).is_read
    assert inbox_mark_all_read(user=hanako) == 2
    assert selectors.inbox_unread_count(hanako) == 0
    assert selectors.inbox_unread_count(taro) == 1


def reload_inbox(message: InboxMessage) -> InboxMessage:
    message.refresh_from_db()
    return message
