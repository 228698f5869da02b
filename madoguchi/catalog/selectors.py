"""Reads of the catalog: procedure lists, search, life events."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from madoguchi.catalog.models import LifeEvent, Procedure
from madoguchi.catalog.search import get_index


def procedure_list(*, q: str = "", life_event: str = "") -> list[Procedure]:
    """Active procedures, filtered by life event code and ranked by the search query.

    Raises ``LifeEvent.DoesNotExist`` for an unknown life event code."""
    qs: QuerySet[Procedure] = Procedure.objects.filter(active=True).select_related("department")
    if life_event:
        event = LifeEvent.objects.get(code=life_event)
        qs = qs.filter(life_events=event)
    if not q.strip():
        return list(qs.order_by("department__code", "name"))
    allowed = set(qs.values_list("pk", flat=True)) if life_event else None
    ranked = get_index().search(q, allowed=allowed)
    by_pk = {p.pk: p for p in qs.filter(pk__in=ranked)}
    return [by_pk[pk] for pk in ranked if pk in by_pk]


def procedure_get(*, code: str) -> Procedure:
    try:
        return Procedure.objects.select_related("department").get(code=code, active=True)
    except Procedure.DoesNotExist as exc:
        raise Http404("procedure not found") from exc


def life_event_list() -> QuerySet[LifeEvent]:
    return LifeEvent.objects.all()
