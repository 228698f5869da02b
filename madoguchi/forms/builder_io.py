"""Forms as JSON files, so that wards can share them.

``export_document`` wraps one version of a form in a small envelope::

    {"format": "madoguchi-form", "format_version": 1, "procedure": "juminhyo-copy",
     "version": 3, "status": "published", "exported_at": "…", "checksum": "…",
     "definition": {…}}

``parse_export`` reads such a file back and returns its ``definition``; anything else
(not UTF-8, not JSON, no format marker, a newer format version, no definition) raises
``BadExport`` with Japanese problems. Whether the definition itself is sound is decided
by ``builder_checks.publish_problems`` in ``services.form_draft_import``.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.forms.builder_checks import Problem
from madoguchi.forms.models import FormDefinition

FORMAT = "madoguchi-form"
FORMAT_VERSION = 1
MAX_BYTES = 2_000_000


class BadExport(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def export_document(form: FormDefinition) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "procedure": form.procedure.code,
        "procedure_name": form.procedure.name,
        "version": form.version,
        "status": form.status,
        "published_at": form.published_at.isoformat() if form.published_at else None,
        "exported_at": timezone.now().isoformat(),
        "checksum": form.checksum,
        "definition": form.definition,
    }


def export_filename(form: FormDefinition) -> str:
    return f"{form.procedure.code}-v{form.version}.json"


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def parse_export(text: str | bytes) -> dict[str, Any]:
    def refuse(message: str) -> BadExport:
        return BadExport([Problem("", message)])

    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise refuse(_("ファイルが大きすぎます（2MBまで）。"))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise refuse(_("UTF-8 の JSON ファイルを選んでください。")) from exc
    if not text.strip():
        raise refuse(_("ファイルが空です。"))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise refuse(
            _("JSON として読めません（%(line)s行目 %(column)s文字目: %(error)s）。")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise refuse(
            _('madoguchi から書き出したフォームのファイルではありません（"format": "%(format)s" がありません）。')
            % {"format": FORMAT}
        )
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise refuse(
            _("このファイルの形式の版（%(version)s）には対応していません（対応: %(supported)s）。")
            % {"version": version, "supported": FORMAT_VERSION}
        )
    definition = document.get("definition")
    if not isinstance(definition, dict):
        raise refuse(_("ファイルに definition（フォームの定義）がありません。"))
    return definition
