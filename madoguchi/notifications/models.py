"""Notifications to residents: the transactional outbox and the resident's inbox.

An ``OutboxMessage`` is one message to deliver on one channel (``email`` or ``inbox``).
It is written in the transaction of the change that caused it
(``services.outbox_enqueue``) and delivered later by the background worker
(``services.message_deliver``), with retries and exponential backoff; see
``services`` for the flow. An ``InboxMessage`` is what the resident portal's inbox
shows; the ``inbox`` channel creates one.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("メール")
        INBOX = "inbox", _("受信箱")

    class Status(models.TextChoices):
        PENDING = "pending", _("送信待ち")
        SENDING = "sending", _("送信中")
        SENT = "sent", _("送信済み")
        FAILED = "failed", _("送信失敗")

    channel = models.CharField(_("送信方法"), max_length=16, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("宛先アカウント"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    to_address = models.EmailField(_("宛先メールアドレス"), blank=True)
    subject = models.CharField(_("件名"), max_length=255)
    body_text = models.TextField(_("本文"))
    body_html = models.TextField(_("本文（HTML）"), blank=True)
    attachments = models.JSONField(_("添付ファイル"), default=list, blank=True)
    link_url = models.CharField(_("リンク"), max_length=500, blank=True)
    language = models.CharField(_("言語"), max_length=8, blank=True)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("試行回数"), default=0)
    next_attempt_at = models.DateTimeField(_("次回試行日時"), db_index=True)
    claimed_at = models.DateTimeField(_("送信開始日時"), null=True, blank=True)
    last_error = models.CharField(_("最後のエラー"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    dedupe_key = models.CharField(_("重複防止キー"), max_length=200, unique=True, null=True, blank=True)

    objects: ClassVar[models.Manager[OutboxMessage]] = models.Manager()

    class Meta:
        verbose_name = _("送信待ちの通知")
        verbose_name_plural = _("送信待ちの通知")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_outbox_due_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} {self.subject}"


class InboxMessage(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("アカウント"),
        on_delete=models.CASCADE,
        related_name="inbox_messages",
    )
    outbox_message = models.OneToOneField(
        OutboxMessage,
        verbose_name=_("送信元の通知"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbox_message",
    )
    subject = models.CharField(_("件名"), max_length=255)
    body = models.TextField(_("本文"))
    link_url = models.CharField(_("リンク"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("受信日時"), auto_now_add=True)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)

    objects: ClassVar[models.Manager[InboxMessage]] = models.Manager()

    class Meta:
        verbose_name = _("受信箱のお知らせ")
        verbose_name_plural = _("受信箱のお知らせ")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_inbox_unread_idx")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
