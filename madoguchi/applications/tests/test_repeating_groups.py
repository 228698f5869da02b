"""Repeating groups without JavaScript (the GOV.UK add-another pattern): 「もう1件追加」
/「もう1人追加」 and 「削除」 are submit buttons that show the page again with one row
more or less, without error messages for the empty row, within min and max items."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_answers, application_save_step, application_start
from madoguchi.core.models import User

APPLICANT = {
    "name.family": "山田",
    "name.given": "花子",
    "name_kana.family": "ヤマダ",
    "name_kana.given": "ハナコ",
    "birth_date": "1988-04-12",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央一丁目1番1号",
    "phone": "03-1234-5678",
    "email": "hanako@example.jp",
}


def _row(index: int, description: str = "3人掛けソファ") -> dict[str, str]:
    return {
        f"items.{index}.category": "sofa",
        f"items.{index}.description": description,
        f"items.{index}.quantity": "1",
    }


@pytest.fixture
def gomi(hanako: User) -> Application:
    application, _created = application_start(applicant=hanako, procedure_code="sodai-gomi")
    application, errors = application_save_step(application=application, step_key="applicant", raw=APPLICANT)
    assert errors == {}
    return application


def _url(application: Application) -> str:
    return f"/applications/{application.public_id}/step/items_step/"


def _rows(html: str) -> int:
    return len(re.findall(r'<fieldset class="group-item"', html))


def test_page_starts_with_the_minimum_rows_and_an_add_button(gomi: Application, hanako_client: Client) -> None:
    html = hanako_client.get(_url(gomi)).content.decode()
    assert _rows(html) == 1
    assert 'name="_group_add" value="items"' in html and "もう1件追加" in html
    assert 'name="_group_remove"' not in html  # one row is the minimum


def test_add_shows_one_more_row_keeping_the_answers_and_saves_nothing(gomi: Application, hanako_client: Client) -> None:
    answer = hanako_client.post(_url(gomi), {**_row(0, "ベッド（シングル）"), "_group_add": "items"})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert _rows(html) == 2
    assert 'value="ベッド（シングル）"' in html
    assert "error-summary" not in html and "error-message" not in html
    assert 'name="_group_remove" value="items.0"' in html and 'name="_group_remove" value="items.1"' in html
    gomi.refresh_from_db()
    assert "items" not in application_answers(gomi) and "items_step" not in gomi.completed_steps


def test_remove_takes_out_that_row(gomi: Application, hanako_client: Client) -> None:
    data = {**_row(0, "机"), **_row(1, "いす"), **_row(2, "棚"), "_group_remove": "items.1"}
    html = hanako_client.post(_url(gomi), data).content.decode()
    assert _rows(html) == 2
    assert 'value="机"' in html and 'value="棚"' in html and 'value="いす"' not in html
    assert 'id="f-items-1-description"' in html and 'value="棚"' in html  # renumbered
    assert "error-summary" not in html


def test_the_last_row_above_the_minimum_cannot_be_removed(gomi: Application, hanako_client: Client) -> None:
    html = hanako_client.post(_url(gomi), {**_row(0, "机"), "_group_remove": "items.0"}).content.decode()
    assert _rows(html) == 1 and 'value="机"' in html


def test_no_more_rows_than_max_items(gomi: Application, hanako_client: Client) -> None:
    data: dict[str, str] = {}
    for index in range(10):
        data.update(_row(index, f"品物{index}"))
    html = hanako_client.post(_url(gomi), {**data, "_group_add": "items"}).content.decode()
    assert _rows(html) == 10
    assert 'name="_group_add"' not in html and "10件まで入力できます。" in html


def test_next_with_an_added_empty_row_saves_without_errors(gomi: Application, hanako_client: Client) -> None:
    blank = {"items.1.category": "", "items.1.description": "", "items.1.quantity": ""}
    answer = hanako_client.post(_url(gomi), {**_row(0), **blank})
    assert answer.status_code == 302
    gomi.refresh_from_db()
    assert len(application_answers(gomi)["items"]) == 1


def test_errors_keep_every_row_that_was_typed(gomi: Application, hanako_client: Client) -> None:
    bad = {"items.1.category": "bed", "items.1.description": "", "items.1.quantity": "1"}
    answer = hanako_client.post(_url(gomi), {**_row(0, "ソファ"), **bad})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert _rows(html) == 2 and 'value="ソファ"' in html
    assert 'href="#f-items-1-description"' in html


def test_a_group_of_people_offers_one_more_person(hanako: User, hanako_client: Client) -> None:
    application, _created = application_start(applicant=hanako, procedure_code="kokuho-kanyu")
    definition = application.form_definition.definition
    step = next(s for s in definition["steps"] if any(f["key"] == "members" for f in s["fields"]))
    application.completed_steps = [s["key"] for s in definition["steps"]]
    application.save(update_fields=["completed_steps"])
    html = hanako_client.get(f"/applications/{application.public_id}/step/{step['key']}/").content.decode()
    assert "もう1人追加" in html
    prefilled = len(application_answers(application).get("members") or [])
    assert _rows(html) == max(prefilled, 1)  # no extra blank row any more
