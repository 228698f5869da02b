from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.forms.importer import FormImportError, forms_import


class Command(BaseCommand):
    help = "Import the online form definitions (forms/data/*.yaml); idempotent; aborts on the first bad entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="folder with the form files")
        parser.add_argument("--dry-run", action="store_true", help="check and report without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = forms_import(directory=options["dir"], dry_run=options["dry_run"])
        except FormImportError as exc:
            raise CommandError(f"forms import aborted, nothing was changed: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was written")
