from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.forms.engine import next_step
from madoguchi.forms.logic import condition_holds, evaluate
from madoguchi.forms.tests.conftest import load_definition

CHOICES = [{"value": v, "label": v} for v in ("self", "household", "other")]
DEFINITION: dict[str, Any] = {
    "procedure": "juminhyo-copy",
    "title": "t",
    "steps": [
        {
            "key": "who",
            "title": "who",
            "fields": [
                {"key": "relationship", "type": "choice", "label": "r", "choices": CHOICES, "required": True},
                {"key": "proxy_name", "type": "text", "label": "p", "hidden": True},
                {"key": "copies", "type": "number", "label": "c"},
            ],
        },
        {"key": "proxy", "title": "proxy", "hidden": True, "fields": [{"key": "letter", "type": "text", "label": "l"}]},
        {"key": "end", "title": "end", "fields": [{"key": "note", "type": "text", "label": "n"}]},
    ],
    "logic": [
        {
            "when": {"field": "relationship", "in": ["other"]},
            "show": ["proxy_name", "proxy"],
            "require": ["proxy_name"],
        },
        {"when": {"field": "copies", "gte": 5}, "require": ["note"]},
        {"when": {"field": "proxy_name", "filled": True}, "require": ["letter"]},
    ],
}


def test_hidden_by_default_then_shown_and_required() -> None:
    state = evaluate(DEFINITION, {"relationship": "self"})
    assert state.visible_steps == ["who", "end"]
    assert "proxy_name" not in state.visible_fields
    assert state.required_fields == {"relationship"}
    state = evaluate(DEFINITION, {"relationship": "other", "proxy_name": "代理 太郎"})
    assert state.visible_steps == ["who", "proxy", "end"]
    assert state.required_fields == {"relationship", "proxy_name", "letter"}


def test_hidden_field_counts_as_unanswered_so_rules_cascade() -> None:
    # proxy_name has a stale value but is hidden: the rule that depends on it does not fire
    state = evaluate(DEFINITION, {"relationship": "self", "proxy_name": "stale"})
    assert "letter" not in state.required_fields


def test_numeric_conditions() -> None:
    assert "note" in evaluate(DEFINITION, {"copies": 5}).required_fields
    assert "note" not in evaluate(DEFINITION, {"copies": 4}).required_fields
    assert "note" not in evaluate(DEFINITION, {"copies": None}).required_fields


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True), st.lists(st.sampled_from(["a", "b"]), min_size=1))
def test_in_and_not_in_are_complements(chosen: list[str], accepted: list[str]) -> None:
    data = {"x": chosen}
    holds = condition_holds({"field": "x", "in": accepted}, data)
    assert holds == bool(set(chosen) & set(accepted))
    assert condition_holds({"field": "x", "not_in": accepted}, data) is not holds
    assert condition_holds({"not": {"field": "x", "in": accepted}}, data) is not holds
    assert condition_holds({"all": [{"field": "x", "in": accepted}, {"field": "x", "filled": True}]}, data) == (
        holds and bool(chosen)
    )


def test_hide_wins_over_show() -> None:
    definition = {
        **DEFINITION,
        "logic": [*DEFINITION["logic"], {"when": {"field": "copies", "lte": 0}, "hide": ["proxy"]}],
    }
    assert "proxy" not in evaluate(definition, {"relationship": "other", "copies": 0}).visible_steps


def test_next_step_skips_hidden_steps() -> None:
    assert next_step(DEFINITION, None, {}) == "who"
    assert next_step(DEFINITION, "who", {"relationship": "self"}) == "end"
    assert next_step(DEFINITION, "who", {"relationship": "other"}) == "proxy"
    assert next_step(DEFINITION, "end", {}) is None


def test_real_form_public_servants_see_only_the_notice() -> None:
    definition = load_definition("jidoteate")
    state = evaluate(definition, {"insurance": "kyosai"})
    assert state.visible_steps == ["applicant", "kyosai_notice"]
    state = evaluate(definition, {"insurance": "shaho"})
    assert "employer" in state.required_fields and "kyosai_notice" not in state.visible_steps
