from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.catalog.importer import CatalogError, catalog_import


class Command(BaseCommand):
    help = "Import procedures.yaml and life_events.yaml; idempotent; aborts on the first bad entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="folder with the data files (CATALOG_DIR)")
        parser.add_argument("--dry-run", action="store_true", help="check and report without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["dir"] or settings.CATALOG_DIR
        try:
            report = catalog_import(directory=Path(directory), dry_run=options["dry_run"])
        except CatalogError as exc:
            raise CommandError(f"catalog import aborted, nothing was changed: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was written")
