"""``manage.py webhooks_deliver``: send every due webhook delivery, once or in a loop.

``webhooks_deliver --loop --interval 10`` runs until SIGINT/SIGTERM, finishing the
current batch before it stops."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from madoguchi.integrations.services import webhook_deliver_due


class Command(BaseCommand):
    help = "送信時刻を過ぎたWebhookを送信します。--loop で繰り返し実行します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="1回に送信する最大件数")
        parser.add_argument("--loop", action="store_true", help="止めるまで繰り返す")
        parser.add_argument("--interval", type=float, default=10.0, help="繰り返しの間隔（秒）")
        parser.add_argument("--max-runs", type=int, default=None, help="--loop で実行する最大回数（試験用）")

    def handle(self, *args: Any, **options: Any) -> None:
        self._running = True
        if not options["loop"]:
            self._run(options)
            return
        previous = {signum: signal.signal(signum, self._stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            runs = 0
            while self._running:
                self._run(options)
                runs += 1
                if options["max_runs"] is not None and runs >= options["max_runs"]:
                    break
                deadline = time.monotonic() + options["interval"]
                while self._running and time.monotonic() < deadline:
                    time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _run(self, options: dict[str, Any]) -> None:
        if not connection.in_atomic_block:  # a long-running loop drops stale connections
            close_old_connections()
        result = webhook_deliver_due(limit=options["limit"])
        if options["verbosity"] >= 1 and (not options["loop"] or any(result.as_dict().values())):
            counts = ", ".join(f"{key}={value}" for key, value in result.as_dict().items())
            self.stdout.write(f"webhooks_deliver: {counts}")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._running = False
