"""Two staff on one draft: whoever saves second, from a page made before the first
save, is refused with a clear message and nothing of theirs is applied."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.forms import builder
from madoguchi.forms.models import FormDefinition, FormStatus
from madoguchi.forms.services import StaleDraft, form_draft_change
from madoguchi.forms.tests.test_builder_helpers import client_for, fresh, new_draft, staff, url

pytestmark = pytest.mark.django_db

STALE = "別の職員が更新しました"


@pytest.fixture
def two(online_forms: None) -> tuple[Client, Client, FormDefinition, str]:
    """Two 係長 of 区民課 with the same draft open (the token both pages carry)."""
    first, second = client_for(staff()), client_for(staff())
    draft = new_draft(first)
    return first, second, draft, fresh(draft).checksum


def test_stale_editor_operation_is_refused_and_nothing_applied(two: tuple[Client, Client, FormDefinition, str]) -> None:
    first, second, draft, token = two
    assert first.post(url("edit", draft), {"token": token, "op": "step_add", "title": "一人目"}).status_code == 302
    saved = fresh(draft).definition
    response = second.post(url("edit", draft), {"token": token, "op": "step_delete", "step": 0}, follow=True)
    assert STALE in response.content.decode()
    assert fresh(draft).definition == saved
    assert AuditEvent.objects.filter(action="forms.draft_edited").count() == 1


def test_stale_field_save_is_refused_with_409_keeping_what_was_typed(
    two: tuple[Client, Client, FormDefinition, str],
) -> None:
    first, second, draft, token = two
    first.post(url("edit", draft), {"token": token, "op": "settings", "title": "一人目の名前"})
    saved = fresh(draft).definition
    data = {"token": token, "type": "name", "key": "name", "label": "二人目が直した氏名"}
    response = second.post(url("field", draft, 0, 0), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert STALE in html and 'value="二人目が直した氏名"' in html
    assert fresh(draft).definition == saved
    # the page shown again still carries the old token: sending it again is refused again
    assert f'name="token" value="{token}"' in html
    assert second.post(url("field", draft, 0, 0), data).status_code == 409
    assert fresh(draft).definition == saved


def test_a_page_shown_again_for_bad_input_keeps_its_token(two: tuple[Client, Client, FormDefinition, str]) -> None:
    first, second, draft, token = two
    html = second.post(url("field", draft, 0, 0), {"token": token, "type": "name", "key": "", "label": "x"})
    first.post(url("edit", draft), {"token": token, "op": "settings", "title": "一人目の名前"})
    assert f'name="token" value="{token}"' in html.content.decode()
    response = second.post(url("field", draft, 0, 0), {"token": token, "type": "name", "key": "name", "label": "x"})
    assert response.status_code == 409


def test_stale_rule_save_and_json_save_are_refused(two: tuple[Client, Client, FormDefinition, str]) -> None:
    first, second, draft, token = two
    first.post(url("edit", draft), {"token": token, "op": "rule_delete", "rule": 0})
    saved = fresh(draft).definition
    response = second.post(
        url("rule_new", draft),
        {"token": token, "field": "scope", "op": "in", "values": ["all"], "action": "hide", "targets": ["persons"]},
    )
    assert response.status_code == 409 and STALE in response.content.decode()
    response = second.post(url("json", draft), {"token": token, "definition": json.dumps(saved)})
    assert response.status_code == 409 and STALE in response.content.decode()
    assert fresh(draft).definition == saved


def test_stale_publish_and_delete_are_refused(two: tuple[Client, Client, FormDefinition, str]) -> None:
    first, second, draft, token = two
    first.post(url("edit", draft), {"token": token, "op": "settings", "title": "直した"})
    response = second.post(url("publish", draft), {"token": token}, follow=True)
    assert STALE in response.content.decode()
    assert fresh(draft).status == FormStatus.DRAFT
    response = second.post(url("delete", draft), {"token": token}, follow=True)
    assert STALE in response.content.decode()
    assert FormDefinition.objects.filter(pk=draft.pk).exists()


def test_the_service_refuses_a_stale_checksum_and_an_exception_inside_an_operation_saves_nothing(
    two: tuple[Client, Client, FormDefinition, str],
) -> None:
    _first, _second, draft, token = two
    actor = staff()
    with pytest.raises(StaleDraft):
        form_draft_change(form=draft, actor=actor, expected_checksum="0" * 64, change=lambda d: None, operation="x")

    def half_then_fail(d: dict[str, object]) -> None:
        builder.op_step_delete(d, 0)  # type: ignore[arg-type]
        raise builder.BuilderInputError({"x": "bad"})

    with pytest.raises(builder.BuilderInputError):
        form_draft_change(form=draft, actor=actor, expected_checksum=token, change=half_then_fail, operation="x")
    assert fresh(draft).checksum == token
