"""QR codes for event check-in.

The code carries a token made with ``django.core.signing`` (HMAC-SHA256 with the
``SECRET_KEY``, salted for this purpose): the registration's public id and the event
id. Anyone can read the token, nobody can make or alter one: ``read_token`` raises
:class:`~madoguchi.reservations.errors.InvalidCode` for anything forged or tampered.
The QR code encodes the URL of the staff check-in page with the token, so a member of
staff scans it with any phone camera (or types the token on that page).
"""

from __future__ import annotations

from typing import Any

import segno
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.reservations import errors
from madoguchi.reservations.models import EventRegistration

SALT = "madoguchi.reservations.checkin"


def make_token(registration: EventRegistration) -> str:
    return signing.dumps({"r": str(registration.public_id), "e": registration.event_id}, salt=SALT)


def read_token(token: str) -> dict[str, Any]:
    """The token's content; :class:`errors.InvalidCode` if it is not one of ours."""
    token = "".join(token.split())
    if not token:
        raise errors.InvalidCode(_("受付コードを入力してください。"), field="code")
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise errors.InvalidCode(
            _("このQRコードは無効です。偽造または改ざんされたコードか、本区が発行したものではありません。"),
            field="code",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("e"), int):
        raise errors.InvalidCode(_("このQRコードは無効です。"), field="code")
    return data


def checkin_path(registration: EventRegistration) -> str:
    return reverse("reservations:staff_checkin") + "?code=" + make_token(registration)


def qr_svg(url: str, *, title: str) -> str:
    """The QR code of ``url`` as an inline SVG (with a title for screen readers)."""
    qr = segno.make(url, error="m")
    return str(qr.svg_inline(scale=5, border=4, title=title, dark="#000", light="#fff"))
