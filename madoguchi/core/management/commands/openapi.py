from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.config.api import api

OPENAPI_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def render_schema() -> str:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write docs/openapi.json (--write) or fail if it is stale (--check)."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--write", action="store_true")
        group.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        current = render_schema()
        if options["write"]:
            OPENAPI_FILE.write_text(current, encoding="utf-8")
            self.stdout.write(f"wrote {OPENAPI_FILE}")
            return
        committed = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
        if committed != current:
            raise CommandError("docs/openapi.json is stale: run ./run openapi and commit it")
        self.stdout.write("docs/openapi.json is up to date")
