"""The life-event guide (手続きガイド): questions, answers and the personal checklist.

Flow: a life event has questions (asked one per page, each only if its ``show_if``
matches earlier answers) and rules; ``build_checklist`` keeps the rules whose
``when`` matches the answers and turns each into a checklist item with the procedure,
where to go, what to bring, the fee and a deadline date computed from the event date.
Deadlines count days from the event date (民法140条: the first day is not counted
unless the procedure says it is, as 戸籍法 does for 出生届 and 死亡届) and move to the
next day the office is open when they fall on a weekend, holiday or 年末年始.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from madoguchi.catalog.models import GuideRule, LifeEvent, Procedure
from madoguchi.core.japanese import next_open_day

Answers = dict[str, str]


class GuideError(Exception):
    """Invalid answers: ``errors`` maps a question code (or ``event_date``) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _matches(condition: dict[str, Any], answers: Answers) -> bool:
    for question, accepted in condition.items():
        values = accepted if isinstance(accepted, list) else [accepted]
        if answers.get(question) not in values:
            return False
    return True


def applicable_questions(event: LifeEvent, answers: Answers) -> list[dict[str, Any]]:
    """The questions to ask, in order, given the answers so far."""
    return [q for q in event.questions if _matches(q.get("show_if", {}), answers)]


def next_question(event: LifeEvent, answers: Answers) -> dict[str, Any] | None:
    for question in applicable_questions(event, answers):
        if question["code"] not in answers:
            return question
    return None


def clean_answers(event: LifeEvent, answers: dict[str, Any], *, complete: bool = True) -> Answers:
    """Keep the answers to questions that apply; raise ``GuideError`` for unknown
    questions, values that are not a choice, or (when ``complete``) missing answers."""
    errors: dict[str, str] = {}
    known = {q["code"]: q for q in event.questions}
    for code in answers:
        if code not in known:
            errors[code] = _("この質問はありません。")
    cleaned: Answers = {}
    for question in applicable_questions(event, {k: str(v) for k, v in answers.items()}):
        code = question["code"]
        value = answers.get(code)
        if value is None or value == "":
            if complete:
                errors[code] = _("選択してください。")
            continue
        allowed = [c["value"] for c in question["choices"]]
        if str(value) not in allowed:
            errors[code] = _("選択肢の中から選んでください（%(choices)s）。") % {"choices": ", ".join(allowed)}
            continue
        cleaned[code] = str(value)
        # Later questions' show_if is evaluated on the cleaned answers so far.
    if errors:
        raise GuideError(errors)
    # Drop answers to questions that no longer apply given the cleaned answers.
    applicable = {q["code"] for q in applicable_questions(event, cleaned)}
    return {k: v for k, v in cleaned.items() if k in applicable}


def deadline_for(event_date: dt.date, days: int, *, counts_first_day: bool) -> dt.date:
    """The last day to do a procedure ``days`` after ``event_date``."""
    offset = days - 1 if counts_first_day and days > 0 else days
    return next_open_day(event_date + dt.timedelta(days=offset))


@dataclass
class ChecklistItem:
    step: int
    procedure: Procedure
    note: str
    note_en: str
    deadline: dt.date | None
    deadline_days: int | None
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        p = self.procedure
        return {
            "step": self.step,
            "procedure": {"id": p.code, "name": p.name, "name_en": p.name_en},
            "department": p.department.name,
            "counter": p.counter,
            "bring": p.bring,
            "fee_yen": p.fee_yen,
            "fee_note": p.fee_note,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "deadline_text": p.deadline_text,
            "channels": p.channels,
            "online": p.is_online,
            "note": self.note,
            "done": self.done,
        }


@dataclass
class Checklist:
    event: LifeEvent
    answers: Answers
    event_date: dt.date | None
    items: list[ChecklistItem] = field(default_factory=list)


def build_checklist(event: LifeEvent, answers: dict[str, Any], event_date: dt.date | None) -> Checklist:
    """The personal checklist for ``event`` and complete ``answers``."""
    cleaned = clean_answers(event, answers, complete=True)
    rules = GuideRule.objects.filter(event=event, procedure__active=True).select_related(
        "procedure", "procedure__department"
    )
    checklist = Checklist(event=event, answers=cleaned, event_date=event_date)
    seen: set[int] = set()
    for rule in rules:
        if rule.procedure_id in seen or not _matches(rule.when, cleaned):
            continue
        seen.add(rule.procedure_id)
        proc = rule.procedure
        days = rule.deadline_days if rule.deadline_days is not None else proc.deadline_days
        deadline = None
        if event_date is not None and days is not None:
            deadline = deadline_for(event_date, days, counts_first_day=proc.deadline_counts_first_day)
        checklist.items.append(
            ChecklistItem(
                step=len(checklist.items) + 1,
                procedure=proc,
                note=rule.note,
                note_en=rule.note_en,
                deadline=deadline,
                deadline_days=days,
            )
        )
    return checklist
