"""Writes about notifications: the transactional outbox and the resident's inbox.

Flow:

1. A service that wants to tell a resident something calls ``outbox_enqueue`` inside
   its own ``transaction.atomic``. That writes one ``OutboxMessage`` row (status
   ``pending``, due now) and registers ``transaction.on_commit`` to enqueue the
   ``tasks.deliver_message`` task. A transaction that rolls back leaves no row and
   enqueues nothing, so nothing is ever sent for a change that did not happen. The
   request never talks to a mail server, so a mail server that is down cannot block or
   fail an application. A ``dedupe_key`` makes enqueueing idempotent: a retried
   request that enqueues the same key again gets the existing message back.
2. The background worker runs ``message_deliver(message_id)``. It *claims* the row (a
   compare-and-set from ``pending`` and due to ``sending``, under ``select_for_update
   (skip_locked=True)`` where the database has it), so two workers or a worker and a
   drain never deliver the same message twice. The mail is sent outside any database
   transaction (a slow mail server holds no lock), through Django's mail API with the
   configured ``EMAIL_BACKEND``. An ``inbox`` message needs no worker: its
   ``InboxMessage`` is written, and the message marked sent, by ``outbox_enqueue``
   in the caller's transaction. (Messages left pending by earlier versions are still
   delivered by the worker.)
3. On failure the message goes back to ``pending`` with ``attempts`` counted and
   ``next_attempt_at`` pushed back by exponential backoff with jitter (30 s, 1 min,
   2 min, … capped at 1 h; ``NOTIFICATIONS_RETRY_BASE_SECONDS``,
   ``NOTIFICATIONS_RETRY_MAX_SECONDS``). After ``NOTIFICATIONS_MAX_ATTEMPTS``
   attempts (default 12, about six hours) it becomes ``failed`` and an audit record
   ``notifications.delivery_failed`` is written; staff can send it again from the
   admin ("今すぐ再送"). ``last_error`` holds the error class and the mail server's
   reply, never the message's subject or body. ``message_deliver`` never raises.
4. Retries are scheduled two ways (see ``tasks``): a failed attempt enqueues a
   deferred ``deliver_message`` (``run_after=next_attempt_at``) when the task backend
   supports it, and ``outbox_drain`` (the ``outbox_drain`` command, optionally
   ``--loop``) delivers every due message, which also covers a task that was never
   enqueued (a crash between commit and enqueue). A message left in ``sending`` by a
   worker that died is put back to ``pending`` after
   ``NOTIFICATIONS_SENDING_TIMEOUT_SECONDS`` (15 min); if the mail had in fact gone
   out it is sent again, with the same ``Message-ID`` so mail software can discard
   the copy (delivery is at least once only in that case).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import random
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from madoguchi.core.audit import audit_record
from madoguchi.core.models import User
from madoguchi.core.tasks import enqueue_with_change
from madoguchi.notifications.models import InboxMessage, OutboxMessage

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 12
DEFAULT_RETRY_BASE_SECONDS = 30
DEFAULT_RETRY_MAX_SECONDS = 3600
DEFAULT_SENDING_TIMEOUT_SECONDS = 900
DEFAULT_EMAIL_TIMEOUT_SECONDS = 30
MAX_INLINE_ATTACHMENT_BYTES = 256 * 1024
LAST_ERROR_MAX_LENGTH = 500


class DeliveryError(Exception):
    """A delivery problem found by madoguchi itself; its text goes into ``last_error``
    and must not hold the message's content."""


class PermanentDeliveryError(DeliveryError):
    """A message that can never be delivered (no recipient); it is not retried."""


# -- settings (read when used, never at import time) ----------------------------------
def max_attempts() -> int:
    return max(1, int(getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))


def _retry_base_seconds() -> float:
    return float(getattr(settings, "NOTIFICATIONS_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS))


def _retry_max_seconds() -> float:
    return float(getattr(settings, "NOTIFICATIONS_RETRY_MAX_SECONDS", DEFAULT_RETRY_MAX_SECONDS))


def _sending_timeout() -> dt.timedelta:
    seconds = getattr(settings, "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", DEFAULT_SENDING_TIMEOUT_SECONDS)
    return dt.timedelta(seconds=float(seconds))


def _email_timeout() -> float:
    return float(getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_EMAIL_TIMEOUT_SECONDS)


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: base × 2^(attempts−1)
    (30 s, 1 min, 2 min, …), capped (1 h), with ±20 % jitter so that messages that
    failed together do not all retry at the same moment."""
    base = _retry_base_seconds()
    cap = _retry_max_seconds()
    exponent = min(max(attempts, 1) - 1, 32)
    delay = min(cap, base * (2**exponent))
    jitter = (rng or random).uniform(0.8, 1.2)  # jitter, not a secret
    return dt.timedelta(seconds=min(cap, delay * jitter))


# -- enqueue ---------------------------------------------------------------------------
def _normalize_attachments(attachments: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each attachment: ``filename``, ``content_type`` and either ``path`` (a name in
    the default storage) or ``content_base64`` (small content, at most 256 KiB)."""
    result: list[dict[str, str]] = []
    for index, item in enumerate(attachments, start=1):
        filename = str(item.get("filename") or "").strip()
        content_type = str(item.get("content_type") or "application/octet-stream")
        path = str(item.get("path") or "")
        content = str(item.get("content_base64") or "")
        if not filename:
            raise ValueError(f"attachment {index}: filename is required")
        if bool(path) == bool(content):
            raise ValueError(f"attachment {index}: give exactly one of path and content_base64")
        entry = {"filename": filename, "content_type": content_type}
        if path:
            entry["path"] = path
        else:
            try:
                size = len(base64.b64decode(content, validate=True))
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"attachment {index}: content_base64 is not valid base64") from exc
            if size > MAX_INLINE_ATTACHMENT_BYTES:
                raise ValueError(f"attachment {index}: inline content over {MAX_INLINE_ATTACHMENT_BYTES} bytes")
            entry["content_base64"] = content
        result.append(entry)
    return result


def outbox_enqueue(
    *,
    channel: str,
    user: User | None = None,
    to_address: str = "",
    subject: str,
    body_text: str,
    body_html: str = "",
    attachments: Sequence[Mapping[str, Any]] = (),
    dedupe_key: str | None = None,
    link_url: str = "",
    language: str | None = None,
    schedule: bool = True,
) -> OutboxMessage:
    """Queue one message for delivery. Call it inside the caller's
    ``transaction.atomic``: the message exists, and is delivered, only if that
    transaction commits.

    ``channel`` is ``email`` (to ``to_address``, or else ``user.email``) or ``inbox``
    (to ``user``). With a ``dedupe_key`` that was used before, nothing new is queued
    and the earlier message is returned. ``schedule=False`` skips enqueueing the
    delivery task (for a caller that calls ``message_deliver`` itself)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must be called inside transaction.atomic")
    if channel not in OutboxMessage.Channel.values:
        raise ValueError(f"unknown channel: {channel!r}")
    subject = " ".join(subject.split())  # one line: mail headers cannot hold newlines
    if not subject:
        raise ValueError("subject is required")
    if channel == OutboxMessage.Channel.EMAIL:
        to_address = to_address.strip() or (user.email if user is not None else "")
        if not to_address:
            raise ValueError("an email message needs to_address or a user with an address")
    elif user is None:
        raise ValueError("an inbox message needs a user")
    now = timezone.now()
    inbox = channel == OutboxMessage.Channel.INBOX
    message = OutboxMessage(
        channel=channel,
        user=user,
        to_address=to_address if channel == OutboxMessage.Channel.EMAIL else "",
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        attachments=_normalize_attachments(attachments),
        link_url=link_url,
        language=language if language is not None else (translation.get_language() or ""),
        # The inbox is in this database: its entry is written with the change itself.
        status=OutboxMessage.Status.SENT if inbox else OutboxMessage.Status.PENDING,
        attempts=1 if inbox else 0,
        sent_at=now if inbox else None,
        claimed_at=now if inbox else None,
        next_attempt_at=now,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        # Inside the caller's transaction: the rows exist only if the change commits.
        _write(message, inbox, user, body_text, link_url)
    else:
        try:
            with transaction.atomic():  # a savepoint: a used key must not abort the change
                _write(message, inbox, user, body_text, link_url)
        except IntegrityError:
            # The key was used before (or at the same moment by another transaction).
            return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    if schedule and not inbox:
        _schedule_with_change(message.pk)
    return message


def _write(message: OutboxMessage, inbox: bool, user: User | None, body: str, link_url: str) -> None:
    message.save(force_insert=True)
    if inbox and user is not None:
        InboxMessage.objects.create(
            user=user, outbox_message=message, subject=message.subject, body=body, link_url=link_url
        )


def _schedule_with_change(message_id: int) -> None:
    from madoguchi.notifications import tasks

    enqueue_with_change(tasks.deliver_message, message_id)


def schedule_delivery(message_id: int, *, run_after: dt.datetime | None = None) -> bool:
    """Enqueue ``tasks.deliver_message`` (at ``run_after`` if given and the task
    backend can defer tasks). Returns whether a task was enqueued; never raises: a
    message whose task could not be enqueued is still delivered by ``outbox_drain``."""
    from madoguchi.notifications import tasks

    try:
        task = tasks.deliver_message
        if run_after is not None:
            if not task.get_backend().supports_defer:
                return False
            task = task.using(run_after=run_after)
        task.enqueue(message_id)
    except Exception:
        logger.warning(
            "could not enqueue delivery of outbox message %s; outbox_drain will deliver it", message_id, exc_info=True
        )
        return False
    return True


# -- delivery --------------------------------------------------------------------------
def describe_error(exc: BaseException) -> str:
    """A short description for ``last_error``: the error class and the mail server's
    reply or the OS error, never the message's content."""
    name = type(exc).__name__
    detail = ""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{address}: {code} {_decode(reply)}" for address, (code, reply) in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        detail = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    elif isinstance(exc, DeliveryError | smtplib.SMTPServerDisconnected):
        detail = str(exc)
    elif isinstance(exc, OSError):
        detail = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno is not None else ""
    text = f"{name}: {detail}" if detail else name
    return text[:LAST_ERROR_MAX_LENGTH]


def _decode(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Move a due ``pending`` message to ``sending``; False if it is not due, not
    pending, or being delivered by someone else right now."""
    with transaction.atomic():
        due = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        if not due.values_list("pk", flat=True).first():
            return False
        # Compare-and-set: correct even where select_for_update is a no-op (SQLite).
        claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return claimed == 1


def _attachment_content(item: Mapping[str, str], index: int) -> bytes:
    if item.get("content_base64"):
        return base64.b64decode(item["content_base64"])
    try:
        with default_storage.open(item["path"], "rb") as handle:
            return bytes(handle.read())
    except FileNotFoundError as exc:
        raise DeliveryError(f"attachment {index} is not in storage") from exc


def _message_id_header(message: OutboxMessage) -> str:
    return f"<madoguchi.outbox.{message.pk}.{int(message.created_at.timestamp())}@{DNS_NAME}>"


def _send_email(message: OutboxMessage) -> None:
    to = message.to_address or (message.user.email if message.user is not None else "")
    if not to:
        raise PermanentDeliveryError("no recipient address")
    headers = {"Message-ID": _message_id_header(message)}
    if message.language:
        headers["Content-Language"] = message.language
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[to],
        headers=headers,
        connection=get_connection(fail_silently=False, timeout=_email_timeout()),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for index, item in enumerate(message.attachments or [], start=1):
        email.attach(item["filename"], _attachment_content(item, index), item.get("content_type"))
    if email.send(fail_silently=False) != 1:
        raise DeliveryError("the mail backend sent nothing")


def _deliver_inbox(message_id: int, now: dt.datetime) -> OutboxMessage | None:
    """Create the inbox entry and mark the message sent in one transaction."""
    with transaction.atomic():
        due = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        message = due.first()
        if message is None:
            return None
        if message.user_id is None:
            raise PermanentDeliveryError("the inbox message has no account")
        updated = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.SENT,
            attempts=F("attempts") + 1,
            sent_at=timezone.now(),
            claimed_at=now,
            last_error="",
        )
        if updated != 1:
            return None
        InboxMessage.objects.create(
            user_id=message.user_id,
            outbox_message=message,
            subject=message.subject,
            body=message.body_text,
            link_url=message.link_url,
        )
    message.refresh_from_db()
    return message


def _record_failure(message_id: int, exc: BaseException, now: dt.datetime) -> OutboxMessage | None:
    error = describe_error(exc)
    permanent = isinstance(exc, PermanentDeliveryError)
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        if message.status == OutboxMessage.Status.PENDING:  # the inbox path fails before claiming
            message.attempts += 1
        message.last_error = error
        message.claimed_at = None
        if permanent or message.attempts >= max_attempts():
            message.status = OutboxMessage.Status.FAILED
            message.save(update_fields=["attempts", "last_error", "claimed_at", "status"])
            audit_record(
                actor=None,
                action="notifications.delivery_failed",
                target=message,
                data={"channel": message.channel, "attempts": message.attempts, "error": error},
            )
            logger.warning(
                "outbox message %s failed for good after %s attempts (%s)",
                message.pk,
                message.attempts,
                type(exc).__name__,
            )
        else:
            message.status = OutboxMessage.Status.PENDING
            message.next_attempt_at = now + backoff_delay(message.attempts)
            message.save(update_fields=["attempts", "last_error", "claimed_at", "status", "next_attempt_at"])
            logger.info(
                "outbox message %s attempt %s failed (%s); next attempt at %s",
                message.pk,
                message.attempts,
                type(exc).__name__,
                message.next_attempt_at.isoformat(),
            )
    if message.status == OutboxMessage.Status.PENDING:
        schedule_delivery(message.pk, run_after=message.next_attempt_at)
    return message


def message_deliver(message_id: int, *, now: dt.datetime | None = None) -> OutboxMessage | None:
    """Deliver one message if it is due. Returns the message after the attempt, or
    None if there was nothing to do (not due, already sent, failed for good, or being
    delivered elsewhere). Never raises: a failure is recorded on the message."""
    now = now or timezone.now()
    try:
        kind = OutboxMessage.objects.filter(pk=message_id).values_list("channel", flat=True).first()
        if kind is None:
            return None
        if kind == OutboxMessage.Channel.INBOX:
            return _deliver_inbox(message_id, now)
        if not _claim(message_id, now):
            return None
        message = OutboxMessage.objects.select_related("user").get(pk=message_id)
        _send_email(message)
        OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING).update(
            status=OutboxMessage.Status.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
        )
        message.refresh_from_db()
        return message
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the message, never raised
        try:
            return _record_failure(message_id, exc, now)
        except Exception:
            logger.exception("could not record the failed delivery of outbox message %s", message_id)
            return None


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def outbox_recover_stale(*, now: dt.datetime | None = None) -> int:
    """Put messages left in ``sending`` by a worker that died back to ``pending``."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - _sending_timeout()
    ).update(status=OutboxMessage.Status.PENDING, next_attempt_at=now, claimed_at=None, last_error="interrupted")


def outbox_drain(*, now: dt.datetime | None = None, limit: int = 500) -> DrainResult:
    """Deliver every message that is due (at most ``limit``), oldest due first."""
    now = now or timezone.now()
    recovered = outbox_recover_stale(now=now)
    due_ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    for message_id in due_ids:
        message = message_deliver(message_id, now=now)
        if message is None:
            counts["skipped"] += 1
        elif message.status == OutboxMessage.Status.SENT:
            counts["sent"] += 1
        elif message.status == OutboxMessage.Status.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return DrainResult(recovered=recovered, **counts)


def outbox_retry_now(*, message_ids: Iterable[int], actor: User | None) -> int:
    """Make pending or failed messages due now (a failed one gets a fresh set of
    attempts), audit it, and enqueue their delivery. Returns how many."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        messages = OutboxMessage.objects.select_for_update().filter(
            pk__in=list(message_ids), status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
        )
        for message in messages:
            previous = {"status": message.status, "attempts": message.attempts}
            if message.status == OutboxMessage.Status.FAILED:
                message.attempts = 0
            message.status = OutboxMessage.Status.PENDING
            message.next_attempt_at = now
            message.save(update_fields=["attempts", "status", "next_attempt_at"])
            audit_record(actor=actor, action="notifications.retry_requested", target=message, data=previous)
            _schedule_with_change(message.pk)
            count += 1
    return count


# -- inbox -----------------------------------------------------------------------------
def inbox_mark_read(*, user: User, message_id: int) -> InboxMessage:
    """Mark one of ``user``'s inbox messages read; raises ``InboxMessage.DoesNotExist``
    for a message that is not theirs."""
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().get(pk=message_id, user=user)
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
    return message


def inbox_mark_unread(*, user: User, message_id: int) -> InboxMessage:
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().get(pk=message_id, user=user)
        if message.read_at is not None:
            message.read_at = None
            message.save(update_fields=["read_at"])
    return message


def inbox_mark_all_read(*, user: User) -> int:
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
