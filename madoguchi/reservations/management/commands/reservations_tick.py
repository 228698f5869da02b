from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.reservations.services.bookings import bookings_lapse_due
from madoguchi.reservations.services.refunds import booking_refunds_retry_due


class Command(BaseCommand):
    help = (
        "Lapse bookings whose confirmation or payment deadline passed, offer lapsed lottery wins to the "
        "waitlist, and retry the refunds whose next attempt is due. Run it every few minutes (cron or a loop "
        "next to the worker)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        lapsed = bookings_lapse_due()
        self.stdout.write(f"lapsed bookings: {lapsed}")
        sweep = booking_refunds_retry_due()
        self.stdout.write(f"refunds: {sweep.refunded} refunded, {sweep.failed} failed")
