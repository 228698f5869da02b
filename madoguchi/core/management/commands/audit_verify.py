from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits non-zero if any record was altered or deleted."

    def handle(self, *args: Any, **options: Any) -> None:
        count, problems = audit_verify()
        for problem in problems:
            self.stderr.write(f"#{problem.seq}: {problem.message}")
        if problems:
            raise CommandError(f"audit log verification FAILED: {len(problems)} problem(s) in {count} records")
        self.stdout.write(f"audit log OK: {count} records, chain intact")
