from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_search_api(client: Client, catalog: None) -> None:
    response = client.get("/api/v1/procedures", {"q": "じゅうみんひょう"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 1
    assert body["results"][0]["id"] == "juminhyo-copy"
    assert body["results"][0]["online"] is True


def test_filter_api_and_unknown_life_event(client: Client, catalog: None) -> None:
    body = client.get("/api/v1/procedures", {"life_event": "moving-in"}).json()
    assert "tennyu" in [r["id"] for r in body["results"]]
    response = client.get("/api/v1/procedures", {"life_event": "time-travel"})
    assert response.status_code == 400
    assert "time-travel" in response.json()["detail"]


def test_bad_paging_is_422(client: Client, catalog: None) -> None:
    assert client.get("/api/v1/procedures", {"limit": 0}).status_code == 422
    response = client.get("/api/v1/procedures", {"limit": "many"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_procedure_detail_api(client: Client, catalog: None) -> None:
    body = client.get("/api/v1/procedures/juminhyo-copy").json()
    assert body["fee_yen"] == 300
    assert body["department"]["name"]
    assert client.get("/api/v1/procedures/no-such-thing").status_code == 404


def test_life_events_api(client: Client, catalog: None) -> None:
    events = client.get("/api/v1/life-events").json()
    moving = next(e for e in events if e["code"] == "moving-in")
    assert moving["questions"] and moving["questions"][0]["choices"]
    assert "tennyu" in moving["procedures"]


def test_guide_api_returns_checklist(client: Client, catalog: None) -> None:
    events = client.get("/api/v1/life-events").json()
    birth = next(e for e in events if e["code"] == "birth")
    answers: dict[str, str] = {}
    for q in birth["questions"]:
        shown = all(answers.get(k) in (v if isinstance(v, list) else [v]) for k, v in q["show_if"].items())
        if shown:
            answers[q["code"]] = q["choices"][0]["value"]
    response = client.post(
        "/api/v1/guide",
        json.dumps({"event": "birth", "answers": answers, "event_date": "2026-11-02"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    shussei = next(i for i in items if i["procedure"]["id"] == "shussei")
    # 出生届: 14 days counting the day of birth → 11/15 (Sun) → next open day 11/16.
    assert shussei["deadline"] == "2026-11-16"


def test_guide_api_errors(client: Client, catalog: None) -> None:
    def post(payload: object) -> tuple[int, dict[str, object]]:
        r = client.post("/api/v1/guide", json.dumps(payload), content_type="application/json")
        return r.status_code, r.json()

    status, body = post({"event": "time-travel", "answers": {}})
    assert status == 400 and body["errors"][0]["field"] == "event"
    status, body = post({"event": "moving-in", "answers": {"no_such_question": "x"}})
    assert status == 400 and any(e["field"] == "answers.no_such_question" for e in body["errors"])
    status, body = post({"event": "moving-in", "answers": {}, "event_date": "not a date"})
    assert status == 422 and body["errors"][0]["field"] == "event_date"
    status, body = post({"answers": {}})
    assert status == 422 and body["errors"][0]["field"] == "event"


def test_openapi_document_is_served(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/procedures", "/api/v1/procedures/{procedure_id}", "/api/v1/life-events", "/api/v1/guide"} <= set(
        schema["paths"]
    )
