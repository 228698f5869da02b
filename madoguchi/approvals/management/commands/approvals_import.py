from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.approvals.importer import DEFAULT_FILE, RouteImportError, approvals_import


class Command(BaseCommand):
    help = "Import the approval routes (approvals/data/routes.yaml by default). Idempotent; checks before writing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the routes file (YAML)")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = approvals_import(path=options["file"], dry_run=options["dry_run"])
        except RouteImportError as exc:
            raise CommandError(f"routes not imported: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was written")
