from __future__ import annotations

import datetime as dt
import itertools

import pytest

from madoguchi.catalog.models import GuideRule, LifeEvent
from madoguchi.core.japanese import is_closed_day
from madoguchi.guide.engine import GuideError, applicable_questions, build_checklist, clean_answers, deadline_for

pytestmark = pytest.mark.django_db


def all_answer_sets(event: LifeEvent) -> list[dict[str, str]]:
    """Every complete set of answers a resident could give (questions skipped by show_if omitted)."""
    results: list[dict[str, str]] = []
    codes = [q["code"] for q in event.questions]
    choices = [[c["value"] for c in q["choices"]] for q in event.questions]
    seen: set[tuple[tuple[str, str], ...]] = set()
    for combo in itertools.product(*choices):
        answers = dict(zip(codes, combo, strict=True))
        # Ask in order, like the wizard: a question counts only if its show_if matches.
        kept: dict[str, str] = {}
        for q in event.questions:
            if q in applicable_questions(event, kept):
                kept[q["code"]] = answers[q["code"]]
        key = tuple(sorted(kept.items()))
        if key not in seen:
            seen.add(key)
            results.append(kept)
    return results


def test_deadline_counting() -> None:
    monday = dt.date(2026, 11, 2)
    # 民法140条: first day not counted → 14 days after.
    assert deadline_for(monday, 14, counts_first_day=False) == dt.date(2026, 11, 16)
    # 戸籍法: the day itself counts → 13 days after, 11/15 is a Sunday → Monday 11/16.
    assert deadline_for(monday, 14, counts_first_day=True) == dt.date(2026, 11, 16)
    assert deadline_for(dt.date(2026, 11, 4), 14, counts_first_day=True) == dt.date(2026, 11, 17)
    # Falls in 年末年始 → first open day of the new year.
    assert deadline_for(dt.date(2026, 12, 15), 14, counts_first_day=False) == dt.date(2027, 1, 4)
    assert deadline_for(dt.date(2026, 11, 20), 0, counts_first_day=False) == dt.date(2026, 11, 20)


def test_every_event_and_every_answer_set_gives_a_sound_checklist(catalog: None) -> None:
    event_date = dt.date(2026, 11, 20)
    for event in LifeEvent.objects.all():
        sets = all_answer_sets(event)
        assert sets, event.code
        always = {r.procedure.code for r in GuideRule.objects.filter(event=event) if not r.when}
        for answers in sets:
            checklist = build_checklist(event, answers, event_date)
            codes = [i.procedure.code for i in checklist.items]
            assert len(codes) == len(set(codes)), (event.code, answers)
            assert always <= set(codes), (event.code, answers)
            assert [i.step for i in checklist.items] == list(range(1, len(codes) + 1))
            for item in checklist.items:
                if item.deadline is not None:
                    assert not is_closed_day(item.deadline), (event.code, item.procedure.code)
                    if item.deadline_days is not None and item.deadline_days >= 0:
                        assert item.deadline >= event_date


def test_answers_are_validated(catalog: None) -> None:
    event = LifeEvent.objects.get(code="moving-in")
    first = event.questions[0]
    with pytest.raises(GuideError) as info:
        clean_answers(event, {}, complete=True)
    assert first["code"] in info.value.errors
    with pytest.raises(GuideError) as info:
        clean_answers(event, {first["code"]: "not-a-choice"}, complete=False)
    assert "選択肢" in info.value.errors[first["code"]]
    with pytest.raises(GuideError) as info:
        clean_answers(event, {"favourite_colour": "blue"}, complete=False)
    assert "favourite_colour" in info.value.errors


def test_answers_to_questions_that_do_not_apply_are_dropped() -> None:
    # An event of its own: the demo catalog asks no question conditionally today.
    event = LifeEvent(
        code="test-event",
        name="テスト",
        questions=[
            {"code": "spouse", "text": "配偶者はいますか", "choices": [{"value": "yes"}, {"value": "no"}]},
            {
                "code": "spouse_moves",
                "text": "配偶者も一緒に転居しますか",
                "show_if": {"spouse": ["yes"]},
                "choices": [{"value": "yes"}, {"value": "no"}],
            },
        ],
    )
    kept = clean_answers(event, {"spouse": "yes", "spouse_moves": "no"}, complete=True)
    assert kept == {"spouse": "yes", "spouse_moves": "no"}
    dropped = clean_answers(event, {"spouse": "no", "spouse_moves": "no"}, complete=True)
    assert dropped == {"spouse": "no"}
    with pytest.raises(GuideError):  # asked, so it must be answered
        clean_answers(event, {"spouse": "yes"}, complete=True)
