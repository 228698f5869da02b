"""The live preview: the draft rendered with the resident pages' own templates, on the
editor and step by step with answers checked by the engine."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.forms.models import FormDefinition
from madoguchi.forms.tests.test_builder_helpers import client_for, fresh, new_draft, op, staff, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(online_forms: None) -> Client:
    return client_for(staff())


@pytest.fixture
def draft(client: Client) -> FormDefinition:
    return new_draft(client)


def test_editor_preview_shows_a_new_field_as_the_resident_sees_it(client: Client, draft: FormDefinition) -> None:
    op(client, draft, "field_add", step=0, type="text", label="勤務先の名称", key="workplace")
    html = client.get(url("editor", draft)).content.decode()
    preview = html[html.index('id="b-preview"') :]
    assert '<label for="f-workplace">勤務先の名称</label>' in preview
    assert 'name="workplace"' in preview


def test_editor_preview_of_another_step_and_its_conditional_fields(client: Client, draft: FormDefinition) -> None:
    html = client.get(url("editor", draft) + "?preview=delivery_step").content.decode()
    preview = html[html.index('id="b-preview"') :]
    assert "受け取り方法" in preview and 'aria-current="step"' in preview
    assert "「受け取り方法」で「窓口で受け取る」を選んだ場合に入力してください" in preview


def test_preview_walks_the_steps_with_the_logic_rules(client: Client, draft: FormDefinition) -> None:
    base = url("preview", draft)
    page = client.get(base).content.decode()
    assert "ステップ 1 / 5" in page and 'name="name.family"' in page
    # required fields are checked by the engine
    response = client.post(base, {"step": "requester"})
    assert response.status_code == 400 and "入力してください" in response.content.decode()
    answers = {
        "step": "requester",
        "name.family": "山田",
        "name.given": "花子",
        "name_kana.family": "やまだ",
        "name_kana.given": "はなこ",
        "birth_date": "1990-04-01",
        "postal_code": "100-0001",
        "address": "1-1",
        "phone": "03-1234-5678",
        "email": "hanako@example.jp",
        "relationship": "proxy",
    }
    response = client.post(base, answers)
    assert response.status_code == 302 and response["Location"] == f"{base}?step=proxy"  # shown by the rule
    page = client.get(f"{base}?step=proxy").content.decode()
    assert "ステップ 2 / 6" in page and "委任状" in page
    # the check page lists what was entered
    page = client.get(f"{base}?step=check").content.decode()
    assert "入力内容の確認" in page and "山田" in page and "ヤマダ" in page
    # start over
    client.post(base, {"_reset": "1"})
    assert "ステップ 1 / 5" in client.get(base).content.decode()


def test_preview_never_keeps_a_mynumber(client: Client, draft: FormDefinition) -> None:
    op(client, draft, "field_add", step=4, type="mynumber", label="個人番号", key="mynumber")
    base = url("preview", draft)
    client.post(base, {"step": "quantity", "copies": "1", "purpose": "school", "mynumber": "123456789018"})
    stored = client.session.get("formbuilder_preview", {})
    assert "123456789018" not in str(stored)


def test_preview_of_a_draft_that_cannot_render_says_so(client: Client, draft: FormDefinition) -> None:
    draft = fresh(draft)
    draft.definition["logic"] = [{"when": {"field": "copies", "gte": "x"}, "show": ["purpose_other"]}]
    draft.definition["steps"][4]["fields"][0]["choices"] = "not a list"
    draft.save()
    editor = client.get(url("editor", draft))
    assert editor.status_code == 200
    assert "choices（選択肢）はリストにしてください" in editor.content.decode()
    response = client.get(url("preview", draft))
    assert response.status_code == 200  # rendered without the broken parts, or a notice
