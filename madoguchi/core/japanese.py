"""Japanese text and calendar helpers, built on jaconv, pykakasi, japanera and jpholiday.

- ``normalize``: NFKC (全角英数→半角, 半角カナ→全角), lower case, spaces removed.
- ``reading``: the hiragana reading of any text (kanji via pykakasi).
- ``format_wareki``: 令和8年11月23日 (元年 for the first year of an era).
- ``is_closed_day`` / ``next_open_day``: weekends, national holidays (jpholiday) and
  the ward office's 年末年始 closure (12/29–1/3).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import jaconv
import jpholiday
import pykakasi
from japanera import EraDate

_kakasi = pykakasi.kakasi()


def _is_variation_selector(ch: str) -> bool:
    """Variation selectors (異体字セレクタ, e.g. the IVS after a kanji of a name) choose a
    glyph, not a different character."""
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def normalize(text: str) -> str:
    """Fold width and case; drop white space (全角/半角 spaces included) and variation
    selectors."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not ch.isspace() and not _is_variation_selector(ch))


@lru_cache(maxsize=8192)
def reading(text: str) -> str:
    """The hiragana reading of ``text``: kanji read by pykakasi, katakana folded to
    hiragana, other characters kept. ``住民票`` → ``じゅうみんひょう``."""
    norm = normalize(text)
    return "".join(jaconv.kata2hira(item["hira"]) for item in _kakasi.convert(norm))


def to_katakana(text: str) -> str:
    """Hiragana and half-width kana → full-width katakana (for フリガナ)."""
    return jaconv.hira2kata(unicodedata.normalize("NFKC", text))


def format_wareki(value: dt.date) -> str:
    era_date = EraDate.from_date(value)
    era = era_date.strftime("%-K")
    year = int(era_date.strftime("%-Y"))
    year_text = "元" if year == 1 else str(year)
    return f"{era}{year_text}年{value.month}月{value.day}日"


def format_seireki(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def is_year_end_closure(value: dt.date) -> bool:
    return (value.month == 12 and value.day >= 29) or (value.month == 1 and value.day <= 3)


def is_closed_day(value: dt.date) -> bool:
    """True when the ward office is closed: Saturday, Sunday, a national holiday or
    the 年末年始 closure."""
    return value.weekday() >= 5 or jpholiday.is_holiday(value) or is_year_end_closure(value)


def next_open_day(value: dt.date) -> dt.date:
    """``value`` itself if the office is open, else the next day it is."""
    while is_closed_day(value):
        value += dt.timedelta(days=1)
    return value


def add_open_days(value: dt.date, days: int) -> dt.date:
    """The ``days``-th day the office is open after ``value`` (0: ``value`` itself if
    open, else the next open day). Used for standard processing periods."""
    current = next_open_day(value)
    for _ in range(max(days, 0)):
        current = next_open_day(current + dt.timedelta(days=1))
    return current


_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日?$")
_SEIREKI = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_date(text: str) -> dt.date | None:
    """Parse a date typed as 西暦 (2026-11-23, 2026/11/23, 2026年11月23日) or 和暦
    (令和8年11月23日, 令和元年5月1日); 全角 digits are accepted. ``None`` if it is not
    a valid date."""
    value = normalize(text)
    if match := _SEIREKI.match(value):
        year, month, day = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    if match := _WAREKI.match(value):
        era, year_text, month_text, day_text = match.groups()
        era_year = 1 if year_text == "元" else int(year_text)
        try:
            found = EraDate.strptime(
                f"{era}{era_year:02d}年{int(month_text):02d}月{int(day_text):02d}日", "%-K%-y年%m月%d日"
            )
        except ValueError:
            return None
        return found[0].to_date() if found else None
    return None
