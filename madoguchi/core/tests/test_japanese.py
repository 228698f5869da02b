from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.japanese import (
    format_wareki,
    is_closed_day,
    next_open_day,
    normalize,
    parse_date,
    reading,
    to_katakana,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("住民票", "じゅうみんひょう"),
        ("ｼﾞｭｳﾐﾝﾋｮｳ", "じゅうみんひょう"),
        ("ジュウミンヒョウ", "じゅうみんひょう"),
        ("住民表", "じゅうみんひょう"),
    ],
)
def test_reading_folds_kanji_katakana_and_half_width(text: str, expected: str) -> None:
    assert reading(text) == expected


def test_normalize_folds_width_case_and_spaces() -> None:
    assert normalize("ＡＢＣ　１２３ ｶﾅ") == "abc123カナ"


def test_to_katakana() -> None:
    assert to_katakana("やまだ ﾊﾅｺ") == "ヤマダ ハナコ"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2026, 11, 23), "令和8年11月23日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
    ],
)
def test_format_wareki(value: dt.date, expected: str) -> None:
    assert format_wareki(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", dt.date(2026, 11, 23)),
        ("2026/1/5", dt.date(2026, 1, 5)),
        ("２０２６年１１月２３日", dt.date(2026, 11, 23)),
        ("令和8年11月23日", dt.date(2026, 11, 23)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("令和1年4月30日", None),  # before 令和 began
        ("2026-02-30", None),
        ("きのう", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@given(st.dates(min_value=dt.date(1927, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_wareki_round_trips(value: dt.date) -> None:
    assert parse_date(format_wareki(value)) == value


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_next_open_day_is_open_and_not_before(value: dt.date) -> None:
    result = next_open_day(value)
    assert result >= value
    assert not is_closed_day(result)
    # Every day skipped was a closed day (2019's ten-day Golden Week is the longest run).
    skipped = [value + dt.timedelta(days=n) for n in range((result - value).days)]
    assert all(is_closed_day(day) for day in skipped)


def test_closed_days() -> None:
    assert is_closed_day(dt.date(2026, 11, 23))  # 勤労感謝の日 (Monday)
    assert is_closed_day(dt.date(2026, 12, 29))  # 年末年始
    assert is_closed_day(dt.date(2027, 1, 3))
    assert not is_closed_day(dt.date(2026, 11, 24))
    assert next_open_day(dt.date(2026, 12, 28)) == dt.date(2026, 12, 28)
    assert next_open_day(dt.date(2026, 12, 29)) == dt.date(2027, 1, 4)


@given(st.text(max_size=30))
def test_reading_never_fails(text: str) -> None:
    assert isinstance(reading(text), str)


def test_variation_selectors_do_not_change_the_text_or_its_reading() -> None:
    # 葛 with an ideographic variation selector (葛󠄀飾), as names are sometimes stored.
    assert normalize("葛\U000e0100飾") == normalize("葛飾")
    assert reading("葛\U000e0100飾") == reading("葛飾")
    assert reading("\U000e0100") == ""  # a lone selector reads as nothing (no crash)
