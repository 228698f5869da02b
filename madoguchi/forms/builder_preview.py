"""The builder's live preview: a draft rendered as a resident would see it.

The preview reuses the resident pages' own pieces, read-only: the page order and
same-page condition hints of ``applications.flow``, the field descriptions of
``applications.widgets.field_context`` and the templates ``applications/_field.html``
and ``applications/_errors.html``. (The builder sits above both ``forms`` and
``applications`` in the map; nothing in ``applications`` imports it.)

Answers typed into the preview are checked by the real engine (``engine.clean_step``)
and kept in the staff member's session (not in the database), so logic rules can be
tried step by step; files are checked by name, type and size but not stored, and a
マイナンバー is never kept. A draft is still being built, so anything missing that a
type needs for rendering is filled with a harmless default (``renderable``), and a
draft that still cannot be rendered gives ``PreviewUnavailable``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.utils import translation

from madoguchi.applications import flow
from madoguchi.applications.widgets import error_target, field_context
from madoguchi.forms import engine
from madoguchi.forms.builder import DEFAULT_OPTIONS
from madoguchi.forms.fields import registry
from madoguchi.forms.logic import iter_fields

logger = logging.getLogger(__name__)
SESSION_KEY = "formbuilder_preview"
T = TypeVar("T")


class PreviewUnavailable(Exception):
    """The draft cannot be rendered yet (see the problems list of the editor)."""


def renderable(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the definition that the resident templates can render: fields of
    unknown types dropped, options a type needs filled with defaults."""
    out = copy.deepcopy(dict(definition))
    steps = [s for s in out.get("steps", []) if isinstance(s, dict)]
    for step in steps:
        step.setdefault("title", step.get("key", ""))
        step["fields"] = [_renderable_field(f) for f in step.get("fields", []) if _known(f)]
    out["steps"] = steps
    out["logic"] = [r for r in out.get("logic", []) if isinstance(r, dict) and isinstance(r.get("when"), dict)]
    return out


def _known(field: Any) -> bool:
    return isinstance(field, dict) and field.get("type") in registry and isinstance(field.get("key"), str)


def _renderable_field(field: dict[str, Any]) -> dict[str, Any]:
    for name, value in DEFAULT_OPTIONS.get(field["type"], {}).items():
        field.setdefault(name, copy.deepcopy(value))
    field.setdefault("label", field["key"])
    if "choices" in field:
        field["choices"] = [c for c in field["choices"] if isinstance(c, dict) and "value" in c and "label" in c]
    if field["type"] == "group":
        field["fields"] = [_renderable_field(s) for s in field.get("fields", []) if _known(s) and s["type"] != "group"]
    return field


def guarded(render: Callable[[], T]) -> T:
    """Run ``render``; any error of a half-built draft becomes ``PreviewUnavailable``."""
    try:
        return render()
    except Exception as exc:
        logger.info("form preview unavailable: %s", exc.__class__.__name__)
        raise PreviewUnavailable(str(exc)) from exc


def _t(item: Mapping[str, Any], name: str) -> str:
    if translation.get_language() == "en" and item.get(f"{name}_en"):
        return str(item[f"{name}_en"])
    return str(item.get(name, ""))


def answers_from_raw(definition: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned values of what was typed so far (invalid or hidden answers left out)."""
    cleaned, _errors = engine.clean_all(definition, raw)
    return cleaned


def pages(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    return flow.page_steps(definition, answers)


def step_fields(
    definition: Mapping[str, Any],
    step: Mapping[str, Any],
    raw: Mapping[str, Any],
    errors: Mapping[str, str],
    answers: Mapping[str, Any],
    *,
    every_field: bool = False,
) -> list[dict[str, Any]]:
    """``field_context`` of the fields a resident sees on the step's page (with
    ``every_field`` also those another step's answers would show)."""
    shown = flow.rendered_fields(step, definition, answers)
    if every_field:
        hints = {f["key"]: c for f, c in shown}
        shown = [(f, hints.get(f["key"], "")) for f in step.get("fields", [])]
    return [field_context(f, f["key"], raw.get(f["key"]), errors, condition=c) for f, c in shown]


def hidden_fields(definition: Mapping[str, Any], step: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """Labels of the step's fields that are not on the page until a rule shows them."""
    on_page = {f["key"] for f, _c in flow.rendered_fields(step, definition, answers)}
    return [_t(f, "label") for f in step.get("fields", []) if f["key"] not in on_page]


def error_list(definition: Mapping[str, Any], errors: Mapping[str, str]) -> list[dict[str, str]]:
    fields = {f["key"]: f for _s, f in iter_fields(definition)}
    order = list(fields)

    def position(item: tuple[str, str]) -> int:
        head = item[0].split(".")[0]
        return order.index(head) if head in order else len(order)

    return [{"message": m, "target": error_target(fields, p)} for p, m in sorted(errors.items(), key=position)]


def is_declaration_step(step: Mapping[str, Any]) -> bool:
    return flow.is_declaration_step(step)


def step_after(definition: Mapping[str, Any], step_key: str, answers: Mapping[str, Any]) -> str | None:
    return flow.step_after(definition, step_key, answers)


def step_before(definition: Mapping[str, Any], step_key: str, answers: Mapping[str, Any]) -> str | None:
    return flow.step_before(definition, step_key, answers)


def posted_raw(step: Mapping[str, Any], post: Any, files: Any) -> dict[str, Any]:
    """The page's answers as the engine takes them (multi-valued keys as lists, a file
    as its name, type and size only)."""
    raw: dict[str, Any] = {}
    for key in post:
        if key in ("csrfmiddlewaretoken", "step") or key.startswith("_"):
            continue
        values = post.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    nested = engine.unflatten(raw)
    for field in step.get("fields", []):
        key = field["key"]
        if field["type"] == "multichoice":
            nested[key] = post.getlist(key)
        elif field["type"] == "file":
            upload = files.get(key)
            nested[key] = (
                {"name": upload.name, "size": upload.size, "content_type": upload.content_type or ""}
                if upload is not None
                else None
            )
    return nested


def keepable(step: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """What of a page's answers may be kept in the session (no マイナンバー)."""
    sensitive = {f["key"] for f in step.get("fields", []) if registry.get(f["type"]).sensitive}
    return {k: v for k, v in raw.items() if k not in sensitive}


def summary_rows(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[engine.SummaryRow]:
    lang = "en" if translation.get_language() == "en" else "ja"
    return engine.summary(definition, answers, lang)


def clean_step(
    definition: Mapping[str, Any], step_key: str, raw: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    lang = "en" if translation.get_language() == "en" else "ja"
    return engine.clean_step(definition, step_key, raw, lang, context=answers)
