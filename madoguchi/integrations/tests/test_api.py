"""The case API for core systems: API keys, department scope, denials, マイナンバー."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_transition
from madoguchi.core.models import AuditEvent, Department, User
from madoguchi.integrations.models import ApiKey
from madoguchi.integrations.selectors import hash_key
from madoguchi.integrations.services import api_key_create, api_key_revoke

from .conftest import MYNUMBER, staff, submit

URL = "/api/v1/cases"


def make_key(*departments: str, mynumber: bool = False) -> tuple[ApiKey, str]:
    return api_key_create(
        actor=staff("kosodate-kacho"),
        name="基幹系",
        departments=list(Department.objects.filter(code__in=departments)),
        can_view_mynumber=mynumber,
    )


def get(client: Client, path: str, key: str | None, *, header: str = "bearer", **params: Any) -> Any:
    headers = {}
    if key is not None:
        headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    return client.get(path, params, headers=headers)


@pytest.fixture
def cases(hanako: User) -> dict[str, Application]:
    return {"kosodate": submit(hanako, "jidoteate"), "kumin": submit(hanako, "juminhyo-copy")}


def test_a_key_lists_only_its_departments_cases(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate")
    for header in ("bearer", "x-api-key"):
        response = get(client, URL, raw, header=header)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        assert [c["reference_number"] for c in body["items"]] == [cases["kosodate"].reference_number]


def test_a_case_of_another_department_is_not_found(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate")
    assert get(client, f"{URL}/{cases['kumin'].reference_number}", raw).status_code == 404
    assert get(client, f"{URL}/2099-999999", raw).status_code == 404
    _other, kumin = make_key("kumin")
    assert get(client, f"{URL}/{cases['kumin'].reference_number}", kumin).status_code == 200
    assert get(client, f"{URL}/{cases['kosodate'].reference_number}", kumin).status_code == 404


def test_a_key_for_two_departments_sees_both(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate", "kumin")
    assert get(client, URL, raw).json()["count"] == 2


def test_drafts_are_not_cases(client: Client, hanako: User) -> None:
    from madoguchi.applications.services import application_start

    application_start(applicant=hanako, procedure_code="jidoteate")
    _key, raw = make_key("kosodate")
    assert get(client, URL, raw).json()["count"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer mdg_00000000_wrong"},
        {"Authorization": "Bearer not-a-key"},
        {"X-API-Key": "mdg_x_y"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_a_missing_or_wrong_key_is_refused(client: Client, cases: dict[str, Application], headers: Any) -> None:
    make_key("kosodate")
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert client.get(f"{URL}/{cases['kosodate'].reference_number}", headers=headers).status_code == 401


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate")
    wrong = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert get(client, URL, wrong).status_code == 401


def test_a_revoked_key_is_refused(client: Client, cases: dict[str, Application]) -> None:
    key, raw = make_key("kosodate")
    assert get(client, URL, raw).status_code == 200
    api_key_revoke(actor=staff("kosodate-kacho"), key=key)
    assert get(client, URL, raw).status_code == 401
    assert get(client, f"{URL}/{cases['kosodate'].reference_number}", raw).status_code == 401


def test_a_logged_in_staff_session_is_not_a_key(client: Client, cases: dict[str, Application]) -> None:
    client.force_login(staff("kosodate-kacho"))
    assert client.get(URL).status_code == 401


def test_only_a_hash_of_the_key_is_stored(cases: dict[str, Application]) -> None:
    key, raw = make_key("kosodate")
    key.refresh_from_db()
    assert raw.startswith(f"mdg_{key.prefix}_")
    assert key.secret_hash == hash_key(raw) and raw not in key.secret_hash
    stored = ApiKey.objects.filter(pk=key.pk).values()[0]
    assert all(raw not in str(value) for value in stored.values())


def test_the_case_has_applicant_answers_and_form_version(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate")
    application = cases["kosodate"]
    body = get(client, f"{URL}/{application.reference_number}", raw).json()
    assert body["reference_number"] == application.reference_number
    assert body["procedure"] == "jidoteate" and body["department"] == "kosodate"
    assert body["status"] == "submitted" and body["channel"] == "online"
    assert body["form_version"] == application.form_definition.version
    assert body["submitted_at"]
    assert body["applicant"] == {
        "name": {"family": "山田", "given": "花子"},
        "name_kana": {"family": "ヤマダ", "given": "ハナコ"},
        "birth_date": "1988-04-12",
        "postal_code": "1000001",
        "address": "東京都デモ区中央一丁目1番1号",
    }
    assert body["answers"]["insurance"] == "kokuho"
    assert body["answers"]["children"][1]["name"] == {"family": "山田", "given": "次郎"}
    assert body["answers"]["children"][1]["birth_date"] == "2023-01-10"
    labels = {row["label"] for row in body["answer_rows"]}
    assert "請求者のマイナンバー（個人番号）" in labels


def test_mynumber_is_masked_unless_the_key_may_view_it(client: Client, cases: dict[str, Application]) -> None:
    number = cases["kosodate"].reference_number
    _masked, raw = make_key("kosodate")
    body = get(client, f"{URL}/{number}", raw).json()
    assert body["answers"]["mynumber"] == "********" + MYNUMBER[-4:]
    assert MYNUMBER not in str(body)
    rows = {row["path"]: row["value"] for row in body["answer_rows"]}
    assert rows["mynumber"] == "********" + MYNUMBER[-4:]
    listed = get(client, URL, raw).json()["items"][0]
    assert listed["answers"]["mynumber"] == "********" + MYNUMBER[-4:]

    _full, full = make_key("kosodate", mynumber=True)
    body = get(client, f"{URL}/{number}", full).json()
    assert body["answers"]["mynumber"] == MYNUMBER
    assert {row["path"]: row["value"] for row in body["answer_rows"]}["mynumber"] == MYNUMBER


def test_every_read_is_audited_with_the_key_and_no_actor(client: Client, cases: dict[str, Application]) -> None:
    key, raw = make_key("kosodate")
    number = cases["kosodate"].reference_number
    get(client, f"{URL}/{number}", raw)
    get(client, URL, raw)
    events = list(AuditEvent.objects.filter(action="integrations.api_read").order_by("id"))
    assert len(events) == 2
    assert all(e.actor_id is None and e.data["api_key_id"] == key.pk for e in events)
    assert events[0].target_id == str(cases["kosodate"].pk) and events[0].data["reference_numbers"] == [number]
    assert events[1].data["endpoint"] == "cases.list" and events[1].data["reference_numbers"] == [number]
    assert events[0].data["mynumber_shown"] is False
    get(client, f"{URL}/{cases['kumin'].reference_number}", raw)
    assert AuditEvent.objects.filter(action="integrations.api_read").count() == 2


def test_use_of_a_key_is_noted(client: Client, cases: dict[str, Application]) -> None:
    key, raw = make_key("kosodate")
    assert key.last_used_at is None
    get(client, URL, raw)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_list_filters_and_paging(client: Client, hanako: User, cases: dict[str, Application]) -> None:
    second = submit(hanako, "jidoteate")
    application_transition(application=second, target="in_review", actor=staff("kosodate-tanto"))
    _key, raw = make_key("kosodate", "kumin")
    assert get(client, URL, raw, status="in_review").json()["count"] == 1
    assert get(client, URL, raw, procedure="juminhyo-copy").json()["count"] == 1
    page = get(client, URL, raw, limit=1, offset=1).json()
    assert page["count"] == 3 and len(page["items"]) == 1 and page["offset"] == 1
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert get(client, URL, raw, since=future).json()["count"] == 0
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    items = get(client, URL, raw, since=past).json()["items"]
    assert items[-1]["reference_number"] == second.reference_number  # the latest change comes last


def test_bad_filters_are_refused_with_field_errors(client: Client, cases: dict[str, Application]) -> None:
    _key, raw = make_key("kosodate")
    response = get(client, URL, raw, status="draft")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    assert get(client, URL, raw, limit=1000).status_code == 422
    assert get(client, URL, raw, since="yesterday").status_code == 422
