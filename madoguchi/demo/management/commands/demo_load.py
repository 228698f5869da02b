from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.core.datafiles import DataFileError
from madoguchi.demo.ward import ADMIN_EMAIL, RESIDENT_PASSWORD, STAFF_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the fictional demo ward (デモ区): catalog, residents, households, staff. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = demo_load()
        except DataFileError as exc:
            raise CommandError(f"demo ward not loaded: {exc}") from exc
        for line in [*report.catalog.lines(), *report.forms.lines()]:
            self.stdout.write(line)
        self.stdout.write(f"demo ward: {report.residents} residents, {report.staff} staff accounts")
        self.stdout.write("")
        self.stdout.write("Demo logins (fictional ward デモ区):")
        self.stdout.write(f"  resident        hanako@example.jp / {RESIDENT_PASSWORD}")
        self.stdout.write(f"  resident        ichiro@example.jp / {RESIDENT_PASSWORD}")
        self.stdout.write(f"  staff (担当)    kumin-tanto@demo-ku.example.jp / {STAFF_PASSWORD}")
        self.stdout.write(f"  staff (課長)    kumin-kacho@demo-ku.example.jp / {STAFF_PASSWORD}")
        self.stdout.write(f"  admin           {ADMIN_EMAIL} / {STAFF_PASSWORD}  (/admin/)")
        self.stdout.write("  My Number Card login: choose 「マイナンバーカードでログイン」 and pick a demo resident")
