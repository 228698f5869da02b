"""Signed ticket URLs.

A queue ticket's page, its refresh and its cancel button are reached only through
``/appointments/ticket/<token>/``, where the token is the ticket's public id signed
with ``SECRET_KEY`` under this module's salt (``django.core.signing.Signer``). The id
is random already; the signature makes a guessed, copied-and-edited or truncated URL
a clear 「正しくありません」 page instead of a lookup, and lets the ward rotate the
key to void every ticket link at once. Nothing else in the URL is trusted: the
ticket must still exist.
"""

from __future__ import annotations

import uuid

from django.core import signing

SALT = "madoguchi.appointments.ticket"


class BadTicketToken(Exception):
    """A forged, altered or malformed ticket link."""


def ticket_token(public_id: uuid.UUID | str) -> str:
    return signing.Signer(salt=SALT).sign(str(public_id))


def read_ticket_token(token: str) -> uuid.UUID:
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        return uuid.UUID(value)
    except (signing.BadSignature, ValueError) as exc:
        raise BadTicketToken(token[:80]) from exc
