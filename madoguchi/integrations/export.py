"""CSV and Excel files of a procedure's received applications (one row each).

Columns: 受付番号, 受付日時, 状態, 受付方法, then every field of the form in the order
of its newest version used by the exported applications (fields only in older versions
follow). A repeating group becomes one column per item and sub-field
(``養育している子 1: 氏名`` …), as many items as the longest answer has. Dates are
ISO dates (``2026-04-01``), numbers stay numbers, everything else is the text staff
see on screen. マイナンバー columns are left out unless ``include_mynumber`` (the
caller checks the permission ``applications.view_mynumber``).

CSV is UTF-8 with a BOM and CRLF line ends, which Japanese Excel opens correctly.
Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application, Channel
from madoguchi.core.crypto import DecryptionError
from madoguchi.forms import engine
from madoguchi.forms.fields import display_value, is_empty
from madoguchi.forms.fields import registry as field_types
from madoguchi.forms.logic import iter_fields
from madoguchi.forms.models import FormDefinition

CSV = "csv"
XLSX = "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FIXED_HEADERS = ("受付番号", "受付日時", "状態", "受付方法")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    field: Mapping[str, Any]
    index: int | None = None
    sub: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str
    rows: int
    mynumber_included: bool


def _sensitive(field: Mapping[str, Any]) -> bool:
    return field["type"] in field_types and field_types.get(field["type"]).sensitive


def _fields(versions: Sequence[FormDefinition]) -> list[Mapping[str, Any]]:
    """Top-level fields of all versions, newest version's order first, by key."""
    seen: dict[str, Mapping[str, Any]] = {}
    for version in versions:
        for _step, field in iter_fields(version.definition):
            seen.setdefault(field["key"], field)
    return list(seen.values())


def columns(
    versions: Sequence[FormDefinition], answers: Iterable[Mapping[str, Any]], *, include_mynumber: bool
) -> list[Column]:
    answers = list(answers)
    result: list[Column] = []
    for field in _fields(versions):
        if _sensitive(field) and not include_mynumber:
            continue
        if field["type"] != "group":
            result.append(Column(str(field["label"]), field["key"], field))
            continue
        items = max((len(a.get(field["key"]) or []) for a in answers), default=0)
        for index in range(items):
            for sub in field["fields"]:
                if _sensitive(sub) and not include_mynumber:
                    continue
                header = f"{field['label']} {index + 1}: {sub['label']}"
                result.append(Column(header, field["key"], field, index, sub))
    return result


def _value(field: Mapping[str, Any], value: Any, reveal: bool) -> Cell:
    if is_empty(value):
        return ""
    kind = field["type"]
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind in ("number", "money") and isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return display_value(field, value, "ja", reveal=reveal)
    except DecryptionError:
        return "（復号できません）"


def cell(column: Column, answers: Mapping[str, Any], *, reveal: bool) -> Cell:
    value = answers.get(column.key)
    if column.sub is None:
        return _value(column.field, value, reveal)
    items = value or []
    if column.index is None or column.index >= len(items):
        return ""
    return _value(column.sub, items[column.index].get(column.sub["key"]), reveal)


def safe(value: Cell) -> Cell:
    """Text a spreadsheet would treat as a formula gets a leading apostrophe; characters
    a spreadsheet file cannot hold are removed."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _fixed(application: Application) -> list[Cell]:
    submitted = (
        timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M") if application.submitted_at else ""
    )
    return [
        application.reference_number or "",
        submitted,
        str(Status(application.status).label),
        str(Channel(application.channel).label) if application.channel in Channel.values else application.channel,
    ]


def table(
    applications: Sequence[Application], versions: Sequence[FormDefinition], *, include_mynumber: bool
) -> tuple[list[str], list[list[Cell]]]:
    """Header and rows (values already made safe for spreadsheets)."""
    answers = [engine.from_stored(a.form_definition.definition, a.data) for a in applications]
    cols = columns(versions, answers, include_mynumber=include_mynumber)
    header = [*FIXED_HEADERS, *(c.header for c in cols)]
    rows = [
        [safe(v) for v in [*_fixed(a), *(cell(c, ans, reveal=include_mynumber) for c in cols)]]
        for a, ans in zip(applications, answers, strict=True)
    ]
    return [str(safe(h)) for h in header], rows


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "export")
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build(
    *,
    procedure_code: str,
    applications: Sequence[Application],
    versions: Sequence[FormDefinition],
    date_from: dt.date,
    date_to: dt.date,
    fmt: str,
    include_mynumber: bool,
) -> ExportFile:
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"unknown export format: {fmt!r}")
    header, rows = table(applications, versions, include_mynumber=include_mynumber)
    if fmt == CSV:
        content = to_csv(header, rows)
    else:
        content = to_xlsx(header, rows, title=procedure_code)
    filename = f"{procedure_code}_{date_from:%Y%m%d}-{date_to:%Y%m%d}.{fmt}"
    return ExportFile(
        content=content,
        content_type=CONTENT_TYPES[fmt],
        filename=filename,
        rows=len(rows),
        mynumber_included=include_mynumber and any(_sensitive_in(v) for v in versions),
    )


def _sensitive_in(version: FormDefinition) -> bool:
    for _step, field in iter_fields(version.definition):
        if _sensitive(field) or (field["type"] == "group" and any(_sensitive(s) for s in field["fields"])):
            return True
    return False
