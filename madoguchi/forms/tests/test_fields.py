from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import jaconv
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.core.japanese import format_wareki
from madoguchi.forms.fields import (
    is_valid_mynumber,
    mynumber_check_digit,
    normalize_phone,
    postal_lookup,
    registry,
    resolve_date_bound,
)

HIRAGANA = st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3094), min_size=1, max_size=20)
KATAKANA = st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30F4), min_size=1, max_size=20)
ELEVEN_DIGITS = st.text(alphabet="0123456789", min_size=11, max_size=11)


def clean(type_: str, raw: Any, **field: Any) -> Any:
    return registry.get(type_).clean(raw, {"key": "f", "type": type_, "label": "f", **field}, "ja")


def messages(type_: str, raw: Any, **field: Any) -> Any:
    with pytest.raises(ValidationError) as info:
        clean(type_, raw, **field)
    exc = info.value
    return (
        {k: ValidationError(v).messages[0] for k, v in exc.error_dict.items()}
        if hasattr(exc, "error_dict")
        else exc.messages[0]
    )


# --- kana ------------------------------------------------------------------------------


@settings(max_examples=200)
@given(HIRAGANA, KATAKANA)
def test_hiragana_is_converted_to_katakana(family: str, given_name: str) -> None:
    assert clean("kana", {"family": family, "given": given_name}) == {
        "family": jaconv.hira2kata(family),
        "given": given_name,
    }


@settings(max_examples=200)
@given(KATAKANA)
def test_half_width_katakana_is_converted_to_full_width(kata: str) -> None:
    half = jaconv.z2h(kata, kana=True, ascii=False, digit=False)
    expected = unicodedata.normalize("NFKC", half)
    assert clean("kana", {"family": half, "given": "タロウ"})["family"] == expected


@settings(max_examples=200)
@given(KATAKANA, st.text(alphabet="山田abcXYZ019漢字!?＠", min_size=1, max_size=3))
def test_anything_but_kana_is_rejected(kata: str, other: str) -> None:
    assert messages("kana", {"family": kata + other, "given": "タロウ"}) == {"family": "カタカナで入力してください。"}


def test_kana_needs_both_parts() -> None:
    assert messages("kana", {"family": "ヤマダ", "given": ""}) == {"given": "氏と名の両方を入力してください。"}
    assert clean("kana", {"family": "", "given": ""}) is None


def test_name_keeps_characters_and_needs_both_parts() -> None:
    assert clean("name", {"family": " 髙橋 ", "given": "﨑子"}) == {"family": "髙橋", "given": "﨑子"}
    assert messages("name", {"family": "山田", "given": " "}) == {"given": "氏と名の両方を入力してください。"}


# --- マイナンバー -------------------------------------------------------------------


def test_known_valid_mynumber() -> None:
    assert mynumber_check_digit("12345678901") == 8
    assert is_valid_mynumber("123456789018")
    assert not is_valid_mynumber("123456789012")


@settings(max_examples=300)
@given(ELEVEN_DIGITS)
def test_number_with_computed_check_digit_is_accepted(first11: str) -> None:
    number = first11 + str(mynumber_check_digit(first11))
    value = clean("mynumber", number)
    assert value.last4 == number[-4:]
    assert value.reveal() == number
    assert clean("mynumber", f"{number[:4]}-{number[4:8]}-{number[8:]}").reveal() == number
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert clean("mynumber", full_width).reveal() == number


def _remainder(first11: str) -> int:
    return sum(int(ch) * (n + 1 if n <= 6 else n - 5) for n, ch in enumerate(reversed(first11), start=1)) % 11


@settings(max_examples=500)
@given(ELEVEN_DIGITS, st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_single_digit_change_is_rejected(first11: str, position: int, delta: int) -> None:
    """Changing the check digit is always caught. Changing one of the other eleven
    digits changes the weighted sum mod 11 (every weight is prime to 11), so it is
    caught unless the remainder moves between 0 and 1: the statutory rule gives both
    the check digit 0, the one blind spot of the official algorithm."""
    number = first11 + str(mynumber_check_digit(first11))
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    if position == 11 or {_remainder(first11), _remainder(changed[:11])} != {0, 1}:
        assert not is_valid_mynumber(changed)
        assert messages("mynumber", changed) == "マイナンバー（個人番号）が正しくありません。入力内容をご確認ください。"


def test_the_statutory_blind_spot_exists() -> None:
    # remainder 0 and remainder 1 both give check digit 0
    assert _remainder("00000000000") == 0 and _remainder("00000000006") == 1
    assert is_valid_mynumber("000000000000") and is_valid_mynumber("000000000060")


def test_mynumber_must_be_twelve_digits() -> None:
    assert messages("mynumber", "12345") == "マイナンバー（個人番号）は12桁の数字で入力してください。"
    assert messages("mynumber", "12345678901a") == "マイナンバー（個人番号）は12桁の数字で入力してください。"


def test_mynumber_value_is_masked() -> None:
    value = clean("mynumber", "123456789018")
    field = {"key": "m", "type": "mynumber", "label": "m"}
    assert registry.get("mynumber").display(value, field, "ja") == "********9018"
    assert registry.get("mynumber").display(value, field, "ja", reveal=True) == "123456789018"
    assert "123456789018" not in repr(value) and "123456789018" not in str(value)
    stored = registry.get("mynumber").dump(value)
    assert "123456789018" not in str(stored)
    assert registry.get("mynumber").load(stored).reveal() == "123456789018"


# --- dates ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.dates(min_value=dt.date(1873, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_round_trip_seireki_and_wareki(day: dt.date) -> None:
    assert clean("date", day.isoformat()) == day
    assert clean("date", f"{day.year}年{day.month}月{day.day}日") == day
    assert clean("date", format_wareki(day)) == day


def test_date_bounds_and_birth_date_not_in_the_future() -> None:
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    assert "以前の日付を入力してください" in messages("date", tomorrow.isoformat(), max="today")
    assert clean("date", today.isoformat(), max="today") == today
    assert "以降の日付" in messages("date", "2020-01-01", min="2021-04-01")
    assert messages("date", "令和8年2月30日") == "日付を正しく入力してください（例：2026年4月1日、令和8年4月1日）。"
    assert clean("date", "令和元年５月１日") == dt.date(2019, 5, 1)
    assert resolve_date_bound("today-18y", dt.date(2024, 2, 29)) == dt.date(2006, 2, 28)
    assert resolve_date_bound("today+7d", dt.date(2026, 12, 30)) == dt.date(2027, 1, 6)


def test_date_range() -> None:
    assert clean("date_range", {"start": "2026-05-01", "end": "令和8年5月3日"}) == {
        "start": dt.date(2026, 5, 1),
        "end": dt.date(2026, 5, 3),
    }
    assert messages("date_range", {"start": "2026-05-03", "end": "2026-05-01"}) == {
        "end": "終了日は開始日以降にしてください。"
    }
    assert messages("date_range", {"start": "2026-05-01", "end": "2026-05-10"}, max_days=7) == {
        "end": "期間は7日以内にしてください。"
    }


# --- postal code, phone, email --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prefecture", "city", "town"),
    [
        ("100-0001", "東京都", "千代田区", "千代田"),
        ("〒１６０－００２３", "東京都", "新宿区", "西新宿"),
        ("5300001", "大阪府", "大阪市北区", "梅田"),
        ("060 0000", "北海道", "札幌市中央区", ""),
    ],
)
def test_postal_code_fills_the_address(raw: str, prefecture: str, city: str, town: str) -> None:
    value = clean("postal_code", raw)
    assert (value["prefecture"], value["city"], value["town"]) == (prefecture, city, town)
    assert len(value["code"]) == 7


def test_unknown_or_malformed_postal_code() -> None:
    assert messages("postal_code", "999-9999") == "この郵便番号は見つかりません。"
    assert messages("postal_code", "12-345") == "郵便番号は7桁の数字で入力してください（例：100-0001）。"
    assert postal_lookup("0000000") is None


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("03-1234-5678", "0312345678"),
        ("０９０－１２３４－５６７８", "09012345678"),
        ("+81 90 1234 5678", "09012345678"),
        ("(045) 123-4567", "0451234567"),
        ("0120-123-456", "0120123456"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, digits: str) -> None:
    assert clean("phone", raw) == digits


@pytest.mark.parametrize("raw", ["123-4567", "03-1234-567", "0312345678901", "00312345678", "05012345678x"])
def test_bad_phone_numbers(raw: str) -> None:
    assert normalize_phone(raw) is None
    assert messages("phone", raw).startswith("電話番号を正しく入力してください")


def test_email() -> None:
    assert clean("email", "Taro@Example.JP") == "Taro@example.jp"
    assert clean("email", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"
    assert messages("email", "taro@") == "メールアドレスを正しく入力してください。"


# --- choices, numbers, money, files ---------------------------------------------------

CHOICES = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}]


def test_choice_and_multichoice() -> None:
    assert clean("choice", "a", choices=CHOICES) == "a"
    assert messages("choice", "z", choices=CHOICES) == "選択肢から選んでください。"
    assert clean("multichoice", ["c", "a"], choices=CHOICES) == ["a", "c"]
    assert messages("multichoice", ["a", "b", "c"], choices=CHOICES, max_items=2) == "2個まで選べます。"


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=10**12))
def test_money_accepts_yen_notations(yen: int) -> None:
    for text in (
        str(yen),
        f"{yen:,}",
        f"￥{yen:,}",
        f"{yen}円",
        f"¥{yen}".translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        assert clean("money", text) == yen


def test_number_bounds() -> None:
    assert clean("number", "３", min=1, max=10) == 3
    assert messages("number", "11", min=1, max=10) == "10以下の数を入力してください。"
    assert messages("number", "1.5") == "数字で入力してください。"


def test_file_metadata_checks() -> None:
    field = {"accept": ["application/pdf", ".jpg", "image/*"], "max_bytes": 1_000_000}
    ok = clean(
        "file", {"name": "C:\\scan\\委任状.pdf", "size": 1234, "content_type": "application/pdf", "id": "f1"}, **field
    )
    assert ok == {"name": "委任状.pdf", "size": 1234, "content_type": "application/pdf", "id": "f1"}
    assert clean("file", {"name": "a.png", "size": 5, "content_type": "image/png"}, **field)["name"] == "a.png"
    assert messages("file", {"name": "a.exe", "size": 5, "content_type": "application/x-msdownload"}, **field) == (
        "この種類のファイルは添付できません。"
    )
    assert messages("file", {"name": "a.pdf", "size": 2_000_000, "content_type": "application/pdf"}, **field) == (
        "ファイルの大きさは1MBまでです。"
    )


def test_consent_and_declaration_only_when_checked() -> None:
    assert clean("consent", "on") is True
    assert clean("declaration", "", text="x") is None


def test_group_items_paths() -> None:
    field = {
        "fields": [
            {"key": "name", "type": "name", "label": "氏名", "required": True},
            {"key": "birth_date", "type": "date", "label": "生年月日", "required": True, "max": "today"},
        ],
        "max_items": 3,
    }
    raw = [
        {"name": {"family": "山田", "given": "花子"}, "birth_date": "平成2年4月1日"},
        {"name": {"family": "", "given": ""}, "birth_date": ""},  # blank rows are dropped
        {"name": {"family": "山田", "given": ""}, "birth_date": "2999-01-01"},
    ]
    result = messages("group", raw, **field)
    # paths keep the index of the row as sent, blank rows included
    assert result == {"2.name.given": "氏と名の両方を入力してください。", "2.birth_date": result["2.birth_date"]}
    assert "以前の日付" in result["2.birth_date"]
    assert clean("group", raw[:2], **field) == [
        {"name": {"family": "山田", "given": "花子"}, "birth_date": dt.date(1990, 4, 1)}
    ]
