"""How dates, times and ticket calls are written and spoken."""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _

from madoguchi.appointments import clock

WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

#: How the letter of a ticket number is read aloud in Japanese.
LETTERS_JA = {
    "A": "エー",
    "B": "ビー",
    "C": "シー",
    "D": "ディー",
    "E": "イー",
    "F": "エフ",
    "G": "ジー",
    "H": "エイチ",
    "I": "アイ",
    "J": "ジェー",
    "K": "ケー",
    "L": "エル",
    "M": "エム",
    "N": "エヌ",
    "O": "オー",
    "P": "ピー",
    "Q": "キュー",
    "R": "アール",
    "S": "エス",
    "T": "ティー",
    "U": "ユー",
    "V": "ブイ",
    "W": "ダブリュー",
    "X": "エックス",
    "Y": "ワイ",
    "Z": "ゼット",
}


def _lang(language: str | None) -> str:
    return "en" if (language or translation.get_language() or "ja").startswith("en") else "ja"


def day_label(value: dt.date, language: str | None = None) -> str:
    """2026年11月25日（水） / Wed 25 Nov 2026."""
    if _lang(language) == "en":
        return f"{WEEKDAYS_EN[value.weekday()]} {value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日（{WEEKDAYS_JA[value.weekday()]}）"


def time_label(value: dt.datetime) -> str:
    return f"{clock.local(value):%H:%M}"


def when_label(starts_at: dt.datetime, ends_at: dt.datetime, language: str | None = None) -> str:
    """2026年11月25日（水） 10:00〜10:15."""
    return f"{day_label(clock.local(starts_at).date(), language)} {time_label(starts_at)}〜{time_label(ends_at)}"


def spoken_number(label: str) -> str:
    """A-012 → 「エー 12」 for the speech synthesizer."""
    prefix, _sep, number = label.partition("-")
    letters = " ".join(LETTERS_JA.get(ch.upper(), ch) for ch in prefix)
    return f"{letters} {int(number) if number.isdigit() else number}".strip()


def call_place(counter_name: str, desk: str) -> str:
    return " ".join(part for part in (counter_name, desk) if part)


def call_text(label: str, counter_name: str, desk: str) -> str:
    """「A-012 番の方、区民課 3番窓口へお越しください。」"""
    return _("%(ticket)s 番の方、%(place)s へお越しください。") % {
        "ticket": label,
        "place": call_place(counter_name, desk),
    }


def call_speech(label: str, counter_name: str, desk: str) -> str:
    """The same call as the speech synthesizer should say it (the letter spelled out)."""
    return _("%(ticket)s 番の方、%(place)s へお越しください。") % {
        "ticket": spoken_number(label),
        "place": call_place(counter_name, desk),
    }
