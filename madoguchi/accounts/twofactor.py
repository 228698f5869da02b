"""Staff login in two steps: password, then a TOTP code (RFC 6238, via pyotp).

When ``settings.STAFF_REQUIRE_2FA`` is true, a correct password does not log a staff
member in. It only records a *pending* login in the session (user id, auth backend,
where to go next; valid ``PENDING_MAX_AGE``). The person then

- enrols, if they have no confirmed secret yet: a new secret is kept in the pending
  state (not in the database) and shown as a QR code (inline SVG, segno) and as text;
  the first correct code saves it (``services.staff_totp_enrol``); or
- enters the current code from their authenticator app.

Only then does ``complete_login`` call ``django.contrib.auth.login`` and mark the
session as verified (``VERIFIED_SESSION_KEY``), which ``decorators.staff_required``
checks. A code is accepted once (replays within its window fail) and
``MAX_CODE_FAILURES`` wrong codes end the pending login. Wrong codes are audited and
reported to django-axes as failed logins, so they count towards the lockout.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.html import escape
from pyotp.exceptions import OTPVerificationError

from madoguchi.accounts import services
from madoguchi.core.models import User

PENDING_SESSION_KEY = "accounts_pending_staff_login"
VERIFIED_SESSION_KEY = "accounts_2fa_verified"
PENDING_MAX_AGE = 600
MAX_CODE_FAILURES = 5
VALID_WINDOW = 1  # accept the previous and the next 30-second step too


# -- the pending login -----------------------------------------------------------------
def pending_begin(request: HttpRequest, *, user: User, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
        "next": next_url,
        "started": int(time.time()),
        "failures": 0,
    }


def pending_get(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    state = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(state, dict) or time.time() - state.get("started", 0) > PENDING_MAX_AGE:
        pending_clear(request)
        return None
    user = User.objects.filter(pk=int(state.get("user_id") or 0), is_active=True).first()
    if user is None:
        pending_clear(request)
        return None
    return user, state


def pending_update(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[PENDING_SESSION_KEY] = state


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def complete_login(request: HttpRequest, *, user: User, backend: str, method: str, two_factor: bool) -> None:
    login(request, user, backend=backend)
    if two_factor:
        request.session[VERIFIED_SESSION_KEY] = True
    services.login_record(user=user, method=method, two_factor=two_factor)


def session_is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(VERIFIED_SESSION_KEY))


# -- TOTP ------------------------------------------------------------------------------
def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters = 160 bits


def provisioning_uri(*, user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=f"{settings.WARD_NAME} madoguchi")


def qr_svg(uri: str, *, title: str) -> str:
    """The otpauth URI as an inline SVG QR code (no JavaScript, no image request)."""
    svg = str(segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, svgclass="totp-qr"))
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)


def grouped(secret: str) -> str:
    """``ABCD EFGH …``: easier to read and type than one long string."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def verify_code(*, user: User, secret: str, code: str) -> bool:
    """True if ``code`` is valid now (± one step) and was not used before."""
    if not secret or not code:
        return False
    totp = pyotp.TOTP(secret)
    try:
        step = totp.verify_and_get_timecode(code, valid_window=VALID_WINDOW)
    except OTPVerificationError:
        return False
    # Each step's code is accepted once per account (the cache entry outlives the window).
    return bool(cache.add(f"accounts:totp-used:{user.pk}:{step}", 1, totp.interval * (2 * VALID_WINDOW + 2)))
