from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import polib
import pytest
from django.conf import settings

from madoguchi.forms.engine import (
    UnknownStep,
    clean_all,
    clean_step,
    from_stored,
    prefill,
    summary,
    to_stored,
    unflatten,
)
from madoguchi.forms.tests.conftest import load_definition

MYNUMBER = "123456789018"
APPLICANT = {
    "name.family": "山田",
    "name.given": "太郎",
    "name_kana.family": "やまだ",
    "name_kana.given": "ﾀﾛｳ",
    "birth_date": "昭和60年4月1日",
    "postal_code": "１００－０００１",
    "address": "1番1号",
    "phone": "090-1234-5678",
    "email": "taro@example.jp",
}


def test_unflatten() -> None:
    assert unflatten({"a.b": "1", "m.0.x": "2", "m.1.x": "3", "c": ["x"]}) == {
        "a": {"b": "1"},
        "m": {"0": {"x": "2"}, "1": {"x": "3"}},
        "c": ["x"],
    }


def test_clean_step_converts_and_keeps_shown_fields() -> None:
    definition = load_definition("juminhyo-copy")
    cleaned, errors = clean_step(definition, "requester", {**APPLICANT, "relationship": "self"})
    assert errors == {}
    assert cleaned["name_kana"] == {"family": "ヤマダ", "given": "タロウ"}
    assert cleaned["birth_date"] == dt.date(1985, 4, 1)
    assert cleaned["postal_code"] == {"code": "1000001", "prefecture": "東京都", "city": "千代田区", "town": "千代田"}
    assert cleaned["phone"] == "09012345678"


def test_required_and_field_errors_are_keyed_by_path_in_japanese() -> None:
    definition = load_definition("juminhyo-copy")
    _cleaned, errors = clean_step(definition, "requester", {**APPLICANT, "name_kana.given": "Taro", "email": ""})
    assert errors == {
        "name_kana.given": "カタカナで入力してください。",
        "email": "入力してください。",
        "relationship": "選択してください。",
    }


def test_group_errors_have_item_paths() -> None:
    definition = load_definition("tenshutsu")
    raw = {
        "movers.0.name.family": "山田",
        "movers.0.name.given": "太郎",
        "movers.0.name_kana.family": "ヤマダ",
        "movers.0.name_kana.given": "タロウ",
        "movers.0.birth_date": "2999-01-01",
        "movers.0.relation": "head",
    }
    _cleaned, errors = clean_step(definition, "movers_step", raw)
    assert list(errors) == ["movers.0.birth_date"]
    assert "以前の日付" in errors["movers.0.birth_date"]


def test_hidden_fields_are_dropped_and_rules_use_earlier_steps() -> None:
    definition = load_definition("juminhyo-copy")
    raw = {"delivery": "mail", "pickup_office": "kita"}
    cleaned, errors = clean_step(definition, "delivery_step", raw)
    assert errors == {} and cleaned == {"delivery": "mail"}
    cleaned, errors = clean_step(definition, "delivery_step", {"delivery": "counter"})
    assert errors == {"pickup_office": "選択してください。"}
    # a hidden step gives nothing back, whatever was sent
    assert clean_step(definition, "proxy", {"principal_name.family": "x"}, context={"relationship": "self"}) == ({}, {})
    _cleaned, errors = clean_step(definition, "proxy", {}, context={"relationship": "proxy"})
    assert set(errors) == {"principal_name", "principal_birth_date", "power_of_attorney"}


def test_unknown_step() -> None:
    with pytest.raises(UnknownStep):
        clean_step(load_definition("juminhyo-copy"), "nope", {})


def full_juminhyo() -> dict[str, Any]:
    return {
        **APPLICANT,
        "relationship": "self",
        "scope": "all",
        "persons.0.name.family": "ignored because scope is all",
        "contents": ["setainushi", "mynumber"],
        "mynumber_consent": "on",
        "copies": "２",
        "purpose": "employment",
        "delivery": "mail",
        "declaration": "on",
    }


def test_clean_all_revalidates_everything() -> None:
    definition = load_definition("juminhyo-copy")
    cleaned, errors = clean_all(definition, full_juminhyo())
    assert errors == {}
    assert "persons" not in cleaned and cleaned["copies"] == 2 and cleaned["declaration"] is True
    _cleaned, errors = clean_all(definition, {**full_juminhyo(), "declaration": "", "mynumber_consent": ""})
    assert errors == {
        "mynumber_consent": "同意いただく必要があります。",
        "declaration": "内容を確認し、チェックを入れてください。",
    }


def test_stored_form_round_trip_and_summary() -> None:
    definition = load_definition("kokuho-kanyu")
    data = {
        **APPLICANT,
        "mynumber": MYNUMBER,
        "reason": "left_employment",
        "reason_date": dt.date.today().isoformat(),
        "lost_proof": {"name": "喪失証明.pdf", "size": 2048, "content_type": "application/pdf"},
        "members": [
            {
                "name": {"family": "山田", "given": "花子"},
                "name_kana": {"family": "ヤマダ", "given": "ハナコ"},
                "birth_date": "平成2年4月1日",
                "sex": "female",
                "mynumber": "0000 0000 0060",
            }
        ],
        "prior_income": "3,000,000円",
        "declaration": True,
    }
    cleaned, errors = clean_all(definition, data)
    assert errors == {}
    stored = to_stored(definition, cleaned)
    text = json.dumps(stored, ensure_ascii=False)
    assert MYNUMBER not in text and "000000000060" not in text
    loaded = from_stored(definition, json.loads(text))
    assert loaded["mynumber"].reveal() == MYNUMBER
    assert loaded["members"][0]["birth_date"] == dt.date(1990, 4, 1)
    rows = {r.path: r.value for r in summary(definition, loaded)}
    assert rows["mynumber"] == "********9018"
    assert rows["members.0.mynumber"] == "********0060"
    assert rows["prior_income"] == "3,000,000円"
    assert rows["birth_date"] == "昭和60年4月1日（1985年）"
    revealed = {r.path: r.value for r in summary(definition, loaded, reveal_sensitive=True)}
    assert revealed["mynumber"] == MYNUMBER


def test_mynumber_never_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    definition = load_definition("jidoteate")
    caplog.set_level(logging.DEBUG)
    cleaned, _errors = clean_step(definition, "applicant", {**APPLICANT, "mynumber": MYNUMBER, "insurance": "kokuho"})
    logging.getLogger("madoguchi.forms").info("cleaned %s %r", cleaned, cleaned)
    to_stored(definition, cleaned)
    assert MYNUMBER not in caplog.text
    assert "********9018" in caplog.text
    # a wrong number is not echoed in the message either
    _cleaned, errors = clean_step(definition, "applicant", {**APPLICANT, "mynumber": "123456789012"})
    assert "123456789012" not in json.dumps(errors, ensure_ascii=False)


def test_prefill_from_resident_data() -> None:
    initial = prefill(
        load_definition("juminhyo-copy"),
        {"resident.family_name": "山田", "resident.given_name": "太郎", "resident.birth_date": "1985-04-01"},
    )
    assert initial["name"] == {"family": "山田", "given": "太郎"}
    assert initial["birth_date"] == "1985-04-01"
    assert "email" not in initial


def _english(msgid: str) -> str | None:
    po = polib.pofile(str(settings.BASE_DIR / "madoguchi" / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    entry = po.find(msgid)
    return entry.msgstr if entry and entry.msgstr else None


def test_messages_in_english_when_asked() -> None:
    expected = _english("カタカナで入力してください。")
    assert expected, "the English catalogue must translate the forms' messages"
    definition = load_definition("juminhyo-copy")
    _cleaned, errors = clean_step(definition, "requester", {**APPLICANT, "name_kana.given": "Taro"}, lang="en")
    assert errors["name_kana.given"] == expected
