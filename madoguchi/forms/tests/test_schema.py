from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from madoguchi.forms.schema import validate_definition
from madoguchi.forms.tests.conftest import data_files, load_definition

REQUIRED_CODES = {
    "juminhyo-copy", "inkan-shomei", "tenshutsu", "jidoteate", "kodomo-iryosho", "kokuho-kanyu",
    "sodai-gomi", "inu-toroku", "hoikuen", "nozei-shomei",
}  # fmt: skip


def test_at_least_fifteen_forms_including_the_much_used_ones() -> None:
    codes = {yaml.safe_load(p.read_text(encoding="utf-8"))["procedure"] for p in data_files()}
    assert len(codes) >= 15
    assert REQUIRED_CODES <= codes


@pytest.mark.parametrize("path", data_files(), ids=lambda p: p.stem)
def test_every_data_form_is_valid(path: Path) -> None:
    definition = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate_definition(definition) == []
    assert definition["procedure"] == path.stem
    for step in definition["steps"]:
        assert step.get("title_en"), step["key"]
        for field in step["fields"]:
            assert field.get("label_en"), field["key"]


def test_basic_four_fields_are_prefilled() -> None:
    fields = {f["key"]: f for s in load_definition("juminhyo-copy")["steps"] for f in s["fields"]}
    assert fields["name"]["prefill"] == {"family": "resident.family_name", "given": "resident.given_name"}
    assert fields["birth_date"]["prefill"] == "resident.birth_date"
    assert fields["address"]["prefill"] == "household.address"


def test_juminhyo_steps() -> None:
    keys = [s["key"] for s in load_definition("juminhyo-copy")["steps"]]
    assert keys == ["requester", "proxy", "target", "contents_step", "quantity", "delivery_step", "confirm"]


def broken(change: Any) -> list[str]:
    definition = copy.deepcopy(load_definition("juminhyo-copy"))
    change(definition)
    return [f"{e.path}: {e.message}" for e in validate_definition(definition)]


def test_unknown_field_type() -> None:
    errors = broken(lambda d: d["steps"][0]["fields"][0].update(type="hanko"))
    assert errors and errors[0].startswith("steps/0/fields/0/type:")


def test_option_of_another_type_is_rejected() -> None:
    errors = broken(lambda d: d["steps"][0]["fields"][0].update(max_bytes=10))
    assert errors and errors[0].startswith("steps/0/fields/0")


def test_choice_without_choices() -> None:
    errors = broken(lambda d: d["steps"][0]["fields"][7].pop("choices"))
    assert errors[0].startswith("steps/0/fields/7:") and "choices" in errors[0]


def test_duplicate_field_key() -> None:
    errors = broken(lambda d: d["steps"][6]["fields"][0].update(key="email"))
    assert errors == ["steps/6/fields/0/key: field key 'email' is used twice (or is a step key)"]


def test_logic_names_unknown_field_and_value() -> None:
    def change(d: dict[str, Any]) -> None:
        d["logic"][0]["when"] = {"field": "relationship", "in": ["cousin"]}
        d["logic"][1]["show"] = ["nothing"]
        d["logic"][2]["when"] = {"field": "ghost", "filled": True}

    assert broken(change) == [
        "logic/0/when/in: 'cousin' is not a choice of field 'relationship'",
        "logic/1/show/0: show names unknown field or step 'nothing'",
        "logic/2/when/field: condition names unknown field 'ghost'",
    ]


def test_require_cannot_name_a_step() -> None:
    errors = broken(lambda d: d["logic"][0].update(require=["proxy"]))
    assert errors == ["logic/0/require/0: require names unknown field 'proxy'"]


def test_unknown_prefill_key_and_wrong_shape() -> None:
    def change(d: dict[str, Any]) -> None:
        d["steps"][0]["fields"][2]["prefill"] = "resident.blood_type"
        d["steps"][0]["fields"][0]["prefill"] = "resident.family_name"

    assert broken(change) == [
        "steps/0/fields/0/prefill: prefill of a name field maps family and given",
        "steps/0/fields/2/prefill: unknown prefill key 'resident.blood_type'",
    ]


def test_bad_date_bound_and_min_over_max() -> None:
    def change(d: dict[str, Any]) -> None:
        d["steps"][0]["fields"][2]["max"] = "tomorrow"
        d["steps"][4]["fields"][0].update(min=5, max=2)

    assert broken(change) == [
        "steps/0/fields/2/max: 'tomorrow' is not an ISO date or today±N[dy]",
        "steps/4/fields/0/max: max must not be less than min",
    ]


def test_missing_required_top_level_keys() -> None:
    errors = validate_definition({"procedure": "x", "steps": []})
    assert any("'title' is a required property" in e.message for e in errors)
    assert any(e.path == "steps" for e in errors)
