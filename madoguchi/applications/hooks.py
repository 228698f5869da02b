"""Submitting an application when its fee is paid (see ``payments.hooks``)."""

from __future__ import annotations

from madoguchi.applications.services import PAYMENT_PURPOSE, application_paid
from madoguchi.payments.hooks import on_payment_settled

on_payment_settled(PAYMENT_PURPOSE)(application_paid)
