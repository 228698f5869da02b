"""Import the approval routes (``approvals/data/routes.yaml``) into the database.

Flow: the file is parsed with line numbers (the catalog's line-tracking YAML loader),
checked against ``ROUTES_SCHEMA`` and then for what a schema cannot say (codes used
twice, one default route at most, a procedure or department claimed by two routes,
procedures and departments that exist, 合議 members named once) before anything is
written; the first problem raises ``RouteImportError`` naming the file, the line and
the key (``routes/2/steps/1/role``). Then, in one transaction, routes are created or
updated by code, their steps replaced only when they differ, and routes no longer in
the file are deactivated (requests that used them keep their own copy of the steps).
Importing the same file twice changes nothing. A change is audit-logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from jsonschema import Draft202012Validator

from madoguchi.approvals.models import APPROVER_ROLES, ApprovalRoute, RouteStep, StepKind
from madoguchi.catalog.importer import _line_of, _LineLoader, _plain
from madoguchi.catalog.models import Procedure
from madoguchi.core.audit import audit_record
from madoguchi.core.datafiles import DataFileError
from madoguchi.core.models import Department

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "routes.yaml"

CODE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 64}
TEXT = {"type": "string"}
MEMBER: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "additionalProperties": False,
    "properties": {"role": {"enum": list(APPROVER_ROLES)}, "department": CODE},
}
STEP: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "role": {"enum": list(APPROVER_ROLES)},
        "department": CODE,
        "label": {"type": "string", "maxLength": 100},
        "parallel": {"type": "array", "minItems": 2, "items": MEMBER},
    },
}
ROUTES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "routes"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string", "minLength": 1, "maxLength": 64},
        "routes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "name", "steps"],
                "additionalProperties": False,
                "properties": {
                    "code": CODE,
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "name_en": {"type": "string", "maxLength": 300},
                    "description": TEXT,
                    "default": {"type": "boolean"},
                    "documents": {"type": "boolean"},
                    "procedures": {"type": "array", "uniqueItems": True, "items": CODE},
                    "departments": {"type": "array", "uniqueItems": True, "items": CODE},
                    "steps": {"type": "array", "minItems": 1, "items": STEP},
                },
            },
        },
    },
}

#: A stored step (``RouteStep``: kind, label, members), for the admin's checks.
STORED_STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "members"],
    "properties": {
        "kind": {"enum": [k.value for k in StepKind]},
        "label": {"type": "string", "maxLength": 100},
        "members": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "department"],
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": list(APPROVER_ROLES)},
                    "department": {"anyOf": [CODE, {"type": "null"}]},
                },
            },
        },
    },
}


class RouteImportError(DataFileError):
    """A problem in the routes file; nothing was imported."""


@dataclass
class RoutesReport:
    version: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)

    def lines(self) -> list[str]:
        out = [f"approval routes version {self.version}"]
        for label, codes in (("created", self.created), ("updated", self.updated), ("deactivated", self.deactivated)):
            if codes:
                out.append(f"  {len(codes)} {label} ({', '.join(codes)})")
        out.append(f"  {len(self.unchanged)} unchanged")
        if not self.changed:
            out.append("  nothing changed")
        return out


def step_problems(step: dict[str, Any]) -> list[str]:
    """Problems of one stored step (``kind``, ``members``), as messages."""
    errors = [e.message for e in Draft202012Validator(STORED_STEP_SCHEMA).iter_errors(step)]
    if errors:
        return errors
    members = step["members"]
    problems = []
    if step["kind"] == StepKind.SINGLE and len(members) != 1:
        problems.append("a single step has exactly one member")
    if step["kind"] == StepKind.PARALLEL and len(members) < 2:
        problems.append("a 合議 (parallel) step has two or more members")
    pairs = [(m["role"], m["department"]) for m in members]
    if len(set(pairs)) != len(pairs):
        problems.append("a member is named twice")
    codes = {m["department"] for m in members if m["department"]}
    unknown = codes - set(Department.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        problems.append(f"unknown department {sorted(unknown)[0]!r}")
    return problems


def _step_from_file(step: dict[str, Any]) -> dict[str, Any]:
    if "parallel" in step:
        members = [{"role": m["role"], "department": m.get("department")} for m in step["parallel"]]
        kind = StepKind.PARALLEL.value
    else:
        members = [{"role": step["role"], "department": step.get("department")}]
        kind = StepKind.SINGLE.value
    return {"kind": kind, "label": step.get("label", ""), "members": members}


def load_routes(path: Path) -> Any:
    """Parse and check the file; ``RouteImportError`` at the first problem."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RouteImportError(name, None, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise RouteImportError(name, None, "the file must be UTF-8") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise RouteImportError(name, line, f"YAML syntax error: {exc.problem}") from exc
    errors = sorted(Draft202012Validator(ROUTES_SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RouteImportError(name, _line_of(data, error.absolute_path), f"{where}: {error.message}")
    _check(name, data)
    return data


def _check(name: str, data: Any) -> None:
    def fail(path: list[Any], message: str) -> RouteImportError:
        where = "/".join(str(p) for p in path)
        return RouteImportError(name, _line_of(data, path), f"{where}: {message}")

    procedures = set(Procedure.objects.values_list("code", flat=True))
    departments = set(Department.objects.values_list("code", flat=True))
    codes: set[str] = set()
    default_at: int | None = None
    claimed_procedures: dict[str, str] = {}
    claimed_departments: dict[str, str] = {}
    for i, route in enumerate(data["routes"]):
        here = ["routes", i]
        if route["code"] in codes:
            raise fail([*here, "code"], f"route code {route['code']!r} is used twice")
        codes.add(route["code"])
        if route.get("default"):
            if default_at is not None:
                raise fail([*here, "default"], f"only one route can be the default (routes/{default_at} already is)")
            default_at = i
        for key, known, claimed in (
            ("procedures", procedures, claimed_procedures),
            ("departments", departments, claimed_departments),
        ):
            for j, code in enumerate(route.get(key, [])):
                if code not in known:
                    raise fail([*here, key, j], f"unknown {key[:-1]} {code!r}")
                if code in claimed:
                    raise fail([*here, key, j], f"{key[:-1]} {code!r} already has the route {claimed[code]!r}")
                claimed[code] = route["code"]
        for j, step in enumerate(route["steps"]):
            if ("role" in step) == ("parallel" in step):
                raise fail([*here, "steps", j], "a step names either `role` (one approver) or `parallel` (合議)")
            if "parallel" in step and "department" in step:
                raise fail([*here, "steps", j, "department"], "give the department of each 合議 member instead")
            members = step.get("parallel", [step])
            seen: set[tuple[str, str | None]] = set()
            for k, member in enumerate(members):
                path = [*here, "steps", j, *(["parallel", k] if "parallel" in step else [])]
                department = member.get("department")
                if department is not None and department not in departments:
                    raise fail([*path, "department"], f"unknown department {department!r}")
                if (member["role"], department) in seen:
                    raise fail(path, "this 合議 member is named twice")
                seen.add((member["role"], department))


def approvals_import(*, path: Path | None = None, dry_run: bool = False) -> RoutesReport:
    """Check and import the routes file (``data/routes.yaml`` by default). Raises
    ``RouteImportError`` (and writes nothing) on the first problem."""
    path = path or DEFAULT_FILE
    data = load_routes(path)
    report = RoutesReport(version=str(data["version"]))
    with transaction.atomic():
        existing = {r.code: r for r in ApprovalRoute.objects.prefetch_related("steps", "procedures", "departments")}
        procedures = {p.code: p for p in Procedure.objects.all()}
        departments = {d.code: d for d in Department.objects.all()}
        for row in data["routes"]:
            _import_route(_plain(row), existing.get(row["code"]), procedures, departments, report)
        listed = {row["code"] for row in data["routes"]}
        for code, route in sorted(existing.items()):
            if code not in listed and route.active:
                route.active = False
                route.is_default = False
                route.save(update_fields=["active", "is_default", "updated_at"])
                report.deactivated.append(code)
        if report.changed:
            audit_record(
                actor=None,
                action="approvals.routes_import",
                data={
                    "version": report.version,
                    "created": report.created,
                    "updated": report.updated,
                    "deactivated": report.deactivated,
                },
            )
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import_route(
    row: dict[str, Any],
    route: ApprovalRoute | None,
    procedures: dict[str, Procedure],
    departments: dict[str, Department],
    report: RoutesReport,
) -> None:
    values = {
        "name": row["name"],
        "name_en": row.get("name_en", ""),
        "description": row.get("description", ""),
        "is_default": bool(row.get("default", False)),
        "for_documents": bool(row.get("documents", False)),
        "active": True,
    }
    steps = [_step_from_file(step) for step in row["steps"]]
    procedure_codes = sorted(row.get("procedures", []))
    department_codes = sorted(row.get("departments", []))
    created = replace_steps = route is None
    if route is None:
        route = ApprovalRoute.objects.create(code=row["code"], data_version=report.version, **values)
        changed = True
    else:
        fields = [name for name, value in values.items() if getattr(route, name) != value]
        for name in fields:
            setattr(route, name, values[name])
        current_steps = [{"kind": s.kind, "label": s.label, "members": s.members} for s in route.steps.all()]
        changed = (
            bool(fields)
            or current_steps != steps
            or sorted(p.code for p in route.procedures.all()) != procedure_codes
            or sorted(d.code for d in route.departments.all()) != department_codes
        )
        if not changed:
            report.unchanged.append(route.code)
            return
        replace_steps = current_steps != steps
        if replace_steps:
            RouteStep.objects.filter(route=route).delete()
        route.data_version = report.version
        route.save(update_fields=[*fields, "data_version", "updated_at"])
    if replace_steps:
        RouteStep.objects.bulk_create(
            RouteStep(route=route, order=i + 1, kind=s["kind"], label=s["label"], members=s["members"])
            for i, s in enumerate(steps)
        )
    route.procedures.set([procedures[c] for c in procedure_codes])
    route.departments.set([departments[c] for c in department_codes])
    (report.created if created else report.updated).append(route.code)
