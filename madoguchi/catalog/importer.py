"""Import the catalog data files (procedures.yaml, life_events.yaml) into the database.

Flow: both files are parsed with line numbers, checked against a JSON schema and for
references (department, procedure, question and choice codes) before anything is
written; the first problem raises ``CatalogError`` naming the file and line. Then,
inside one transaction, departments, procedures, life events and guide rules are
created or updated by code, and procedures no longer in the file are withdrawn
(``active=False``, so that records that refer to them stay valid). Unchanged rows are
not written, so importing the same files twice changes nothing. The returned
``ImportReport`` says what changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.db import models, transaction
from jsonschema import Draft202012Validator

from madoguchi.catalog.models import CatalogImport, GuideRule, LifeEvent, Procedure
from madoguchi.core.datafiles import DataFileError
from madoguchi.core.japanese import reading
from madoguchi.core.models import Department

M = TypeVar("M", bound=models.Model)
PROCEDURES_FILE = "procedures.yaml"
LIFE_EVENTS_FILE = "life_events.yaml"
CHANNELS = ["online", "counter", "post", "kiosk"]
CODE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 64}
TEXT = {"type": "string"}
TEXT_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}

PROCEDURES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "departments", "procedures"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string", "minLength": 1},
        "departments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "name": {"type": "string", "minLength": 1},
                    "name_en": TEXT,
                    "location": TEXT,
                    "location_en": TEXT,
                    "phone": TEXT,
                },
            },
        },
        "procedures": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "department", "channels"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "name_en": TEXT,
                    "synonyms": TEXT_LIST,
                    "summary": TEXT,
                    "summary_en": TEXT,
                    "department": CODE,
                    "counter": TEXT,
                    "counter_en": TEXT,
                    "eligibility": TEXT,
                    "eligibility_en": TEXT,
                    "bring": TEXT_LIST,
                    "bring_en": TEXT_LIST,
                    "fee": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "yen": {"type": "integer", "minimum": 0},
                            "note": TEXT,
                            "note_en": TEXT,
                        },
                    },
                    "deadline": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "days": {"type": "integer", "minimum": -366, "maximum": 3660},
                            "counts_first_day": {"type": "boolean"},
                            "text": TEXT,
                            "text_en": TEXT,
                        },
                    },
                    "channels": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": CHANNELS},
                    },
                    "legal_basis": TEXT,
                    "processing_time": TEXT,
                    "processing_time_en": TEXT,
                    "processing_days": {"type": "integer", "minimum": 0, "maximum": 365},
                    "url": {"type": "string", "pattern": "^https?://"},
                },
            },
        },
    },
}

CHOICE_VALUE = {"type": "string", "minLength": 1, "maxLength": 64}
LIFE_EVENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "additionalProperties": False,
    "properties": {
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "rules"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "name": {"type": "string", "minLength": 1},
                    "name_en": TEXT,
                    "group": TEXT,
                    "group_en": TEXT,
                    "description": TEXT,
                    "description_en": TEXT,
                    "date_label": TEXT,
                    "date_label_en": TEXT,
                    "questions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["code", "text", "choices"],
                            "additionalProperties": False,
                            "properties": {
                                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                                "text": {"type": "string", "minLength": 1},
                                "text_en": TEXT,
                                "help": TEXT,
                                "help_en": TEXT,
                                "choices": {
                                    "type": "array",
                                    "minItems": 2,
                                    "items": {
                                        "type": "object",
                                        "required": ["value", "label"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "value": CHOICE_VALUE,
                                            "label": {"type": "string", "minLength": 1},
                                            "label_en": TEXT,
                                        },
                                    },
                                },
                                "show_if": {"type": "object"},
                            },
                        },
                    },
                    "rules": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["procedure"],
                            "additionalProperties": False,
                            "properties": {
                                "procedure": CODE,
                                "when": {"type": "object"},
                                "note": TEXT,
                                "note_en": TEXT,
                                "deadline_days": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        }
    },
}


class CatalogError(DataFileError):
    """A problem in a catalog file; nothing was imported."""


class _LineDict(dict[str, Any]):
    """A mapping that remembers the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    result = _LineDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    result.line = node.start_mark.line + 1
    result.key_lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest node on ``path`` that has one."""
    line = getattr(data, "line", None)
    node = data
    for part in path:
        if isinstance(node, _LineDict) and isinstance(part, str):
            line = node.line_of(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def _load(path: Path, schema: dict[str, Any]) -> Any:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError(name, None, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(name, None, "the file must be UTF-8") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CatalogError(name, line, f"YAML syntax error: {exc.problem}") from exc
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise CatalogError(name, _line_of(data, error.absolute_path), f"{where}: {error.message}")
    return data


@dataclass
class ImportReport:
    version: str
    created: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    withdrawn: dict[str, list[str]] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def add(self, bucket: dict[str, list[str]], kind: str, code: str) -> None:
        bucket.setdefault(kind, []).append(code)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.withdrawn)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created": self.created,
            "updated": self.updated,
            "withdrawn": self.withdrawn,
            "unchanged": self.unchanged,
        }

    def lines(self) -> list[str]:
        out = [f"catalog version {self.version}"]
        for kind in ("department", "procedure", "life_event", "rule"):
            parts = []
            for label, bucket in (("created", self.created), ("updated", self.updated), ("withdrawn", self.withdrawn)):
                codes = bucket.get(kind, [])
                if codes:
                    more = " …" if len(codes) > 12 else ""
                    parts.append(f"{len(codes)} {label} ({', '.join(codes[:12])}{more})")
            parts.append(f"{self.unchanged.get(kind, 0)} unchanged")
            out.append(f"  {kind}: " + "; ".join(parts))
        if not self.changed:
            out.append("  nothing changed")
        return out


def _check_references(proc_data: Any, event_data: Any) -> None:
    dept_codes: set[str] = set()
    for dept in proc_data["departments"]:
        if dept["code"] in dept_codes:
            raise CatalogError(PROCEDURES_FILE, dept.line_of("code"), f"department code {dept['code']!r} is used twice")
        dept_codes.add(dept["code"])
    proc_codes: set[str] = set()
    for proc in proc_data["procedures"]:
        if proc["code"] in proc_codes:
            raise CatalogError(PROCEDURES_FILE, proc.line_of("code"), f"procedure code {proc['code']!r} is used twice")
        proc_codes.add(proc["code"])
        if proc["department"] not in dept_codes:
            raise CatalogError(
                PROCEDURES_FILE, proc.line_of("department"), f"unknown department {proc['department']!r}"
            )
        if "bring_en" in proc and len(proc["bring_en"]) != len(proc.get("bring", [])):
            raise CatalogError(
                PROCEDURES_FILE, proc.line_of("bring_en"), "bring and bring_en must have the same number of items"
            )
    event_codes: set[str] = set()
    for event in event_data["events"]:
        if event["code"] in event_codes:
            raise CatalogError(
                LIFE_EVENTS_FILE, event.line_of("code"), f"life event code {event['code']!r} is used twice"
            )
        event_codes.add(event["code"])
        choices: dict[str, set[str]] = {}
        for question in event.get("questions", []):
            if question["code"] in choices:
                raise CatalogError(
                    LIFE_EVENTS_FILE, question.line_of("code"), f"question code {question['code']!r} is used twice"
                )
            _check_condition(question.get("show_if", {}), choices, question.line_of("show_if"))
            values = [c["value"] for c in question["choices"]]
            if len(set(values)) != len(values):
                raise CatalogError(LIFE_EVENTS_FILE, question.line_of("choices"), "choice values must be unique")
            choices[question["code"]] = set(values)
        if not any(not rule.get("when") for rule in event["rules"]):
            raise CatalogError(
                LIFE_EVENTS_FILE, event.line_of("rules"), "every life event needs at least one rule without `when`"
            )
        for rule in event["rules"]:
            if rule["procedure"] not in proc_codes:
                raise CatalogError(
                    LIFE_EVENTS_FILE, rule.line_of("procedure"), f"unknown procedure {rule['procedure']!r}"
                )
            _check_condition(rule.get("when", {}), choices, rule.line_of("when"))


def _check_condition(condition: dict[str, Any], choices: dict[str, set[str]], line: int) -> None:
    for question, accepted in condition.items():
        if question not in choices:
            raise CatalogError(LIFE_EVENTS_FILE, line, f"condition names unknown or later question {question!r}")
        values = accepted if isinstance(accepted, list) else [accepted]
        for value in values:
            if not isinstance(value, str) or value not in choices[question]:
                raise CatalogError(LIFE_EVENTS_FILE, line, f"{value!r} is not a choice of question {question!r}")


def _plain(value: Any) -> Any:
    """Strip line information: plain dicts and lists for JSON fields."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def load_catalog(directory: Path) -> tuple[Any, Any, str]:
    proc_path = directory / PROCEDURES_FILE
    event_path = directory / LIFE_EVENTS_FILE
    proc_data = _load(proc_path, PROCEDURES_SCHEMA)
    event_data = _load(event_path, LIFE_EVENTS_SCHEMA)
    _check_references(proc_data, event_data)
    digest = hashlib.sha256(proc_path.read_bytes() + b"\0" + event_path.read_bytes()).hexdigest()
    return proc_data, event_data, digest


def catalog_import(*, directory: Path, dry_run: bool = False) -> ImportReport:
    """Check and import the catalog in ``directory``. Raises ``CatalogError`` (and
    writes nothing) on the first problem."""
    proc_data, event_data, digest = load_catalog(directory)
    version = str(proc_data["version"])
    report = ImportReport(version=version)
    with transaction.atomic():
        departments = _import_departments(proc_data["departments"], report)
        procedures = _import_procedures(proc_data["procedures"], departments, version, report)
        _import_events(event_data["events"], procedures, report)
        if report.changed:
            CatalogImport.objects.create(version=version, sha256=digest, summary=report.as_dict())
        if dry_run:
            transaction.set_rollback(True)
    return report


def _upsert(
    model: type[M],
    existing: dict[str, M],
    *,
    code: str,
    values: dict[str, Any],
    kind: str,
    report: ImportReport,
    stamp: dict[str, Any] | None = None,
) -> M:
    """Create the row with ``code``, or write only the fields that differ. ``stamp``
    fields (e.g. the catalog version) are written with a creation or a change only."""
    stamp = stamp or {}
    obj = existing.get(code)
    if obj is None:
        obj = model._default_manager.create(code=code, **values, **stamp)
        report.add(report.created, kind, code)
    elif changed := _apply(obj, values):
        _apply(obj, stamp)
        obj.save(update_fields=[*changed, *stamp])
        report.add(report.updated, kind, code)
    else:
        report.unchanged[kind] = report.unchanged.get(kind, 0) + 1
    return obj


def _import_departments(rows: list[Any], report: ImportReport) -> dict[str, Department]:
    existing = {d.code: d for d in Department.objects.all()}
    fields = ("name", "name_en", "location", "location_en", "phone")
    return {
        row["code"]: _upsert(
            Department,
            existing,
            code=row["code"],
            values={k: row.get(k, "") for k in fields},
            kind="department",
            report=report,
        )
        for row in rows
    }


def _procedure_values(row: Any, department: Department, version: str) -> dict[str, Any]:
    fee = row.get("fee", {})
    deadline = row.get("deadline", {})
    synonyms = _plain(row.get("synonyms", []))
    return {
        "name": row["name"],
        "name_en": row.get("name_en", ""),
        "reading": reading(row["name"])[:400],
        "synonyms": synonyms,
        "summary": row.get("summary", ""),
        "summary_en": row.get("summary_en", ""),
        "department_id": department.pk,
        "counter": row.get("counter", "") or department.location,
        "counter_en": row.get("counter_en", "") or department.location_en,
        "eligibility": row.get("eligibility", ""),
        "eligibility_en": row.get("eligibility_en", ""),
        "bring": _plain(row.get("bring", [])),
        "bring_en": _plain(row.get("bring_en", [])),
        "fee_yen": fee.get("yen"),
        "fee_note": fee.get("note", ""),
        "fee_note_en": fee.get("note_en", ""),
        "deadline_days": deadline.get("days"),
        "deadline_counts_first_day": bool(deadline.get("counts_first_day", False)),
        "deadline_text": deadline.get("text", ""),
        "deadline_text_en": deadline.get("text_en", ""),
        "channels": _plain(row["channels"]),
        "legal_basis": row.get("legal_basis", ""),
        "processing_time": row.get("processing_time", ""),
        "processing_time_en": row.get("processing_time_en", ""),
        "processing_days": row.get("processing_days"),
        "url": row.get("url", ""),
        "active": True,
    }


def _import_procedures(
    rows: list[Any], departments: dict[str, Department], version: str, report: ImportReport
) -> dict[str, Procedure]:
    existing = {p.code: p for p in Procedure.objects.all()}
    result: dict[str, Procedure] = {}
    for row in rows:
        proc = _upsert(
            Procedure,
            existing,
            code=row["code"],
            values=_procedure_values(row, departments[row["department"]], version),
            kind="procedure",
            report=report,
            stamp={"catalog_version": version},
        )
        result[proc.code] = proc
    for code, proc in existing.items():
        if code not in result and proc.active:
            proc.active = False
            proc.save(update_fields=["active"])
            report.add(report.withdrawn, "procedure", code)
    return result


def _import_events(rows: list[Any], procedures: dict[str, Procedure], report: ImportReport) -> None:
    existing = {e.code: e for e in LifeEvent.objects.all()}
    seen: set[str] = set()
    for order, row in enumerate(rows, start=1):
        values = {
            "name": row["name"],
            "order": order,
            "questions": _plain(row.get("questions", [])),
            **{
                k: row.get(k, "")
                for k in (
                    "name_en",
                    "group",
                    "group_en",
                    "description",
                    "description_en",
                    "date_label",
                    "date_label_en",
                )
            },
        }
        event = _upsert(LifeEvent, existing, code=row["code"], values=values, kind="life_event", report=report)
        seen.add(event.code)
        _import_rules(event, row["rules"], procedures, report)
    for code, event in existing.items():
        if code not in seen:
            event.delete()
            report.add(report.withdrawn, "life_event", code)


def _import_rules(event: LifeEvent, rows: list[Any], procedures: dict[str, Procedure], report: ImportReport) -> None:
    wanted = [
        (
            procedures[row["procedure"]].pk,
            order,
            _plain(row.get("when", {})),
            row.get("note", ""),
            row.get("note_en", ""),
            row.get("deadline_days"),
        )
        for order, row in enumerate(rows, start=1)
    ]
    current = [
        (r.procedure_id, r.order, r.when, r.note, r.note_en, r.deadline_days)
        for r in GuideRule.objects.filter(event=event).order_by("order", "pk")
    ]
    if wanted == current:
        report.unchanged["rule"] = report.unchanged.get("rule", 0) + len(wanted)
        return
    GuideRule.objects.filter(event=event).delete()
    GuideRule.objects.bulk_create(
        GuideRule(event=event, procedure_id=pid, order=order, when=when, note=note, note_en=note_en, deadline_days=days)
        for pid, order, when, note, note_en, days in wanted
    )
    event.procedures.set({pid for pid, *_ in wanted})
    report.add(report.updated, "rule", event.code)
