from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Check that every translation catalog is complete (no empty or fuzzy entries) and that each .mo "
        "matches its .po; --compile writes the .mo files. Uses polib, so GNU gettext is not needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--compile", action="store_true", help="write .mo files from .po files")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        for code, _name in settings.LANGUAGES:
            if code != settings.LANGUAGE_CODE and not any(
                (Path(d) / code / "LC_MESSAGES" / "django.po").exists() for d in settings.LOCALE_PATHS
            ):
                problems.append(f"no translation catalog for {code}: run makemessages -l {code}")
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                po = polib.pofile(str(po_path))
                missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
                if missing:
                    shown = ", ".join(repr(m) for m in missing[:5])
                    problems.append(f"{po_path}: {len(missing)} untranslated or fuzzy: {shown}")
                mo_path = po_path.with_suffix(".mo")
                if options["compile"]:
                    po.save_as_mofile(str(mo_path))
                elif not mo_path.exists() or _mo_entries(mo_path) != _po_entries(po):
                    problems.append(f"{mo_path}: stale, run ./run manage compilemessages_check --compile")
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write("translations complete and compiled")


def _po_entries(po: polib.POFile) -> dict[str, str]:
    return {e.msgid: e.msgstr for e in po.translated_entries() if not e.msgid_plural}


def _mo_entries(mo_path: Path) -> dict[str, str]:
    return {e.msgid: e.msgstr for e in polib.mofile(str(mo_path)) if not e.msgid_plural and e.msgid}
