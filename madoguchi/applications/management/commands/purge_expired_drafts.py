from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.applications.services import application_purge_expired_drafts


class Command(BaseCommand):
    help = "Delete application drafts whose keeping period has passed, with their uploaded files."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = application_purge_expired_drafts()
        self.stdout.write(f"{deleted} expired drafts deleted")
