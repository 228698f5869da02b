"""Property tests of the builder: whatever sequence of operations staff perform (with
any input, good or bad), the draft stays editable, and a draft that passes the publish
checks always passes the schema and can be evaluated by the engine."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from madoguchi.forms import builder, engine, logic
from madoguchi.forms.builder import BuilderInputError, FieldLoc, NotInDraft
from madoguchi.forms.builder_checks import publish_problems, shape_problems
from madoguchi.forms.fields import registry
from madoguchi.forms.schema import PREFILL_KEYS, validate_definition
from madoguchi.forms.tests.conftest import load_definition

CODE = "juminhyo-copy"
Draw = Callable[[st.SearchStrategy[Any]], Any]

KEYS = st.one_of(
    st.sampled_from(["", "name", "phone", "proxy", "Bad-Key", "9lives", "x" * 70, "relationship", "copies"]),
    st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\Z"),
)
LABELS = st.sampled_from(["", "氏名", "勤務先", "Label", "  ", "選択"])
OPTION_TEXT = st.sampled_from(
    ["", "0", "1", "5", "-3", "100", "abc", "today", "today-18y", "2026-01-01", "bad", ".pdf", "image/png, .jpg", "pdf",
     "radio", "select", "2.5", "postal_code", "phone"]
)  # fmt: skip
CHOICE_VALUES = st.sampled_from(["", "a", "b", "self", "proxy", "x" * 70])


def start(name: str) -> dict[str, Any]:
    if name == "empty":
        return builder.empty_definition(CODE, "空のフォーム")
    definition = load_definition(name)
    definition["procedure"] = CODE
    return definition


def _index(draw: Draw, items: list[Any]) -> int:
    return int(draw(st.integers(-1, len(items))))


def _loc(draw: Draw, d: dict[str, Any], *, sub: bool = False) -> FieldLoc:
    steps = d["steps"]
    groups = [FieldLoc(i, j) for i, j, f in builder.iter_top_fields(d) if f.get("type") == "group"]
    if sub and groups and draw(st.booleans()):
        loc = draw(st.sampled_from(groups))
        subs = builder.get_field(d, loc).get("fields", [])
        return FieldLoc(loc.step, loc.field, _index(draw, subs))
    i = _index(draw, steps)
    fields = steps[i]["fields"] if 0 <= i < len(steps) else []
    j = _index(draw, fields)
    if not sub:
        return FieldLoc(i, j)
    subs = fields[j].get("fields", []) if 0 <= j < len(fields) and isinstance(fields[j].get("fields"), list) else []
    return FieldLoc(i, j, _index(draw, subs))


def _mostly(value: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` two times in three, else something from ``other``."""
    return st.one_of(st.just(value), st.just(value), other)


def field_data(draw: Draw, d: dict[str, Any], loc: FieldLoc) -> dict[str, Any]:
    current = builder.get_field(d, loc)
    type_name = draw(_mostly(current.get("type"), st.sampled_from([*registry.names(), "bogus"])))
    data: dict[str, Any] = {
        "type": type_name,
        "key": draw(_mostly(current.get("key", ""), KEYS)),
        "label": draw(_mostly(current.get("label", ""), LABELS)),
        "help": draw(st.sampled_from(["", "説明"])),
        "required": draw(st.sampled_from(["", "on"])),
        "hidden": draw(st.sampled_from(["", "", "", "on"])),
        "prefill": draw(_mostly("", st.sampled_from(["bogus.key", *sorted(PREFILL_KEYS)]))),
        "prefill_family": draw(_mostly("", st.sampled_from(["resident.family_name", "resident.family_name_kana"]))),
        "prefill_given": draw(_mostly("", st.sampled_from(["resident.given_name", "account.email"]))),
    }
    if type_name in registry:
        for spec in builder.option_specs(type_name):
            data[spec.input_name] = draw(_mostly("", OPTION_TEXT))
    rows = [c for c in current.get("choices", []) if isinstance(c, dict)]
    if draw(st.booleans()):
        rows = [{"value": draw(CHOICE_VALUES), "label": draw(LABELS)} for _ in range(draw(st.integers(0, 3)))]
    data["choice_count"] = str(len(rows))
    for i, row in enumerate(rows):
        data[f"choice-{i}-value"] = row.get("value", "")
        data[f"choice-{i}-label"] = row.get("label", "")
    return data


def rule_data(draw: Draw, d: dict[str, Any]) -> dict[str, Any]:
    fields = builder.top_field_keys(d)
    keys = fields + builder.step_keys(d)
    field_key = draw(st.sampled_from([*fields, "ghost"])) if fields else "ghost"
    field = builder.field_by_key(d, field_key) or {}
    choice_values = [c.get("value") for c in field.get("choices", []) if isinstance(c, dict)]
    operators = [name for name, _label in builder.operators_for(str(field.get("type", "")))] or ["bad"]
    return {
        "field": field_key,
        "op": draw(_mostly(draw(st.sampled_from(operators)), st.sampled_from([*builder.OPERATORS, "bad"]))),
        "values": draw(st.lists(st.sampled_from([*choice_values, "zzz"]), min_size=1, max_size=2)),
        "value": draw(st.sampled_from(["", "1", "abc", "5, 6"])),
        "action": draw(_mostly(draw(st.sampled_from(list(builder.ACTIONS))), st.just("bad"))),
        "targets": draw(st.lists(st.sampled_from([*keys, "ghost"]), min_size=1, max_size=2)),
    }


def apply(name: str, d: dict[str, Any], draw: Draw) -> None:
    if name == "settings":
        values = builder.parse_settings({"title": draw(LABELS), "description": "x"})
        builder.op_settings(d, values)
    elif name == "step_add":
        builder.op_step_add(d, builder.parse_step({"title": draw(LABELS), "key": draw(KEYS)}, d, None))
    elif name == "step_update":
        i = _index(draw, d["steps"])
        builder.get_step(d, i)
        data = {"title": draw(LABELS), "key": draw(KEYS), "hidden": draw(st.sampled_from(["", "on"]))}
        builder.op_step_update(d, i, builder.parse_step(data, d, i))
    elif name == "step_move":
        builder.op_step_move(d, _index(draw, d["steps"]), draw(st.sampled_from(["up", "down", "left"])))
    elif name == "step_delete":
        builder.op_step_delete(d, _index(draw, d["steps"]))
    elif name == "field_add":
        i = _index(draw, d["steps"])
        builder.get_step(d, i)
        data = {"type": draw(st.sampled_from([*registry.names(), "bogus"])), "label": draw(LABELS), "key": draw(KEYS)}
        new = builder.parse_new_field(data, d, builder.taken_keys_for(d, None), in_group=False)
        builder.op_field_add(d, i, new)
    elif name == "sub_add":
        loc = _loc(draw, d)
        group = builder.get_field(d, loc)
        if group.get("type") != "group":
            raise NotInDraft("not a group")
        taken = {s["key"] for s in group["fields"]}
        data = {"type": draw(st.sampled_from(registry.names())), "label": draw(LABELS), "key": draw(KEYS)}
        builder.op_field_add(d, loc.step, builder.parse_new_field(data, d, taken, in_group=True), group=loc.field)
    elif name in ("field_update", "sub_update"):
        loc = _loc(draw, d, sub=name == "sub_update")
        builder.get_field(d, loc)
        builder.op_field_update(d, loc, builder.parse_field(field_data(draw, d, loc), d, loc))
    elif name in ("field_move", "sub_move"):
        builder.op_field_move(d, _loc(draw, d, sub=name == "sub_move"), draw(st.sampled_from(["up", "down"])))
    elif name == "field_to_step":
        builder.op_field_to_step(d, _loc(draw, d), _index(draw, d["steps"]))
    elif name in ("field_delete", "sub_delete"):
        builder.op_field_delete(d, _loc(draw, d, sub=name == "sub_delete"))
    elif name == "rule_save":
        rules = d.get("logic", [])
        index = draw(st.one_of(st.none(), st.integers(-1, len(rules))))
        builder.op_rule_save(d, index, builder.parse_rule(rule_data(draw, d), d))
    elif name == "rule_delete":
        builder.op_rule_delete(d, _index(draw, d.get("logic", [])))


OPERATIONS = [
    "settings", "step_add", "step_update", "step_move", "step_delete", "field_add", "sub_add", "field_update",
    "sub_update", "field_move", "sub_move", "field_to_step", "field_delete", "sub_delete", "rule_save", "rule_delete",
]  # fmt: skip


def run_operations(data: st.DataObject, base: str) -> dict[str, Any]:
    definition = start(base)
    for _ in range(data.draw(st.integers(0, 10), label="operations")):
        name = data.draw(st.sampled_from(OPERATIONS), label="operation")
        candidate = copy.deepcopy(definition)
        try:
            apply(name, candidate, data.draw)
        except (BuilderInputError, NotInDraft):
            event(f"refused {name}")
            continue  # refused: the service saves nothing
        event(f"applied {name}")
        candidate["procedure"] = CODE
        assert shape_problems(candidate) == [], (name, shape_problems(candidate))
        definition = candidate
    return definition


@settings(max_examples=300, deadline=None)
@given(data=st.data(), base=st.sampled_from(["empty", "juminhyo-copy", "tenshutsu", "kokuho-kanyu"]))
def test_random_builder_operations_never_give_a_publishable_definition_that_fails_the_schema(
    data: st.DataObject, base: str
) -> None:
    definition = run_operations(data, base)
    publishable = not publish_problems(definition, procedure_code=CODE)
    event(f"publishable={publishable}")
    if publishable:
        assert validate_definition(definition) == []
        logic.evaluate(definition, {})
        engine.clean_all(definition, {})  # every field can be cleaned (empty answers)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_publish_service_only_publishes_what_the_schema_accepts(online_forms: None, data: st.DataObject) -> None:
    from madoguchi.catalog.models import Procedure
    from madoguchi.forms.services import DraftRefused, form_draft_create, form_draft_publish
    from madoguchi.forms.tests.test_builder_helpers import staff

    definition = run_operations(data, "juminhyo-copy")
    with transaction.atomic():
        actor = staff()
        draft = form_draft_create(procedure=Procedure.objects.get(code=CODE), actor=actor, definition=definition)
        try:
            published = form_draft_publish(form=draft, actor=actor, expected_checksum=draft.checksum)
        except DraftRefused:
            pass
        else:
            assert validate_definition(published.definition) == []
        transaction.set_rollback(True)
