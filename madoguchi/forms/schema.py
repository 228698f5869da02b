"""The shape of a form definition and its checks.

``validate_definition`` first checks the JSON schema (structure, known field types and
each type's own keys), then what a schema cannot say: unique step and field keys,
logic rules that name existing fields, steps and choice values, prefill keys from
``PREFILL_KEYS`` in the shape the field needs, and sane options (min ≤ max, date
bounds that parse). Each problem is a ``DefinitionError`` with the path inside the
definition (``steps/0/fields/2/key``) and an English message for the ward's editors.
See ``docs`` in ``madoguchi/forms/data/README.md`` for the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from madoguchi.forms.fields import registry, resolve_date_bound
from madoguchi.forms.logic import CONDITION_OPS

#: What a prefill source may provide (the 基本4情報 and contact data of the signed-in resident).
PREFILL_KEYS = frozenset(
    {
        "resident.family_name",
        "resident.given_name",
        "resident.family_name_kana",
        "resident.given_name_kana",
        "resident.birth_date",
        "resident.sex",
        "household.postal_code",
        "household.address",
        "resident.phone",
        "account.email",
        "household.members",
    }
)
KEY_PATTERN = "^[a-z][a-z0-9_]*$"
TEXT = {"type": "string"}
LABEL = {"type": "string", "minLength": 1}
COMMON_FIELD_KEYS: dict[str, Any] = {
    "key": {"type": "string", "pattern": KEY_PATTERN, "maxLength": 64},
    "type": {"type": "string"},
    "label": LABEL,
    "label_en": TEXT,
    "help": TEXT,
    "help_en": TEXT,
    "required": {"type": "boolean"},
    "hidden": {"type": "boolean"},
    "prefill": {
        "oneOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1},
        ]
    },
}
SCALAR = {"type": ["string", "number", "boolean"]}


def _field_schema() -> dict[str, Any]:
    properties: dict[str, Any] = dict(COMMON_FIELD_KEYS)
    per_type: list[dict[str, Any]] = []
    for name in registry.names():
        kind = registry.get(name)
        per_type.append(
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {
                    "properties": kind.options,
                    "required": list(kind.required_options),
                    "propertyNames": {"enum": [*COMMON_FIELD_KEYS, *kind.options]},
                },
            }
        )
    properties["type"] = {"enum": registry.names()}
    return {
        "type": "object",
        "required": ["key", "type", "label"],
        "properties": properties,
        "allOf": per_type,
    }


def definition_schema() -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": "object",
        "minProperties": 1,
        "oneOf": [
            {
                "required": ["field"],
                "additionalProperties": False,
                "minProperties": 2,
                "maxProperties": 2,
                "properties": {
                    "field": {"type": "string"},
                    "in": {"type": "array", "minItems": 1, "items": SCALAR},
                    "not_in": {"type": "array", "minItems": 1, "items": SCALAR},
                    "equals": SCALAR,
                    "filled": {"type": "boolean"},
                    "gte": {"type": "number"},
                    "lte": {"type": "number"},
                },
            },
            {
                "required": ["all"],
                "additionalProperties": False,
                "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}},
            },
            {
                "required": ["any"],
                "additionalProperties": False,
                "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}},
            },
            {
                "required": ["not"],
                "additionalProperties": False,
                "properties": {"not": {"$ref": "#/$defs/condition"}},
            },
        ],
    }
    keys = {"type": "array", "minItems": 1, "items": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["procedure", "title", "steps"],
        "additionalProperties": False,
        "properties": {
            "procedure": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
            "title": LABEL,
            "title_en": TEXT,
            "description": TEXT,
            "description_en": TEXT,
            "anonymous": {"type": "boolean"},
            "steps": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["key", "title", "fields"],
                    "additionalProperties": False,
                    "properties": {
                        "key": {"type": "string", "pattern": KEY_PATTERN, "maxLength": 64},
                        "title": LABEL,
                        "title_en": TEXT,
                        "help": TEXT,
                        "help_en": TEXT,
                        "hidden": {"type": "boolean"},
                        "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}},
                    },
                },
            },
            "logic": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["when"],
                    "additionalProperties": False,
                    "anyOf": [{"required": ["show"]}, {"required": ["hide"]}, {"required": ["require"]}],
                    "properties": {"when": {"$ref": "#/$defs/condition"}, "show": keys, "hide": keys, "require": keys},
                },
            },
        },
        "$defs": {"field": _field_schema(), "condition": condition},
    }


@dataclass(frozen=True)
class DefinitionError:
    path: str
    message: str

    @property
    def parts(self) -> list[str | int]:
        return [int(p) if p.isdigit() else p for p in self.path.split("/") if p]

    def __str__(self) -> str:
        return f"{self.path or '(top)'}: {self.message}"


def _path(parts: Any) -> str:
    return "/".join(str(p) for p in parts)


def validate_definition(definition: Any) -> list[DefinitionError]:
    """Every problem of ``definition``; an empty list when it can be published."""
    validator = Draft202012Validator(definition_schema())
    schema_errors = sorted(validator.iter_errors(definition), key=lambda e: [str(p) for p in e.absolute_path])
    if schema_errors:
        return [DefinitionError(_path(e.absolute_path), _schema_message(e)) for e in schema_errors]
    return _Checker(definition).run()


def _schema_message(error: Any) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return str(best.message)
    return str(error.message)


class _Checker:
    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.errors: list[DefinitionError] = []
        self.fields: dict[str, Mapping[str, Any]] = {}
        self.steps: set[str] = set()

    def add(self, path: str, message: str) -> None:
        self.errors.append(DefinitionError(path, message))

    def run(self) -> list[DefinitionError]:
        for i, step in enumerate(self.definition["steps"]):
            if step["key"] in self.steps:
                self.add(f"steps/{i}/key", f"step key {step['key']!r} is used twice")
            self.steps.add(step["key"])
        for i, step in enumerate(self.definition["steps"]):
            for j, field in enumerate(step["fields"]):
                path = f"steps/{i}/fields/{j}"
                if field["key"] in self.fields or field["key"] in self.steps:
                    self.add(f"{path}/key", f"field key {field['key']!r} is used twice (or is a step key)")
                self.fields[field["key"]] = field
                self.check_field(field, path, in_group=False)
        for i, rule in enumerate(self.definition.get("logic", [])):
            self.check_condition(rule["when"], f"logic/{i}/when")
            for action in ("show", "hide", "require"):
                for k, target in enumerate(rule.get(action, [])):
                    ok = target in self.fields or (action != "require" and target in self.steps)
                    if not ok:
                        what = "field" if action == "require" else "field or step"
                        self.add(f"logic/{i}/{action}/{k}", f"{action} names unknown {what} {target!r}")
        return self.errors

    def check_field(self, field: Mapping[str, Any], path: str, *, in_group: bool) -> None:
        kind = field["type"]
        if "choices" in field:
            values = [c["value"] for c in field["choices"]]
            if len(set(values)) != len(values):
                self.add(f"{path}/choices", "choice values must be unique")
        low, high = field.get("min"), field.get("max")
        if kind in ("date", "date_range"):
            for bound in ("min", "max"):
                if bound in field:
                    try:
                        resolve_date_bound(field[bound])
                    except ValueError:
                        self.add(f"{path}/{bound}", f"{field[bound]!r} is not an ISO date or today±N[dy]")
        elif low is not None and high is not None and low > high:
            self.add(f"{path}/max", "max must not be less than min")
        if field.get("min_items", 0) > field.get("max_items", 10**6):
            self.add(f"{path}/max_items", "max_items must not be less than min_items")
        if kind == "multichoice" and field.get("min_items", 0) > len(field["choices"]):
            self.add(f"{path}/min_items", "min_items is more than the number of choices")
        if "prefill" in field:
            self.check_prefill(field, path)
        if kind == "address" and "postal_code_field" in field:
            target = field["postal_code_field"]
            if in_group or self.fields.get(target, {}).get("type") != "postal_code":
                self.add(f"{path}/postal_code_field", f"{target!r} is not an earlier postal_code field")
        if kind == "group":
            if in_group:
                self.add(f"{path}/type", "a group cannot contain another group")
                return
            seen: set[str] = set()
            for k, sub in enumerate(field["fields"]):
                if sub["key"] in seen:
                    self.add(f"{path}/fields/{k}/key", f"field key {sub['key']!r} is used twice in the group")
                seen.add(sub["key"])
                self.check_field(sub, f"{path}/fields/{k}", in_group=True)

    def check_prefill(self, field: Mapping[str, Any], path: str) -> None:
        prefill = field["prefill"]
        composite = {"name": ("family", "given"), "kana": ("family", "given")}.get(field["type"])
        if composite:
            if not isinstance(prefill, Mapping) or set(prefill) - set(composite):
                self.add(f"{path}/prefill", f"prefill of a {field['type']} field maps {' and '.join(composite)}")
                return
            sources = list(prefill.values())
        elif isinstance(prefill, str):
            sources = [prefill]
        else:
            self.add(f"{path}/prefill", "prefill must be one source key")
            return
        for source in sources:
            if source not in PREFILL_KEYS:
                self.add(f"{path}/prefill", f"unknown prefill key {source!r}")

    def check_condition(self, condition: Mapping[str, Any], path: str) -> None:
        for combinator in ("all", "any"):
            if combinator in condition:
                for k, sub in enumerate(condition[combinator]):
                    self.check_condition(sub, f"{path}/{combinator}/{k}")
                return
        if "not" in condition:
            self.check_condition(condition["not"], f"{path}/not")
            return
        name = condition["field"]
        field = self.fields.get(name)
        if field is None:
            self.add(f"{path}/field", f"condition names unknown field {name!r}")
            return
        op = next(o for o in CONDITION_OPS if o in condition)
        if field["type"] in ("choice", "multichoice") and op in ("in", "not_in", "equals"):
            allowed = {c["value"] for c in field["choices"]}
            values = condition[op] if isinstance(condition[op], list) else [condition[op]]
            for value in values:
                if value not in allowed:
                    self.add(f"{path}/{op}", f"{value!r} is not a choice of field {name!r}")
        if op in ("gte", "lte") and field["type"] not in ("number", "money"):
            self.add(f"{path}/{op}", f"{op} needs a number or money field, {name!r} is {field['type']}")
