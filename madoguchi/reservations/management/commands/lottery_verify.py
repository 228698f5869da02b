from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.reservations import errors
from madoguchi.reservations.models import LotteryRound
from madoguchi.reservations.services.lottery import lottery_verify


class Command(BaseCommand):
    help = (
        "Re-run a lottery draw from its revealed seed and the stored applications, and compare it with the "
        "stored result. Exit status 1 if anything differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("round", type=int, help="the lottery round id (shown in its URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        lottery = LotteryRound.objects.filter(pk=options["round"]).first()
        if lottery is None:
            raise CommandError(f"no lottery round {options['round']}")
        try:
            result = lottery_verify(lottery)
        except errors.Refused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"round            {lottery.pk} {lottery.title}")
        self.stdout.write(f"algorithm        {lottery.algorithm}")
        self.stdout.write(f"seed sha256      {lottery.seed_hash}")
        self.stdout.write(f"seed             {lottery.seed_revealed}")
        self.stdout.write(f"seed matches     {'yes' if result.seed_matches_hash else 'NO'}")
        self.stdout.write(f"stored digest    {result.stored_digest}")
        self.stdout.write(f"recomputed       {result.recomputed_digest}")
        self.stdout.write(f"stored wins      {result.stored_wins_digest}")
        self.stdout.write(f"wins             {result.wins}")
        if not result.ok:
            raise CommandError("MISMATCH: the stored result differs from the re-run draw")
        self.stdout.write(self.style.SUCCESS("OK: the draw re-runs to the stored result"))
