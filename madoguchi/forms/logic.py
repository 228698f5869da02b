"""Show, hide and require rules of a form, evaluated on the server.

A definition's ``logic`` is a list of rules::

    - when: {field: relationship, in: [other]}     # a condition on a top-level field
      show: [proxy_name, proxy_step]                # field or step keys
      hide: [...]
      require: [...]                                # field keys

Conditions: ``{field, in: [...]}``, ``{field, not_in: [...]}``, ``{field, equals: v}``,
``{field, filled: true|false}``, ``{field, gte: n}``, ``{field, lte: n}``, and
``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``. For a multichoice field ``in``
means "any of these was chosen". A field or step marked ``hidden: true`` starts hidden
and is shown by a ``show`` rule; ``hide`` wins over ``show``. A hidden field counts as
unanswered in conditions, so rules cascade; evaluation repeats until nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

CONDITION_OPS = ("in", "not_in", "equals", "filled", "gte", "lte")


@dataclass(frozen=True)
class FormState:
    visible_steps: list[str]
    visible_fields: set[str] = field(default_factory=set)
    required_fields: set[str] = field(default_factory=set)


def iter_fields(definition: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(step, field) for every top-level field, in order."""
    for step in definition.get("steps", []):
        for f in step.get("fields", []):
            yield step, f


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def condition_holds(condition: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    if "all" in condition:
        return all(condition_holds(c, data) for c in condition["all"])
    if "any" in condition:
        return any(condition_holds(c, data) for c in condition["any"])
    if "not" in condition:
        return not condition_holds(condition["not"], data)
    value = data.get(condition["field"])
    if "filled" in condition:
        return _filled(value) == bool(condition["filled"])
    if "equals" in condition:
        return bool(value == condition["equals"])
    if "in" in condition or "not_in" in condition:
        accepted = condition.get("in", condition.get("not_in"))
        values = value if isinstance(value, list) else [value]
        found = any(v in accepted for v in values if v is not None)
        return found if "in" in condition else not found
    if "gte" in condition or "lte" in condition:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return ("gte" not in condition or value >= condition["gte"]) and (
            "lte" not in condition or value <= condition["lte"]
        )
    return False


def evaluate(definition: Mapping[str, Any], data: Mapping[str, Any]) -> FormState:
    """Which steps and fields are shown and which fields are required, given ``data``
    (cleaned values keyed by top-level field key)."""
    steps = definition.get("steps", [])
    rules = definition.get("logic", [])
    step_of = {f["key"]: s["key"] for s, f in iter_fields(definition)}
    base_hidden = {s["key"] for s in steps if s.get("hidden")} | {
        f["key"] for _s, f in iter_fields(definition) if f.get("hidden")
    }
    static_required = {f["key"] for _s, f in iter_fields(definition) if f.get("required")}
    hidden: set[str] = set(base_hidden)
    required: set[str] = set()
    for _round in range(len(rules) + 2):
        visible_data = {k: v for k, v in data.items() if k not in hidden and step_of.get(k, "") not in hidden}
        shown: set[str] = set()
        hid: set[str] = set()
        required = set()
        for rule in rules:
            if condition_holds(rule["when"], visible_data):
                shown.update(rule.get("show", []))
                hid.update(rule.get("hide", []))
                required.update(rule.get("require", []))
        new_hidden = (base_hidden - shown) | hid
        if new_hidden == hidden:
            break
        hidden = new_hidden
    visible_steps = [s["key"] for s in steps if s["key"] not in hidden]
    visible_fields = {
        f["key"] for s, f in iter_fields(definition) if s["key"] in visible_steps and f["key"] not in hidden
    }
    return FormState(
        visible_steps=visible_steps,
        visible_fields=visible_fields,
        required_fields=(static_required | required) & visible_fields,
    )
