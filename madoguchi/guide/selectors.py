"""Reads of the guide, with access decided here: a resident sees only their own checklists."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from madoguchi.catalog.models import LifeEvent
from madoguchi.core.models import User
from madoguchi.guide.models import SavedChecklist


def life_event_get(*, code: str) -> LifeEvent:
    try:
        return LifeEvent.objects.get(code=code)
    except LifeEvent.DoesNotExist as exc:
        raise Http404("life event not found") from exc


def checklist_list_for_owner(*, owner: User) -> QuerySet[SavedChecklist]:
    return SavedChecklist.objects.filter(owner=owner).select_related("event")


def checklist_get_for_owner(*, owner: User, pk: int) -> SavedChecklist:
    """The checklist if ``owner`` owns it; 404 otherwise (never reveal that it exists)."""
    try:
        return SavedChecklist.objects.select_related("event").get(pk=pk, owner=owner)
    except SavedChecklist.DoesNotExist as exc:
        raise Http404("checklist not found") from exc
