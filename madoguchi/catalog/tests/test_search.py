from __future__ import annotations

import pytest

from madoguchi.catalog.selectors import procedure_list

pytestmark = pytest.mark.django_db


def _codes(q: str, life_event: str = "") -> list[str]:
    return [p.code for p in procedure_list(q=q, life_event=life_event)]


@pytest.mark.parametrize(
    "query", ["住民票", "じゅうみんひょう", "ｼﾞｭｳﾐﾝﾋｮｳ", "ジュウミンヒョウ", "住民表", "住民票 写し", "じゅうみんひよう"]
)
def test_juminhyo_found_first_however_typed(catalog: None, query: str) -> None:
    assert _codes(query)[0] == "juminhyo-copy", (query, _codes(query)[:5])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("転入", "tennyu"),
        ("てんにゅう", "tennyu"),
        ("児童手当", "jidoteate"),
        ("粗大ごみ", "sodai-gomi"),
        ("そだいごみ", "sodai-gomi"),
        ("印鑑登録", "inkan-toroku"),
        ("犬", "inu-toroku"),
    ],
)
def test_common_queries_rank_the_obvious_procedure_high(catalog: None, query: str, expected: str) -> None:
    assert expected in _codes(query)[:3], (query, _codes(query)[:5])


def test_all_words_must_match(catalog: None) -> None:
    both = _codes("住民票 郵送")
    assert both and set(both) <= set(_codes("住民票"))


def test_nonsense_finds_nothing(catalog: None) -> None:
    assert _codes("量子コンピュータ宇宙旅行") == []


def test_empty_query_lists_everything_active(catalog: None) -> None:
    assert len(_codes("")) >= 80


def test_filter_by_life_event(catalog: None) -> None:
    moving = _codes("", life_event="moving-in")
    assert "tennyu" in moving and "shibo" not in moving
    assert _codes("住民票", life_event="birth") == [c for c in _codes("住民票") if c in _codes("", life_event="birth")]
