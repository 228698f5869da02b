"""Writes of the integration app: API keys, webhooks and their delivery, audit of
API reads and exports.

Webhook flow (transactional outbox):

1. ``applications.services`` sends ``application_submitted`` / ``application_status_changed``
   inside its business transaction. ``on_application_submitted`` /
   ``on_application_status_changed`` (connected in ``apps.py``) call
   ``webhook_enqueue_event``, which writes one ``WebhookDelivery`` (``pending``, due
   now) per active subscription of the application's department that wants that
   event, in the same transaction: a change that rolls back leaves no delivery. The
   enqueue runs in a savepoint and never raises, so a webhook problem cannot stop or
   roll back the resident's submission. After commit, ``tasks.deliver_webhook`` is
   enqueued for each delivery.
2. ``webhook_deliver`` claims a due delivery (compare-and-set that counts the attempt
   and pushes ``next_attempt_at`` past the request timeout, so no other worker takes it
   meanwhile and a worker that dies leaves it due again), POSTs it outside any
   transaction (``webhooks.send``), then logs the attempt (``WebhookAttempt``) and
   records the outcome: ``delivered``; or ``pending`` again after an exponential backoff
   (30 s, 1 min, 2 min … capped at 1 h, with jitter); or ``failed`` after
   ``WEBHOOKS_MAX_ATTEMPTS`` attempts (default 10), with an audit record.
3. ``webhook_deliver_due`` delivers everything due; the ``webhooks_deliver`` command
   (``--loop`` in ``./run worker``) calls it, so deliveries whose task was lost and
   retries are always sent. Staff can resend a failed or delivered delivery
   (``webhook_delivery_resend``; same delivery id, so a receiver can dedupe).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from madoguchi.applications.models import Application
from madoguchi.catalog.models import Procedure
from madoguchi.core.audit import audit_record
from madoguchi.core.crypto import decrypt_str, encrypt_str
from madoguchi.core.models import Department, User
from madoguchi.core.tasks import enqueue_with_change
from madoguchi.integrations import export, webhooks
from madoguchi.integrations.models import ApiKey, EventType, WebhookAttempt, WebhookDelivery, WebhookSubscription
from madoguchi.integrations.selectors import KEY_PREFIX, export_applications, export_form_versions, hash_key

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_RETRY_BASE_SECONDS = 30
DEFAULT_RETRY_MAX_SECONDS = 3600
DEFAULT_TIMEOUT_SECONDS = 10
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class InvalidInput(ValueError):
    """Input a service refuses; ``errors`` maps field name → message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# -- settings (read when used) -----------------------------------------------------------
def max_attempts() -> int:
    return max(1, int(getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))


def request_timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: base × 2^(attempts−1), capped, ±20 % jitter."""
    base = float(getattr(settings, "WEBHOOKS_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS))
    cap = float(getattr(settings, "WEBHOOKS_RETRY_MAX_SECONDS", DEFAULT_RETRY_MAX_SECONDS))
    delay = min(cap, base * (2 ** min(max(attempts, 1) - 1, 32)))
    jitter = (rng or random).uniform(0.8, 1.2)
    return dt.timedelta(seconds=min(cap, delay * jitter))


def _department_codes(departments: Iterable[Department]) -> list[str]:
    return sorted(d.code for d in departments)


# -- API keys ----------------------------------------------------------------------------
def api_key_create(
    *, actor: User, name: str, departments: Sequence[Department], can_view_mynumber: bool
) -> tuple[ApiKey, str]:
    """Make a key; returns it with the key text, which is shown once and never stored
    (only its SHA-256). The caller checks that ``actor`` manages ``departments`` and may
    grant ``can_view_mynumber``."""
    name = name.strip()
    if not name:
        raise InvalidInput({"name": "name is required"})
    if not departments:
        raise InvalidInput({"departments": "at least one department is required"})
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            secret_hash=hash_key(raw),
            can_view_mynumber=can_view_mynumber,
            created_by=actor,
        )
        key.departments.set(departments)
        audit_record(
            actor=actor,
            action="integrations.api_key_create",
            target=key,
            data={
                "name": name,
                "prefix": prefix,
                "departments": _department_codes(departments),
                "can_view_mynumber": can_view_mynumber,
            },
        )
    return key, raw


def api_key_revoke(*, actor: User, key: ApiKey) -> ApiKey:
    """Revoke the key (idempotent); it is refused from then on."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, action="integrations.api_key_revoke", target=locked, data={"prefix": locked.prefix}
            )
    return locked


def api_key_touch(*, key: ApiKey, now: dt.datetime | None = None) -> None:
    """Note that the key was used (at most one write a minute per key)."""
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


def api_read_record(*, key: ApiKey, applications: Sequence[Application], endpoint: str, mynumber_shown: bool) -> None:
    """Audit a read of residents' applications through the case API (no actor: the
    caller is a core system, named by its key)."""
    if not applications:
        return
    with transaction.atomic():
        audit_record(
            actor=None,
            action="integrations.api_read",
            target=applications[0] if len(applications) == 1 else None,
            data={
                "api_key_id": key.pk,
                "api_key_prefix": key.prefix,
                "endpoint": endpoint,
                "reference_numbers": [a.reference_number for a in applications],
                "mynumber_shown": mynumber_shown,
            },
        )


# -- webhooks: subscriptions -------------------------------------------------------------
def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput({"target_url": "http or https URL required"})
    return url


def webhook_create(
    *, actor: User, name: str, target_url: str, departments: Sequence[Department], event_types: Sequence[str]
) -> tuple[WebhookSubscription, str]:
    """Make a subscription; returns it with its signing secret (shown once; kept
    encrypted for signing). The caller checks that ``actor`` manages ``departments``."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "name is required"
    if not departments:
        errors["departments"] = "at least one department is required"
    unknown = [e for e in event_types if e not in EventType.values]
    if not event_types or unknown:
        errors["event_types"] = "choose known event types"
    try:
        target_url = _check_url(target_url)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            name=name,
            target_url=target_url,
            secret_encrypted=encrypt_str(secret),
            event_types=sorted(set(event_types)),
            created_by=actor,
        )
        subscription.departments.set(departments)
        audit_record(
            actor=actor,
            action="integrations.webhook_create",
            target=subscription,
            data={
                "name": name,
                "target_url": target_url,
                "departments": _department_codes(departments),
                "event_types": subscription.event_types,
            },
        )
    return subscription, secret


def webhook_disable(*, actor: User, subscription: WebhookSubscription) -> WebhookSubscription:
    """Stop the subscription; its pending deliveries fail with a note (idempotent)."""
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.is_active:
            locked.is_active = False
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["is_active", "disabled_at"])
            stopped = WebhookDelivery.objects.filter(subscription=locked, status=WebhookDelivery.Status.PENDING).update(
                status=WebhookDelivery.Status.FAILED, last_error="subscription disabled"
            )
            audit_record(
                actor=actor,
                action="integrations.webhook_disable",
                target=locked,
                data={"pending_stopped": stopped},
            )
    return locked


# -- webhooks: events (inside the business transaction) ----------------------------------
def _payload(
    event_id: uuid.UUID,
    event_type: str,
    application: Application,
    procedure: Procedure,
    previous: str | None,
    at: dt.datetime,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference_number": application.reference_number,
        "procedure": procedure.code,
        "department": procedure.department.code,
        "status": application.status,
        "channel": application.channel,
        "form_version": application.form_definition.version,
        "submitted_at": application.submitted_at.isoformat() if application.submitted_at else None,
    }
    if previous is not None:
        data["previous_status"] = previous
    return {"id": str(event_id), "type": event_type, "created_at": at.isoformat(), "data": data}


def webhook_enqueue_event(
    *, event_type: str, application: Application, previous: str | None = None
) -> list[WebhookDelivery]:
    """Write one pending delivery per active subscription of the application's
    department that wants ``event_type``. Call it inside the transaction of the change;
    the deliveries exist only if it commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook_enqueue_event must be called inside transaction.atomic")
    subscriptions = _subscriptions(event_type, application)
    if not subscriptions:
        return []
    return _write_deliveries(event_type, application, previous, subscriptions)


def _subscriptions(event_type: str, application: Application) -> list[WebhookSubscription]:
    """The active subscriptions of the application's department that want ``event_type``."""
    department_id = application.procedure.department_id
    return [
        s
        for s in WebhookSubscription.objects.filter(is_active=True, departments=department_id).distinct()
        if event_type in (s.event_types or [])
    ]


def _write_deliveries(
    event_type: str, application: Application, previous: str | None, subscriptions: list[WebhookSubscription]
) -> list[WebhookDelivery]:
    procedure = Procedure.objects.select_related("department").get(pk=application.procedure_id)
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = _payload(event_id, event_type, application, procedure, previous, now)
    deliveries = [
        WebhookDelivery.objects.create(
            subscription=s,
            event_id=event_id,
            event_type=event_type,
            reference_number=application.reference_number or "",
            payload=payload,
            next_attempt_at=now,
        )
        for s in subscriptions
    ]
    for delivery in deliveries:
        _schedule_with_change(delivery.pk)
    return deliveries


def _enqueue_safely(*, event_type: str, application: Application, previous: str | None = None) -> None:
    """The signal receivers' body: a savepoint, and never an exception, so that a
    webhook problem cannot roll back or block the business change."""
    try:
        # Most departments have no subscription: that read needs no savepoint.
        subscriptions = _subscriptions(event_type, application)
        if not subscriptions:
            return
        with transaction.atomic():
            _write_deliveries(event_type, application, previous, subscriptions)
    except Exception:
        logger.exception("could not queue webhook %s for application %s", event_type, application.pk)


def on_application_submitted(sender: Any, *, application: Application, **kwargs: Any) -> None:
    _enqueue_safely(event_type=EventType.SUBMITTED, application=application)


def on_application_status_changed(
    sender: Any, *, application: Application, previous: str, actor: Any = None, **kwargs: Any
) -> None:
    _enqueue_safely(event_type=EventType.STATUS_CHANGED, application=application, previous=previous)


def _schedule_with_change(delivery_id: int) -> None:
    from madoguchi.integrations import tasks

    enqueue_with_change(tasks.deliver_webhook, delivery_id)


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take a due pending delivery: count the attempt and push ``next_attempt_at`` past
    the request timeout (a lease). Compare-and-set, so only one worker wins."""
    lease = dt.timedelta(seconds=request_timeout() * 2 + 60)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        subscription__is_active=True,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease)
    return claimed == 1


def _record(delivery_id: int, result: webhooks.SendResult, at: dt.datetime) -> WebhookDelivery:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=at,
            status_code=result.status_code,
            error=result.error[:500],
            duration_ms=result.duration_ms,
        )
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:500]
        fields = ["last_status_code", "last_error", "status", "next_attempt_at", "delivered_at"]
        if result.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
        elif delivery.attempts >= max_attempts():
            delivery.status = WebhookDelivery.Status.FAILED
            audit_record(
                actor=None,
                action="integrations.webhook_failed",
                target=delivery,
                data={
                    "subscription": str(delivery.subscription.public_id),
                    "event_type": delivery.event_type,
                    "attempts": delivery.attempts,
                    "error": delivery.last_error,
                },
            )
        else:
            delivery.status = WebhookDelivery.Status.PENDING
            delivery.next_attempt_at = at + backoff_delay(delivery.attempts)
        delivery.save(update_fields=fields)
    return delivery


def webhook_deliver(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Send one delivery if it is due. Returns it after the attempt, or ``None`` if
    there was nothing to do (not due, done, or taken by another worker). Never raises."""
    now = now or timezone.now()
    try:
        if not _claim(delivery_id, now):
            return None
        delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
        subscription = delivery.subscription
        result = webhooks.send(
            url=subscription.target_url,
            secret=decrypt_str(subscription.secret_encrypted),
            event_type=delivery.event_type,
            delivery_id=str(delivery.public_id),
            payload=delivery.payload,
            timeout=request_timeout(),
        )
        return _record(delivery_id, result, now)
    except Exception as exc:
        logger.exception("webhook delivery %s could not be attempted", delivery_id)
        try:
            return _record(delivery_id, webhooks.SendResult(None, type(exc).__name__, 0), now)
        except Exception:
            logger.exception("could not record webhook delivery %s", delivery_id)
            return None


@dataclass(frozen=True)
class DeliverResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def webhook_deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> DeliverResult:
    """Send every due delivery (at most ``limit``), oldest due first."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    for delivery_id in due:
        delivery = webhook_deliver(delivery_id, now=now)
        if delivery is None:
            counts["skipped"] += 1
        elif delivery.status == WebhookDelivery.Status.DELIVERED:
            counts["delivered"] += 1
        elif delivery.status == WebhookDelivery.Status.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return DeliverResult(**counts)


def webhook_delivery_resend(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed or delivered delivery again, now, with a fresh set of attempts
    (same delivery id). Raises ``InvalidInput`` if its webhook is stopped."""
    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery.pk)
        )
        if not locked.subscription.is_active:
            raise InvalidInput({"delivery": "the webhook is disabled"})
        if locked.status == WebhookDelivery.Status.PENDING:
            return locked
        previous = {"status": locked.status, "attempts": locked.attempts}
        locked.status = WebhookDelivery.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_record(actor=actor, action="integrations.webhook_resend", target=locked, data=previous)
        _schedule_with_change(locked.pk)
    return locked


# -- export ------------------------------------------------------------------------------
def applications_export(
    *,
    actor: User,
    procedure: Procedure,
    date_from: dt.date,
    date_to: dt.date,
    fmt: str,
    include_mynumber: bool,
) -> export.ExportFile:
    """The file of ``procedure``'s received applications in the date range, with the
    audit record of who exported what. The caller checks that ``actor`` is staff of
    the procedure's department and decides ``include_mynumber`` by permission."""
    with transaction.atomic():
        applications = list(export_applications(procedure, date_from=date_from, date_to=date_to))
        versions = export_form_versions(export_applications(procedure, date_from=date_from, date_to=date_to))
        result = export.build(
            procedure_code=procedure.code,
            applications=applications,
            versions=versions,
            date_from=date_from,
            date_to=date_to,
            fmt=fmt,
            include_mynumber=include_mynumber,
        )
        audit_record(
            actor=actor,
            action="integrations.export",
            target=procedure,
            data={
                "procedure": procedure.code,
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "format": fmt,
                "rows": result.rows,
                "mynumber_included": result.mynumber_included,
            },
        )
    return result
