"""Reads of the catalog: procedure lists, search, life events."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from madoguchi.catalog.models import LifeEvent, Procedure
from madoguchi.catalog.search import get_index


def _active() -> QuerySet[Procedure]:
    return Procedure.objects.filter(active=True)


def procedure_ranking(*, q: str = "", life_event: str = "") -> list[int]:
    """Primary keys of active procedures, filtered by life event code and, with a
    query, ranked by relevance (else by department and name).

    Raises ``LifeEvent.DoesNotExist`` for an unknown life event code."""
    qs = _active()
    if life_event:
        qs = qs.filter(life_events=LifeEvent.objects.get(code=life_event))
    if not q.strip():
        return list(qs.order_by("department__code", "name").values_list("pk", flat=True))
    allowed = set(qs.values_list("pk", flat=True)) if life_event else None
    return get_index().search(q, allowed=allowed)


def procedure_page(
    *, q: str = "", life_event: str = "", offset: int = 0, limit: int = 50
) -> tuple[int, list[Procedure]]:
    """(number of matches, the procedures from ``offset`` up to ``limit`` of them, in order)."""
    ranked = procedure_ranking(q=q, life_event=life_event)
    window = ranked[offset : offset + limit]
    by_pk = _active().select_related("department").in_bulk(window)
    return len(ranked), [by_pk[pk] for pk in window if pk in by_pk]


def procedure_list(*, q: str = "", life_event: str = "") -> list[Procedure]:
    """Every match, in order."""
    return procedure_page(q=q, life_event=life_event, limit=10**6)[1]


def procedure_get(*, code: str) -> Procedure:
    try:
        return Procedure.objects.select_related("department").get(code=code, active=True)
    except Procedure.DoesNotExist as exc:
        raise Http404("procedure not found") from exc


def life_event_list() -> QuerySet[LifeEvent]:
    return LifeEvent.objects.all()
