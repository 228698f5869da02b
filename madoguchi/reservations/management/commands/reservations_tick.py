from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.reservations.services.bookings import bookings_lapse_due


class Command(BaseCommand):
    help = (
        "Lapse bookings whose confirmation or payment deadline passed and offer lapsed lottery wins to the "
        "waitlist. Run it every few minutes (cron or a loop next to the worker)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        lapsed = bookings_lapse_due()
        self.stdout.write(f"lapsed bookings: {lapsed}")
