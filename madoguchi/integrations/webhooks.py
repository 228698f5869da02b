"""Signing and sending one webhook request (no database access here).

A request is ``POST <target_url>`` with the JSON body and these headers:

- ``X-Madoguchi-Event``: the event type (``application.submitted`` …)
- ``X-Madoguchi-Delivery``: the delivery id; the same on every retry, so a receiver
  can ignore a delivery it has already processed
- ``X-Madoguchi-Timestamp``: Unix time in seconds when the request was signed
- ``X-Madoguchi-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the
  subscription's secret, of ``"<timestamp>.<body>"`` (the raw body bytes)

Any 2xx answer is success. Redirects are not followed (a 3xx is a failure), so a
delivery never ends up somewhere its subscription did not name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

USER_AGENT = "madoguchi-webhooks/1"
ERROR_MAX_LENGTH = 500


def body_bytes(payload: Any) -> bytes:
    """The request body: compact JSON, UTF-8, keys sorted (the same bytes on every retry)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, tolerance: int = 300) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = f"{type(exc).__name__}: {reason if reason is not None else exc}"
    return " ".join(text.split())[:ERROR_MAX_LENGTH]


def send(
    *, url: str, secret: str, event_type: str, delivery_id: str, payload: Any, timeout: float, now: float | None = None
) -> SendResult:
    """POST the payload once. Never raises: the outcome is in the result."""
    body = body_bytes(payload)
    timestamp = str(int(now if now is not None else time.time()))
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked when the subscription is made
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Madoguchi-Event": event_type,
            "X-Madoguchi-Delivery": delivery_id,
            "X-Madoguchi-Timestamp": timestamp,
            "X-Madoguchi-Signature": signature(secret, timestamp, body),
        },
    )
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read(65536)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        error = f"HTTP {exc.code}"
    except Exception as exc:  # noqa: BLE001 - every failure (timeout, refused, TLS, bad URL) is a result
        error = _describe(exc)
    if status is not None and not 200 <= status < 300 and not error:
        error = f"HTTP {status}"
    duration = int((time.monotonic() - started) * 1000)
    return SendResult(status_code=status, error=error, duration_ms=duration)
