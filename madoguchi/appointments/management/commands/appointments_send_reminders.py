from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.appointments.services import reminders_send


class Command(BaseCommand):
    help = (
        "Queue the reminder (e-mail with .ics and inbox) of every appointment that starts tomorrow; "
        "each appointment is reminded once per start time, so running it often is safe."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running, every --interval seconds")
        parser.add_argument("--interval", type=int, default=900)

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            sent = reminders_send()
            if sent or options["verbosity"] >= 2:
                self.stdout.write(f"appointments: {sent} reminders queued")
            if not options["loop"]:
                return
            time.sleep(max(options["interval"], 1))
