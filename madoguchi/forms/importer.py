"""Import the form definitions in ``forms/data/*.yaml`` (one form per file).

Flow: every file is parsed with line numbers (the catalog's line-tracking YAML
loader), checked with ``validate_definition`` and for its procedure code (it must be
in the catalog, and only one file per procedure) before anything is written; the first
problem raises ``FormImportError`` naming the file and line. Then, in one transaction,
each form whose content differs from its latest published version becomes a new
published version; unchanged forms are not touched, so importing twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from madoguchi.catalog.importer import _line_of, _LineLoader, _plain
from madoguchi.catalog.models import Procedure
from madoguchi.core.datafiles import DataFileError
from madoguchi.forms.models import FormDefinition, FormStatus, definition_checksum
from madoguchi.forms.schema import validate_definition
from madoguchi.forms.services import form_create_version

DEFAULT_DIR = Path(__file__).resolve().parent / "data"


def forms_dir() -> Path:
    return Path(getattr(settings, "FORMS_DIR", "") or DEFAULT_DIR)


class FormImportError(DataFileError):
    """A problem in a form file; nothing was imported."""


@dataclass
class FormsReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"  {code}: new version {version}" for code, version in (c.split("@") for c in self.created)]
        out.append(f"  {len(self.created)} new versions, {len(self.unchanged)} unchanged")
        return out


def load_form_file(path: Path) -> dict[str, Any]:
    """Parse and check one file; ``FormImportError`` with the line of the first problem."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormImportError(name, None, "the file must be UTF-8") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise FormImportError(name, line, f"YAML syntax error: {exc.problem}") from exc
    errors = validate_definition(_plain(data))
    if errors:
        first = errors[0]
        raise FormImportError(name, _line_of(data, first.parts), str(first))
    return data


def load_forms(directory: Path) -> list[tuple[str, Any]]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise FormImportError(str(directory), None, "no *.yaml form files")
    codes = set(Procedure.objects.values_list("code", flat=True))
    seen: dict[str, str] = {}
    loaded: list[tuple[str, Any]] = []
    for path in files:
        data = load_form_file(path)
        code = data["procedure"]
        line = data.line_of("procedure") if hasattr(data, "line_of") else None
        if code not in codes:
            raise FormImportError(path.name, line, f"unknown procedure {code!r} (not in the catalog)")
        if code in seen:
            raise FormImportError(path.name, line, f"procedure {code!r} already has a form in {seen[code]}")
        seen[code] = path.name
        loaded.append((path.name, data))
    return loaded


def forms_import(*, directory: Path | None = None, dry_run: bool = False) -> FormsReport:
    """Check all files in ``directory`` and import the changed ones as new published versions."""
    loaded = load_forms(directory or forms_dir())
    report = FormsReport()
    with transaction.atomic():
        procedures = {p.code: p for p in Procedure.objects.filter(code__in=[d["procedure"] for _n, d in loaded])}
        for _name, data in loaded:
            definition = _plain(data)
            procedure = procedures[definition["procedure"]]
            latest = (
                FormDefinition.objects.filter(procedure=procedure, status=FormStatus.PUBLISHED)
                .order_by("-version")
                .first()
            )
            if latest is not None and latest.checksum == definition_checksum(definition):
                report.unchanged.append(procedure.code)
                continue
            form = form_create_version(procedure=procedure, definition=definition, publish=True)
            report.created.append(f"{procedure.code}@{form.version}")
        if dry_run:
            transaction.set_rollback(True)
    return report
