from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.appointments import clock
from madoguchi.appointments.models import Counter
from madoguchi.appointments.services import booking_days, slots_generate, ticket_client_keys_clear


class Command(BaseCommand):
    help = (
        "Create the missing appointment slots of every active counter from today to APPOINTMENTS_BOOKING_DAYS "
        "ahead (open days and opening hours only). Existing slots are kept; running it again creates nothing. "
        "Also forgets the client keys (used by the limit on queue tickets) of earlier days' tickets."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="how many days ahead (default: the setting)")
        parser.add_argument("--counter", default="", help="only this counter (its code)")

    def handle(self, *args: Any, **options: Any) -> None:
        start = clock.today()
        end = start + dt.timedelta(days=options["days"] if options["days"] is not None else booking_days())
        counters = Counter.objects.filter(active=True)
        if options["counter"]:
            counters = counters.filter(code=options["counter"])
        total = 0
        for counter in counters:
            created = slots_generate(counter=counter, start=start, end=end)
            total += created
            if created:
                self.stdout.write(f"{counter.code}: {created} slots created")
        if total or options["verbosity"] >= 2:
            self.stdout.write(f"appointments: {total} slots created up to {end.isoformat()}")
        cleared = ticket_client_keys_clear()
        if cleared or options["verbosity"] >= 2:
            self.stdout.write(f"appointments: client keys of {cleared} earlier tickets cleared")
