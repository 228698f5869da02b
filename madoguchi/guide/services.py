"""Writes of the guide: saving a checklist and ticking items off."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from madoguchi.catalog.models import LifeEvent
from madoguchi.core.models import User
from madoguchi.guide.engine import clean_answers
from madoguchi.guide.models import SavedChecklist


def checklist_save(
    *, owner: User, event: LifeEvent, answers: dict[str, str], event_date: dt.date | None
) -> SavedChecklist:
    cleaned = clean_answers(event, answers, complete=True)
    return SavedChecklist.objects.create(owner=owner, event=event, answers=cleaned, event_date=event_date)


def checklist_mark(*, checklist: SavedChecklist, procedure_code: str, done: bool) -> SavedChecklist:
    with transaction.atomic():
        locked = SavedChecklist.objects.select_for_update().get(pk=checklist.pk)
        codes = [c for c in locked.done if c != procedure_code]
        if done:
            codes.append(procedure_code)
        locked.done = codes
        locked.save(update_fields=["done", "updated_at"])
    return locked


def checklist_delete(*, checklist: SavedChecklist) -> None:
    checklist.delete()
