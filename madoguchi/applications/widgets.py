"""Between stored answers and web form values: ``to_raw`` turns a cleaned value back
into what a resident would type (for prefill and for showing a saved draft), and
``field_context`` describes one field for the templates (ids, names, hints, errors,
autocomplete tokens), so the markup stays accessible: every input has a label, groups
of inputs a fieldset and legend, hints and errors are linked by aria-describedby."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import translation

from madoguchi.forms.fields import MyNumber

#: prefill key or field type → HTML autocomplete token.
AUTOCOMPLETE = {
    "email": "email",
    "phone": "tel",
    "postal_code": "postal-code",
    "address": "street-address",
}
PART_AUTOCOMPLETE = {"name": {"family": "family-name", "given": "given-name"}}
BIRTHDAY_PREFILL = "resident.birth_date"


def to_raw(field: Mapping[str, Any], value: Any) -> Any:
    """A cleaned value as web form text (dates ISO, postal codes ``100-0001``)."""
    if value is None:
        return None
    kind = field["type"]
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "date_range" and isinstance(value, Mapping):
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in value.items()}
    if kind == "postal_code" and isinstance(value, Mapping):
        code = str(value.get("code", ""))
        return f"{code[:3]}-{code[3:]}" if len(code) == 7 else code
    if kind == "group" and isinstance(value, list):
        return [
            {sub["key"]: to_raw(sub, item.get(sub["key"])) for sub in field["fields"]}
            for item in value
            if isinstance(item, Mapping)
        ]
    if isinstance(value, MyNumber):
        return value
    return value


def _label(item: Mapping[str, Any], name: str = "label") -> str:
    if translation.get_language() == "en" and item.get(f"{name}_en"):
        return str(item[f"{name}_en"])
    return str(item.get(name, ""))


def field_id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


def first_input_id(field: Mapping[str, Any], path: str) -> str:
    """The id of the first input of the field at ``path`` (or of an item of a group)."""
    kind = field["type"]
    if kind in ("name", "kana"):
        return field_id(f"{path}.family")
    if kind == "date_range":
        return field_id(f"{path}.start")
    if kind in ("choice", "multichoice") and field.get("widget") != "select":
        return field_id(f"{path}.0")
    if kind == "group":
        return field_id(f"{path}.0.{field['fields'][0]['key']}") if field.get("fields") else field_id(path)
    return field_id(path)


def error_target(definition_fields: Mapping[str, Mapping[str, Any]], error_path: str) -> str:
    """The input an error summary link points at: the first input of the errored
    part (``name.given`` → its given-name input; ``persons.0.birth_date`` → that
    item's date input)."""
    parts = error_path.split(".")
    field = definition_fields.get(parts[0])
    if field is None:
        return field_id(error_path)
    if field["type"] == "group" and len(parts) >= 3:
        sub = next((s for s in field["fields"] if s["key"] == parts[2]), None)
        if sub is not None:
            if len(parts) >= 4:
                return field_id(error_path)
            return first_input_id(sub, ".".join(parts[:3]))
    if len(parts) >= 2 and field["type"] in ("name", "kana", "date_range"):
        return field_id(error_path)
    return first_input_id(field, parts[0])


def field_context(
    field: Mapping[str, Any],
    path: str,
    raw: Any,
    errors: Mapping[str, str],
    *,
    source_label: str = "",
    condition: str = "",
) -> dict[str, Any]:
    """What ``applications/_field.html`` needs to render one field."""
    kind = field["type"]
    own = {p: m for p, m in errors.items() if p == path or p.startswith(path + ".")}
    ctx: dict[str, Any] = {
        "field": field,
        "type": kind,
        "path": path,
        "id": field_id(path),
        "first_id": first_input_id(field, path),
        "label": _label(field),
        "help": _label(field, "help"),
        "text": _label(field, "text"),
        "unit": _label(field, "unit"),
        "condition": condition,
        "source_label": source_label,
        "error": own.get(path, ""),
        "part_errors": {p[len(path) + 1 :]: m for p, m in own.items() if p != path},
        "has_error": bool(own),
        "value": raw if raw is not None else "",
        "autocomplete": _autocomplete(field),
        "required": bool(field.get("required")),
    }
    if kind in ("name", "kana", "date_range"):
        keys = ("start", "end") if kind == "date_range" else ("family", "given")
        values = raw if isinstance(raw, Mapping) else {}
        part_labels = {
            "family": translation.gettext("氏") if kind == "name" else translation.gettext("セイ"),
            "given": translation.gettext("名") if kind == "name" else translation.gettext("メイ"),
            "start": translation.gettext("開始日"),
            "end": translation.gettext("終了日"),
        }
        tokens = PART_AUTOCOMPLETE.get(kind, {})
        ctx["parts"] = [
            {
                "key": k,
                "name": f"{path}.{k}",
                "id": field_id(f"{path}.{k}"),
                "label": part_labels[k],
                "value": values.get(k, "") or "",
                "error": ctx["part_errors"].get(k, ""),
                "autocomplete": tokens.get(k, "off"),
            }
            for k in keys
        ]
    if kind in ("choice", "multichoice"):
        chosen = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        ctx["choices"] = [
            {
                "value": c["value"],
                "label": _label(c),
                "id": field_id(f"{path}.{i}"),
                "checked": c["value"] in chosen,
            }
            for i, c in enumerate(field["choices"])
        ]
        ctx["widget"] = "checkbox" if kind == "multichoice" else field.get("widget", "radio")
    if kind in ("consent", "declaration"):
        ctx["checked"] = raw is True or str(raw).lower() in ("on", "true", "1")
    if kind == "mynumber":
        ctx["value"] = ""
        ctx["masked"] = raw.masked if isinstance(raw, MyNumber) else ""
    if kind == "file":
        ctx["current"] = raw if isinstance(raw, Mapping) and raw.get("name") else None
        ctx["accept"] = ",".join(field.get("accept", []))
    if kind == "group":
        items = group_items(raw)
        max_items = int(field.get("max_items", 20))
        min_items = int(field.get("min_items", 0))
        count = min(max_items, max(len(items), min_items, 1))
        item_label = _label(field, "item_label") or _label(field)
        ctx["item_label"] = item_label
        ctx["can_add"] = count < max_items
        ctx["can_remove"] = count > max(min_items, 1)
        ctx["add_label"] = (
            translation.gettext("もう1人追加") if _is_about_people(field) else translation.gettext("もう1件追加")
        )
        ctx["max_items"] = max_items
        ctx["items"] = [
            {
                "number": index + 1,
                "index": index,
                "fields": [
                    field_context(
                        sub,
                        f"{path}.{index}.{sub['key']}",
                        to_raw(sub, (items[index] if index < len(items) else {}).get(sub["key"])),
                        errors,
                    )
                    for sub in field["fields"]
                ],
            }
            for index in range(count)
        ]
    return ctx


def group_items(raw: Any) -> list[dict[str, Any]]:
    """The rows of a repeating group as a list, from saved answers (a list) or from a
    posted web form unflattened to ``{"0": {...}, "1": {...}}``."""
    if isinstance(raw, list):
        return [dict(item) if isinstance(item, Mapping) else {} for item in raw]
    if isinstance(raw, Mapping) and raw and all(str(k).isdigit() for k in raw):
        return [dict(raw[k]) if isinstance(raw[k], Mapping) else {} for k in sorted(raw, key=lambda k: int(str(k)))]
    return []


def _is_about_people(field: Mapping[str, Any]) -> bool:
    """A group whose rows are people (they have a name): 「もう1人追加」, else 「もう1件追加」."""
    return any(sub["type"] in ("name", "kana") for sub in field.get("fields", []))


def _autocomplete(field: Mapping[str, Any]) -> str:
    if field.get("prefill") == BIRTHDAY_PREFILL:
        return "bday"
    return AUTOCOMPLETE.get(field["type"], "off" if field["type"] in ("mynumber",) else "")
