"""Checking a resident's answers against a form definition, step by step and whole.

Flow of one page: the web view (or the API) hands ``clean_step`` the raw answers of
one step (web form keys such as ``name.family`` or ``members.0.birth_date`` are
unflattened first) together with what earlier steps already cleaned. Each field of
the step is cleaned by its type; then the logic rules are evaluated on all cleaned
values; values of hidden fields are dropped with their errors, and shown fields that
are required but empty get a "please enter" error. Errors are keyed by field path
(``members.0.birth_date``) with messages in the language asked for.

``clean_all`` does the same for every step at once: the API and the final submit call
it so that nothing the browser sent is trusted. ``to_stored`` / ``from_stored`` turn
cleaned values into the JSON kept with an application (マイナンバー encrypted) and
back; ``summary`` gives label/value rows for the confirmation page and for staff,
with sensitive values masked unless ``reveal_sensitive`` (a role check done by the
caller) is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation

from madoguchi.forms.fields import display_value, dump_value, flatten_error, is_empty, load_value, registry
from madoguchi.forms.logic import FormState, evaluate, iter_fields

Errors = dict[str, str]


class UnknownStep(KeyError):
    pass


def page_language() -> str:
    """The ``lang`` to give the engine for the current request: ``en`` or ``ja``."""
    return "en" if translation.get_language() == "en" else "ja"


def unflatten(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name.family": "山田", "members.0.age": "3"}`` → nested dicts. Keys without
    dots and nested values (JSON) pass through unchanged."""
    result: dict[str, Any] = {}
    for key, value in raw.items():
        parts = str(key).split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value  # lists stay lists: scalar types take the first item
    return result


def _clean_fields(fields: list[Mapping[str, Any]], raw: Mapping[str, Any], lang: str) -> tuple[dict[str, Any], Errors]:
    cleaned: dict[str, Any] = {}
    errors: Errors = {}
    for field in fields:
        try:
            cleaned[field["key"]] = registry.get(field["type"]).clean(raw.get(field["key"]), field, lang)
        except ValidationError as exc:
            errors.update(flatten_error(field["key"], exc))
            cleaned[field["key"]] = None
    return cleaned, errors


def _finish(
    definition: Mapping[str, Any],
    fields: list[Mapping[str, Any]],
    cleaned: dict[str, Any],
    errors: Errors,
    state: FormState,
) -> tuple[dict[str, Any], Errors]:
    out: dict[str, Any] = {}
    out_errors: Errors = {}
    for field in fields:
        key = field["key"]
        if key not in state.visible_fields:
            continue
        own = {p: m for p, m in errors.items() if p == key or p.startswith(key + ".")}
        if own:
            out_errors.update(own)
            continue
        value = cleaned.get(key)
        kind = registry.get(field["type"])
        if is_empty(value) and (key in state.required_fields or kind.always_required):
            out_errors[key] = kind.required_message()
            continue
        out[key] = value
    return out, out_errors


def step_keys(definition: Mapping[str, Any]) -> list[str]:
    return [s["key"] for s in definition["steps"]]


def clean_step(
    definition: Mapping[str, Any],
    step_key: str,
    raw: Mapping[str, Any],
    lang: str = "ja",
    context: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Errors]:
    """Clean one step's answers. ``context`` holds values cleaned on earlier steps
    (rules may depend on them). Returns (cleaned values of shown fields, errors)."""
    step = next((s for s in definition["steps"] if s["key"] == step_key), None)
    if step is None:
        raise UnknownStep(step_key)
    with translation.override(lang):
        cleaned, errors = _clean_fields(step["fields"], unflatten(raw), lang)
        state = evaluate(definition, {**(context or {}), **cleaned})
        if step_key not in state.visible_steps:
            return {}, {}
        return _finish(definition, step["fields"], cleaned, errors, state)


def clean_all(
    definition: Mapping[str, Any], data: Mapping[str, Any], lang: str = "ja"
) -> tuple[dict[str, Any], Errors]:
    """Clean every step's answers at once (``data`` keyed by field key, nested or
    flattened). Hidden steps and fields are dropped."""
    fields = [f for _s, f in iter_fields(definition)]
    with translation.override(lang):
        cleaned, errors = _clean_fields(fields, unflatten(data), lang)
        state = evaluate(definition, cleaned)
        return _finish(definition, fields, cleaned, errors, state)


def next_step(definition: Mapping[str, Any], current: str | None, data: Mapping[str, Any]) -> str | None:
    """The step shown after ``current`` (the first one for ``None``), skipping hidden
    steps; ``None`` after the last."""
    visible = evaluate(definition, data).visible_steps
    if current is None:
        return visible[0] if visible else None
    order = step_keys(definition)
    later = order[order.index(current) + 1 :] if current in order else []
    return next((k for k in later if k in visible), None)


def to_stored(definition: Mapping[str, Any], cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-serialisable answers; sensitive values only as ciphertext."""
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    return {key: dump_value(fields[key], value) for key, value in cleaned.items() if key in fields}


def from_stored(definition: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    return {key: load_value(fields[key], value) for key, value in stored.items() if key in fields}


@dataclass(frozen=True)
class SummaryRow:
    path: str
    label: str
    value: str


def _label(item: Mapping[str, Any], lang: str) -> str:
    return str(item.get("label_en") or item["label"]) if lang == "en" else str(item["label"])


def summary(
    definition: Mapping[str, Any], cleaned: Mapping[str, Any], lang: str = "ja", *, reveal_sensitive: bool = False
) -> list[SummaryRow]:
    """Label and shown value of every answered field, groups item by item.
    マイナンバー is masked unless ``reveal_sensitive`` (decided by the caller's role)."""
    rows: list[SummaryRow] = []
    for _step, field in iter_fields(definition):
        key = field["key"]
        if key not in cleaned or is_empty(cleaned[key]):
            continue
        if field["type"] == "group":
            for index, item in enumerate(cleaned[key]):
                for sub in field["fields"]:
                    value = item.get(sub["key"])
                    if not is_empty(value):
                        text = display_value(sub, value, lang, reveal=reveal_sensitive)
                        rows.append(
                            SummaryRow(
                                f"{key}.{index}.{sub['key']}",
                                f"{_label(field, lang)} {index + 1}: {_label(sub, lang)}",
                                text,
                            )
                        )
            continue
        rows.append(
            SummaryRow(key, _label(field, lang), display_value(field, cleaned[key], lang, reveal=reveal_sensitive))
        )
    return rows


def prefill(definition: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Any]:
    """Initial answers from what a prefill source knows (``resident.family_name`` …)."""
    initial: dict[str, Any] = {}
    for _step, field in iter_fields(definition):
        spec = field.get("prefill")
        if isinstance(spec, str) and sources.get(spec) not in (None, ""):
            initial[field["key"]] = sources[spec]
        elif isinstance(spec, Mapping):
            parts = {part: sources.get(src, "") for part, src in spec.items()}
            if any(parts.values()):
                initial[field["key"]] = parts
    return initial
