"""Which pages a form has and in what order, for the web flow.

A step whose fields are all ``declaration`` fields is not a page of its own: its
checkbox is shown on the check-your-answers page, just above the submit button. A
field that a rule shows depending on another field of the same page is rendered on
that page with a hint saying when to answer it (the page must work without
JavaScript); the engine drops it again if it does not apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from madoguchi.forms.logic import evaluate


def is_declaration_step(step: Mapping[str, Any]) -> bool:
    fields = step.get("fields", [])
    return bool(fields) and all(f["type"] == "declaration" for f in fields)


def declaration_step(definition: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((s for s in definition["steps"] if is_declaration_step(s)), None)


def page_steps(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """Keys of the visible steps that are pages, in order."""
    steps = {s["key"]: s for s in definition["steps"]}
    return [k for k in evaluate(definition, answers).visible_steps if not is_declaration_step(steps[k])]


def step_after(definition: Mapping[str, Any], step_key: str, answers: Mapping[str, Any]) -> str | None:
    pages = page_steps(definition, answers)
    order = [s["key"] for s in definition["steps"]]
    later = order[order.index(step_key) + 1 :] if step_key in order else []
    return next((k for k in later if k in pages), None)


def step_before(definition: Mapping[str, Any], step_key: str, answers: Mapping[str, Any]) -> str | None:
    pages = page_steps(definition, answers)
    order = [s["key"] for s in definition["steps"]]
    earlier = order[: order.index(step_key)] if step_key in order else []
    return next((k for k in reversed(earlier) if k in pages), None)


def _condition_fields(condition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("all", "any"):
        for sub in condition.get(key, []):
            yield from _condition_fields(sub)
    if "not" in condition:
        yield from _condition_fields(condition["not"])
    if "field" in condition:
        yield condition


def _label(item: Mapping[str, Any]) -> str:
    if translation.get_language() == "en" and item.get("label_en"):
        return str(item["label_en"])
    return str(item.get("label", ""))


def same_page_conditions(step: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, str]:
    """Fields of ``step`` that a rule shows depending on another field of the same
    step → a hint such as 「使いみち」で「その他」を選んだ場合."""
    fields = {f["key"]: f for f in step.get("fields", [])}
    hints: dict[str, str] = {}
    for rule in definition.get("logic", []):
        conditions = [c for c in _condition_fields(rule["when"]) if c["field"] in fields]
        if not conditions:
            continue
        parts: list[str] = []
        for c in conditions:
            controller = fields[c["field"]]
            values = c.get("in") or ([c["equals"]] if "equals" in c else [])
            labels = [_label(ch) for ch in controller.get("choices", []) if ch["value"] in values]
            if labels:
                parts.append(
                    _("「%(field)s」で「%(choices)s」を選んだ場合")
                    % {"field": _label(controller), "choices": "」「".join(labels)}
                )
        for key in rule.get("show", []):
            if key in fields and parts:
                hints[key] = "、".join(parts)
    return hints


def rendered_fields(
    step: Mapping[str, Any], definition: Mapping[str, Any], answers: Mapping[str, Any]
) -> list[tuple[Mapping[str, Any], str]]:
    """The fields to render on the step's page with their condition hint ("" if
    none): the fields shown with the current answers, and those that depend on a
    field of this page."""
    visible = evaluate(definition, answers).visible_fields
    conditional = same_page_conditions(step, definition)
    return [
        (f, conditional.get(f["key"], ""))
        for f in step.get("fields", [])
        if f["key"] in visible or f["key"] in conditional
    ]
