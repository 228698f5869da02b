"""Confirming a booking when its fee is paid (see ``payments.hooks``)."""

from __future__ import annotations

from madoguchi.payments.hooks import on_payment_settled
from madoguchi.reservations.services.bookings import PAYMENT_PURPOSE, booking_paid

on_payment_settled(PAYMENT_PURPOSE)(booking_paid)
