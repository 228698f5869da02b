"""The audit log: who did what, to what, when and from where.

Flow: a service calls ``audit_record`` inside its own ``transaction.atomic``; the
record is inserted there, so it exists exactly when the change it describes does, but
without its place in the chain. Right after the transaction commits, ``audit_seal``
gives every pending record, in insertion order, the next sequence number and the hash
that chains it to the record before, under a row lock on ``AuditChainHead`` held only
by that short sealing transaction. Business transactions therefore never wait on the
chain (a global lock held through a business transaction deadlocks against that
transaction's own row locks under load).

Records cannot be updated or deleted through the ORM; on PostgreSQL a trigger refuses
UPDATE and DELETE, except the one-time sealing of a pending record that leaves its
content unchanged. ``audit_verify`` (``./run manage audit_verify``) seals what is
pending, recomputes the chain and reports every record that was altered, removed or
inserted out of order.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import OperationalError, models, transaction
from django.utils import timezone

from madoguchi.core.models import AuditChainHead, AuditEvent, User

GENESIS = "0" * 64

_request_ip: contextvars.ContextVar[str] = contextvars.ContextVar("audit_request_ip", default="")


def set_request_ip(ip: str) -> contextvars.Token[str]:
    return _request_ip.set(ip)


def reset_request_ip(token: contextvars.Token[str]) -> None:
    _request_ip.reset(token)


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip_address,
        "data": event.data,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(event)).hexdigest()


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Record an action. Call it inside the service's transaction so that the record
    exists exactly when the change it describes does; it is sealed into the chain
    when that transaction commits."""
    event = AuditEvent(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=str(actor) if actor is not None and actor.pk else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip_address=ip_address if ip_address is not None else _request_ip.get(),
        data=json.loads(json.dumps(data or {}, ensure_ascii=False, default=str)),
    )
    event.save(force_insert=True)
    connection = transaction.get_connection()
    if not any(func is _seal_after_commit for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_seal_after_commit, robust=True)
    return event


_last_seal = 0.0
_last_seal_lock = threading.Lock()


def _seal_after_commit() -> None:
    """Seal right after the business transaction commits, unless this process sealed
    less than ``AUDIT_SEAL_MIN_INTERVAL`` seconds ago (under load one seal then chains
    the records of many requests) or another process is sealing at this moment: then
    the next request or the worker's periodic ``audit_seal`` chains these records. A
    request never queues for the chain lock, and a pending record cannot be altered
    meanwhile (see the module docstring)."""
    global _last_seal
    interval = float(getattr(settings, "AUDIT_SEAL_MIN_INTERVAL", 0.5))
    with _last_seal_lock:
        now = time.monotonic()
        if interval > 0 and now - _last_seal < interval:
            return
        _last_seal = now
    audit_seal(wait=False)


#: Records sealed per UPDATE statement.
SEAL_BATCH = 200


def audit_seal(*, limit: int = 5000, wait: bool = True) -> int:
    """Chain every committed record that has no place yet, in insertion order. Returns
    how many were sealed. Safe to call at any time and from several processes; with
    ``wait=False`` it returns 0 at once when another process holds the chain."""
    try:
        with transaction.atomic():
            head, _ = AuditChainHead.objects.select_for_update(nowait=not wait).get_or_create(pk=1)
            pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:limit])
            for event in pending:
                event.seq = head.seq + 1
                event.prev_hash = head.hash
                event.hash = compute_hash(head.hash, event)
                head.seq, head.hash = event.seq, event.hash
            for start in range(0, len(pending), SEAL_BATCH):
                AuditEvent.objects.all()._seal_many(pending[start : start + SEAL_BATCH])
            if pending:
                head.save(update_fields=["seq", "hash"])
    except OperationalError:
        if wait:
            raise
        return 0  # the chain is locked by another process (PostgreSQL: lock not available)
    return len(pending)


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    message: str


def audit_verify() -> tuple[int, list[AuditProblem]]:
    """Seal what is pending, then recompute the chain. Returns (records checked,
    problems found)."""
    while audit_seal():
        pass
    problems: list[AuditProblem] = []
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for event in AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        assert event.seq is not None  # noqa: S101 - filtered above
        count += 1
        if event.seq != expected_seq:
            problems.append(AuditProblem(event.seq, f"records {expected_seq}..{event.seq - 1} are missing (deleted)"))
        if event.prev_hash != prev_hash:
            problems.append(AuditProblem(event.seq, "prev_hash does not match the record before it"))
        if compute_hash(event.prev_hash, event) != event.hash:
            problems.append(AuditProblem(event.seq, "content was altered (hash mismatch)"))
        prev_hash = event.hash
        expected_seq = event.seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(
            AuditProblem(last_seq, f"chain ends at #{last_seq} but the head records #{head.seq}: records were removed")
        )
    return count, problems
