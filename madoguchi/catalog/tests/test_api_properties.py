"""Whatever a client sends, the API answers with a result or a clear 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(q=TEXT, life_event=st.sampled_from(["", "moving-in", "birth", "nope"]))
def test_search_never_fails(client: Client, catalog: None, q: str, life_event: str) -> None:
    response = client.get("/api/v1/procedures", {"q": q, "life_event": life_event})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["count"] >= len(response.json()["results"])


@SETTINGS
@given(
    event=st.sampled_from(["moving-in", "birth", "employment", "school", "x"]),
    answers=st.dictionaries(st.sampled_from(["from", "insurance", "household", "change", "stage", "zzz"]), TEXT),
    event_date=st.one_of(st.none(), st.dates().map(str), TEXT),
)
def test_guide_never_fails(
    client: Client, catalog: None, event: str, answers: dict[str, str], event_date: object
) -> None:
    payload = {"event": event, "answers": answers, "event_date": event_date}
    response = client.post("/api/v1/guide", json.dumps(payload), content_type="application/json")
    assert response.status_code in (200, 400, 422), response.content
    body = response.json()
    if response.status_code != 200:
        assert body["detail"] and all(e["field"] for e in body["errors"])
