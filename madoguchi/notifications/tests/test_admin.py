"""The outbox and inbox in the admin: read-only, no message bodies, 「今すぐ再送」."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.notifications.services import outbox_drain
from madoguchi.notifications.tests.helpers import BODY, enqueue_mail, make_user, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, settings: Any) -> Client:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STAFF_REQUIRE_2FA = False
    superuser = make_user(kind=User.Kind.STAFF, is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def test_outbox_pages_show_status_but_never_the_body(admin_client: Client) -> None:
    message = enqueue_mail(body_text=BODY + "https://demo-ku.example.jp/accounts/verify/SECRET-TOKEN/\n")
    listing = admin_client.get(reverse("admin:notifications_outboxmessage_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "hanako@example.jp" in html
    assert "送信待ち" in html
    assert "今すぐ再送" in html
    detail = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))
    assert detail.status_code == 200
    assert "SECRET-TOKEN" not in detail.content.decode()
    assert "受付番号" not in detail.content.decode()
    assert admin_client.get(reverse("admin:notifications_outboxmessage_add")).status_code == 403
    assert AuditEvent.objects.filter(action="personal_data.view", target_id=str(message.pk)).exists()


def test_outbox_cannot_be_changed_or_deleted_in_the_admin(admin_client: Client) -> None:
    message = enqueue_mail()
    admin_client.post(
        reverse("admin:notifications_outboxmessage_change", args=[message.pk]), {"to_address": "evil@example.jp"}
    )
    assert reload(message).to_address == "hanako@example.jp"
    assert admin_client.get(reverse("admin:notifications_outboxmessage_delete", args=[message.pk])).status_code == 403


def test_retry_now_action_makes_a_failed_message_due_and_it_is_sent(admin_client: Client) -> None:
    message = enqueue_mail()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.FAILED, attempts=12)
    response = admin_client.post(
        reverse("admin:notifications_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [str(message.pk)]},
    )
    assert response.status_code == 302
    retried = reload(message)
    assert retried.status == OutboxMessage.Status.PENDING
    assert retried.attempts == 0
    event = AuditEvent.objects.get(action="notifications.retry_requested", target_id=str(message.pk))
    assert event.actor is not None
    assert event.data == {"status": "failed", "attempts": 12}
    assert outbox_drain().sent == 1
    assert len(mail.outbox) == 1


def test_inbox_admin_is_read_only_and_hides_the_body(admin_client: Client) -> None:
    from django.db import transaction

    from madoguchi.notifications.services import outbox_enqueue

    user = make_user()
    with transaction.atomic():
        outbox_enqueue(channel="inbox", user=user, subject="お知らせ", body_text="本文の秘密")
    outbox_drain()
    inbox = user.inbox_messages.get()
    assert admin_client.get(reverse("admin:notifications_inboxmessage_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:notifications_inboxmessage_change", args=[inbox.pk]))
    assert detail.status_code == 200
    assert "本文の秘密" not in detail.content.decode()
    assert admin_client.get(reverse("admin:notifications_inboxmessage_add")).status_code == 403
