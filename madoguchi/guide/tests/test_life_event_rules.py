"""One scenario or more per life event: given these answers, the checklist holds these
procedures (in this order where it matters) and not those."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.catalog.models import LifeEvent
from madoguchi.guide.engine import build_checklist

pytestmark = pytest.mark.django_db

D = dt.date(2026, 11, 2)  # a Monday

SCENARIOS = [
    # (event, answers, must include, must not include)
    (
        "moving-in",
        {"from": "domestic", "insurance": "kokuho", "household": "children", "dog": "registered", "inkan": "yes"},
        ["tennyu", "mynumber-jusho", "inkan-toroku", "kokuho-kanyu", "jidoteate", "kodomo-iryosho", "inu-henko"],
        ["gaikokujin-tennyu", "kaigo-hihokensha", "inu-toroku", "kokumin-nenkin"],
    ),
    (
        "moving-in",
        {"from": "abroad-foreign", "insurance": "kokuho", "household": "none", "dog": "no", "inkan": "no"},
        ["tennyu", "gaikokujin-tennyu", "mynumber-shinsei", "kokuho-kanyu", "kokumin-nenkin"],
        ["mynumber-jusho", "jidoteate", "inkan-toroku", "inu-henko"],
    ),
    (
        "moving-in",
        {"from": "domestic", "insurance": "employee", "household": "elderly", "dog": "new", "inkan": "no"},
        ["tennyu", "kaigo-hihokensha", "inu-toroku", "kyokenbyo"],
        ["kokuho-kanyu", "jidoteate"],
    ),
    (
        "moving-within",
        {"insurance": "kokuho", "children": "yes", "school_change": "yes", "dog": "no"},
        ["tenkyo", "mynumber-jusho", "kokuho-henko", "jidoteate-henko", "tenko"],
        ["tennyu", "inu-henko"],
    ),
    (
        "moving-within",
        {"insurance": "employee", "children": "no", "dog": "yes"},
        ["tenkyo", "inu-henko"],
        ["tenko", "kokuho-henko"],
    ),
    (
        "moving-out",
        {"to": "abroad", "insurance": "kokuho", "children": "no", "kaigo": "no"},
        ["tenshutsu", "mynumber-jusho", "kokuho-dattai", "kokumin-nenkin", "senkyo-meibo"],
        ["tennyu", "tenko"],
    ),
    (
        "pregnancy",
        {"insurance": "kokuho", "nenkin": "yes", "nursery": "no"},
        ["ninshin-todoke", "nenkin-sanzen", "shussan-ichiji"],
        ["hoikuen"],
    ),
    (
        "birth",
        {"insurance": "employee", "allowance": "no", "nenkin": "no", "parents": "single", "nursery": "yes"},
        ["shussei", "jidoteate", "kodomo-iryosho", "jido-fuyo", "hitorioya-iryo", "hoikuen"],
        ["kokuho-kanyu", "jidoteate-henko", "shussan-ichiji"],
    ),
    (
        "birth",
        {"insurance": "kokuho", "allowance": "yes", "nenkin": "yes", "parents": "two", "nursery": "no"},
        ["shussei", "kokuho-kanyu", "jidoteate-henko", "shussan-ichiji", "nenkin-sanzen"],
        ["jidoteate", "jido-fuyo", "hoikuen"],
    ),
    (
        "marriage",
        {"move": "into", "surname": "yes", "insurance": "join"},
        ["konin", "tennyu", "mynumber-jusho", "inkan-toroku", "kokuho-kanyu", "kokumin-nenkin"],
        ["tenshutsu", "tenkyo", "kokuho-dattai"],
    ),
    (
        "divorce",
        {"surname": "keep", "move": "out", "children": "yes", "insurance": "yes"},
        ["rikon", "rikon-shi", "tenshutsu", "jidoteate", "jido-fuyo", "kokuho-kanyu"],
        ["tennyu", "setai-henko"],
    ),
    (
        "death",
        {"insurance": "kokuho", "kaigo": "yes", "householder": "yes", "pension": "yes", "spouse": "no"},
        ["shibo", "maikasou", "setai-henko", "kokuho-dattai", "kokuho-sosai", "kaigo-hihokensha", "izoku-nenkin"],
        ["kouki-sosai", "fukuuji"],
    ),
    (
        "employment",
        {"change": "get-job", "prev_kokuho": "yes"},
        ["kokuho-dattai", "juminzei-nofu"],
        ["kokuho-kanyu", "nenkin-menjo"],
    ),
    (
        "employment",
        {"change": "leave-job", "after_insurance": "kokuho", "involuntary": "yes", "age": "yes"},
        ["kokuho-kanyu", "kokuho-hokenryo", "kokumin-nenkin", "nenkin-menjo"],
        ["kokuho-dattai"],
    ),
    (
        "school",
        {"stage": "elementary", "school_type": "public", "afterschool": "yes", "support": "yes"},
        ["shugaku", "gakudo", "shugaku-enjo", "kodomo-iryosho"],
        ["hoikuen", "shogakukin"],
    ),
    ("school", {"stage": "nursery"}, ["hoikuen"], ["shugaku", "gakudo"]),
    (
        "care",
        {"age": "65plus", "certified": "no", "home": "yes", "alone": "yes", "judgement": "no"},
        ["koreisha-sodan", "kaigo-nintei", "kaigo-jutaku", "kinkyu-tsuho"],
        ["shogai-service", "seinen-koken"],
    ),
    (
        "care",
        {"age": "under40", "alone": "no", "judgement": "yes"},
        ["shogai-service", "seinen-koken"],
        ["kaigo-nintei"],
    ),
    (
        "age-65",
        {"insurance": "kokuho", "pension": "not-yet"},
        ["kaigo-hihokensha", "rorei-nenkin", "tokutei-kenshin"],
        [],
    ),
    ("age-65", {"insurance": "employee", "pension": "done"}, ["kaigo-hihokensha"], ["rorei-nenkin", "tokutei-kenshin"]),
    ("pet", {"registered": "no", "vaccinated": "no"}, ["inu-toroku", "kyokenbyo"], ["inu-henko"]),
    ("pet", {"registered": "other", "vaccinated": "tag"}, ["inu-henko"], ["inu-toroku", "kyokenbyo"]),
]


@pytest.mark.parametrize(("event_code", "answers", "include", "exclude"), SCENARIOS)
def test_life_event_scenario(
    catalog: None, event_code: str, answers: dict[str, str], include: list[str], exclude: list[str]
) -> None:
    checklist = build_checklist(LifeEvent.objects.get(code=event_code), answers, D)
    codes = [item.procedure.code for item in checklist.items]
    missing = [c for c in include if c not in codes]
    unexpected = [c for c in exclude if c in codes]
    assert not missing and not unexpected, (
        f"{event_code} {answers}: missing {missing}, unexpected {unexpected}, got {codes}"
    )


def test_every_event_has_a_scenario(catalog: None) -> None:
    assert {s[0] for s in SCENARIOS} == set(LifeEvent.objects.values_list("code", flat=True))


def test_registration_comes_first(catalog: None) -> None:
    checklist = build_checklist(LifeEvent.objects.get(code="moving-in"), SCENARIOS[0][1], D)
    assert checklist.items[0].procedure.code == "tennyu"
    checklist = build_checklist(LifeEvent.objects.get(code="birth"), SCENARIOS[7][1], D)
    assert checklist.items[0].procedure.code == "shussei"


@pytest.mark.parametrize(
    ("event_code", "answers", "procedure", "deadline"),
    [
        # 転入届: 14 days, first day not counted: 11/2 + 14 = 11/16 (Mon).
        ("moving-in", SCENARIOS[0][1], "tennyu", dt.date(2026, 11, 16)),
        # 出生届: 14 days counting the day of birth: 11/15 is a Sunday → 11/16.
        ("birth", SCENARIOS[7][1], "shussei", dt.date(2026, 11, 16)),
        # 死亡届: 7 days counting the day of death: 11/8 is a Sunday → 11/9.
        ("death", SCENARIOS[11][1], "shibo", dt.date(2026, 11, 9)),
        # 児童手当: within 15 days from the next day: 11/17.
        ("birth", SCENARIOS[7][1], "jidoteate", dt.date(2026, 11, 17)),
    ],
)
def test_deadlines(catalog: None, event_code: str, answers: dict[str, str], procedure: str, deadline: dt.date) -> None:
    checklist = build_checklist(LifeEvent.objects.get(code=event_code), answers, D)
    item = next(i for i in checklist.items if i.procedure.code == procedure)
    assert item.deadline == deadline
