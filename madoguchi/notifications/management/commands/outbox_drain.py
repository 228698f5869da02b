"""``manage.py outbox_drain``: deliver every due outbox message, once or in a loop.

``outbox_drain --loop --interval 5`` runs until SIGINT/SIGTERM, finishing the
current batch before it stops."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from madoguchi.core.audit import audit_seal
from madoguchi.notifications.services import outbox_drain


class Command(BaseCommand):
    help = "送信時刻を過ぎた通知（メール・受信箱）を送信します。--loop で繰り返し実行します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="1回に送信する最大件数")
        parser.add_argument("--loop", action="store_true", help="止めるまで繰り返す")
        parser.add_argument("--interval", type=float, default=5.0, help="繰り返しの間隔（秒）")
        parser.add_argument("--max-runs", type=int, default=None, help="--loop で実行する最大回数（試験用）")

    def handle(self, *args: Any, **options: Any) -> None:
        self._running = True
        if not options["loop"]:
            self._drain(options)
            return
        previous = {signum: signal.signal(signum, self._stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._loop(options)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _drain(self, options: dict[str, Any]) -> None:
        if not connection.in_atomic_block:  # a long-running loop drops stale connections
            close_old_connections()
        result = outbox_drain(limit=options["limit"])
        audit_seal()  # records a busy request left unsealed are chained here at the latest
        if options["verbosity"] >= 1 and (not options["loop"] or any(result.as_dict().values())):
            counts = ", ".join(f"{key}={value}" for key, value in result.as_dict().items())
            self.stdout.write(f"outbox_drain: {counts}")

    def _loop(self, options: dict[str, Any]) -> None:
        runs = 0
        while True:
            self._drain(options)
            runs += 1
            if not self._running:
                break
            if options["max_runs"] is not None and runs >= options["max_runs"]:
                break
            deadline = time.monotonic() + options["interval"]
            while self._running and time.monotonic() < deadline:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            if not self._running:
                break

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._running = False
