"""How many anonymous queue tickets one client may take, and the paired kiosks that
may take any number.

Anyone can take a ticket (整理券) at the kiosk page or the entrance QR code's page
without an account, so a script or a bored visitor could empty a counter's numbers.
Each ticket therefore carries two keyed hashes (``salted_hmac`` with ``SECRET_KEY``;
the plain address or session is never stored):

- ``client_key``: who asked. A logged-in resident is keyed by the account; anyone
  else by the browser session *and* the client address (so residents on the ward's
  shared Wi-Fi, one address, each have their own allowance). A request without a
  session cookie (a script that drops cookies) is keyed by its address alone.
- ``client_address_key``: the address alone.

``services.ticket_issue`` counts the tickets issued under these keys in the last
hour (the tickets themselves are the count, so it holds across every web worker and
server, and a refused request adds nothing): at most
``APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR`` (5) per client and, when set,
``APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR`` (0 = no limit) per address. The keys
are cleared from tickets of earlier days by ``services.ticket_client_keys_clear``
(run with ``appointments_generate_slots``).

The kiosk tablet at a counter is used by many people in one browser session, so a
staff member of the counter's department pairs it (``staff_views.kiosk_setup``):
the browser gets a signed cookie naming the counter and its ``kiosk_generation``.
A paired kiosk takes tickets without limit; 「発券機の登録をすべて解除」 raises the
generation and so voids every earlier pairing (a lost or stolen tablet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from madoguchi.accounts.selectors import is_staff_account
from madoguchi.appointments.models import Counter
from madoguchi.core.middleware import client_ip

DEFAULT_TICKETS_PER_CLIENT_PER_HOUR = 5
DEFAULT_TICKETS_PER_ADDRESS_PER_HOUR = 0
KEY_SALT = "madoguchi.appointments.ticket-client"
KIOSK_COOKIE = "madoguchi_kiosk"
KIOSK_SALT = "madoguchi.appointments.kiosk"
#: Browsers keep a cookie for at most 400 days.
KIOSK_COOKIE_MAX_AGE = 400 * 24 * 3600
#: Set on the first visit of a ticket page, so that a browser has a session by the
#: time it presses the button.
SESSION_MARK = "appointments.client"


def tickets_per_client() -> int:
    return int(getattr(settings, "APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR", DEFAULT_TICKETS_PER_CLIENT_PER_HOUR))


def tickets_per_address() -> int:
    return int(getattr(settings, "APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR", DEFAULT_TICKETS_PER_ADDRESS_PER_HOUR))


@dataclass(frozen=True)
class TicketClient:
    """Who asks for a ticket, as ``ticket_issue`` counts it (keyed hashes only)."""

    key: str
    address_key: str


def _digest(value: str) -> str:
    return salted_hmac(KEY_SALT, value).hexdigest()[:40]


def mark_session(request: HttpRequest) -> None:
    """Make sure the browser gets a session cookie on its first visit."""
    if not request.session.get(SESSION_MARK):
        request.session[SESSION_MARK] = True


def client_for(request: HttpRequest) -> TicketClient:
    address = client_ip(request)
    user = request.user
    if not isinstance(user, AnonymousUser) and user.is_authenticated and not is_staff_account(user):
        key = f"user:{user.pk}"
    else:
        # Loading the session first: a cookie naming no stored session leaves no key.
        known = bool(request.session.get(SESSION_MARK)) and request.session.session_key
        key = f"session:{request.session.session_key}|{address}" if known else f"address:{address}"
    return TicketClient(key=_digest(key), address_key=_digest(f"address:{address}"))


# -- paired kiosks ----------------------------------------------------------------------------
def paired_counters(request: HttpRequest) -> dict[str, int]:
    """The counters (code → generation) this browser was paired with as a kiosk."""
    raw = request.get_signed_cookie(KIOSK_COOKIE, default="", salt=KIOSK_SALT, max_age=KIOSK_COOKIE_MAX_AGE)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int)}


def is_paired_kiosk(request: HttpRequest, counter: Counter) -> bool:
    return paired_counters(request).get(counter.code) == counter.kiosk_generation


def _set_cookie(response: HttpResponse, paired: dict[str, int]) -> None:
    if not paired:
        response.delete_cookie(KIOSK_COOKIE, samesite="Lax")
        return
    response.set_signed_cookie(
        KIOSK_COOKIE,
        json.dumps(paired, sort_keys=True),
        salt=KIOSK_SALT,
        max_age=KIOSK_COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def pair_kiosk(request: HttpRequest, response: HttpResponse, counter: Counter) -> None:
    """Mark this browser as the kiosk of ``counter`` (its other pairings stay)."""
    paired = paired_counters(request)
    paired[counter.code] = counter.kiosk_generation
    _set_cookie(response, paired)


def unpair_kiosk(request: HttpRequest, response: HttpResponse, counter: Counter) -> None:
    paired = paired_counters(request)
    paired.pop(counter.code, None)
    _set_cookie(response, paired)
