"""Publishing a draft: every check runs, a broken form is refused with each problem
shown where it is, and a good one becomes the current version while applications
already started keep theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.tests.factories import ResidentFactory, UserFactory
from madoguchi.applications.services import application_start
from madoguchi.core.models import AuditEvent
from madoguchi.forms.builder_checks import publish_problems
from madoguchi.forms.importer import forms_import
from madoguchi.forms.models import FormDefinition, FormStatus
from madoguchi.forms.schema import validate_definition
from madoguchi.forms.selectors import form_get_current
from madoguchi.forms.tests.conftest import load_definition
from madoguchi.forms.tests.test_builder_helpers import (
    KUMIN_FORM,
    KUMIN_NO_FORM,
    client_for,
    fresh,
    new_draft,
    op,
    staff,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(online_forms: None) -> Client:
    return client_for(staff())


def broken_draft(client: Client, change: Callable[[dict[str, Any]], None]) -> FormDefinition:
    """A draft of 住民票の写し changed by ``change`` (as the JSON editor could)."""
    draft = new_draft(client)
    definition = fresh(draft).definition
    change(definition)
    draft.definition = definition
    draft.save()
    return fresh(draft)


def publish(client: Client, draft: FormDefinition) -> Any:
    return client.post(url("publish", draft), {"token": fresh(draft).checksum})


def assert_refused(client: Client, draft: FormDefinition, message: str, anchor: str) -> None:
    current = form_get_current(KUMIN_FORM)
    response = publish(client, draft)
    html = response.content.decode()
    assert response.status_code == 400
    assert "公開できません。次の問題を直してください" in html
    assert message in html, html[html.find("error-summary") : html.find("error-summary") + 1500]
    assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    assert fresh(draft).status == FormStatus.DRAFT
    assert form_get_current(KUMIN_FORM).pk == current.pk
    assert not AuditEvent.objects.filter(action="forms.published").exists()


def fields0(d: dict[str, Any]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = d["steps"][0]["fields"]
    return fields


def test_publishing_makes_the_draft_the_current_version_and_started_applications_keep_theirs(
    client: Client,
) -> None:
    applicant = UserFactory(resident=ResidentFactory())
    started, _created = application_start(applicant=applicant, procedure_code=KUMIN_FORM)
    old = form_get_current(KUMIN_FORM)
    draft = new_draft(client)
    assert op(client, draft, "field_add", step=0, type="text", label="勤務先").status_code == 302
    response = publish(client, draft)
    assert response.status_code == 302 and response["Location"] == reverse("formbuilder:list")
    current = form_get_current(KUMIN_FORM)
    assert current.pk == draft.pk and current.is_published and current.published_at
    assert "kinmusaki" in [f["key"] for f in fields0(current.definition)]
    started.refresh_from_db()
    assert started.form_definition_id == old.pk
    assert fresh(old).definition == load_definition(KUMIN_FORM)  # the old version did not change
    event = AuditEvent.objects.get(action="forms.published")
    assert event.data["version"] == draft.version and event.data["previous_version"] == old.version
    # a new application uses the new version
    other = UserFactory(resident=ResidentFactory())
    assert application_start(applicant=other, procedure_code=KUMIN_FORM)[0].form_definition_id == draft.pk


def test_a_form_built_from_nothing_can_be_published(client: Client) -> None:
    draft = new_draft(client, KUMIN_NO_FORM)
    op(client, draft, "field_add", step=0, type="name", label="氏名", key="name")
    op(client, draft, "field_add", step=0, type="choice", label="届出の理由", key="reason")
    data = {
        "token": fresh(draft).checksum,
        "type": "choice",
        "key": "reason",
        "label": "届出の理由",
        "required": "on",
        "choice_count": "2",
        "choice-0-value": "move",
        "choice-0-label": "引越し",
        "choice-1-value": "other",
        "choice-1-label": "その他",
    }
    assert client.post(url("field", draft, 0, 1), data).status_code == 302
    assert publish(client, draft).status_code == 302
    assert form_get_current(KUMIN_NO_FORM).pk == draft.pk


def test_duplicate_field_key_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[1].update(key="name"))
    assert_refused(client, draft, "キー「name」が2回使われています", "b-field-0-1")


def test_field_key_equal_to_a_step_key_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[1].update(key="proxy"))
    assert_refused(client, draft, "キー「proxy」が2回使われています", "b-field-0-1")


def test_rule_with_a_condition_on_a_missing_field_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: d["logic"][0]["when"].update(field="no_such_field"))
    assert_refused(client, draft, "条件の項目「no_such_field」はこのフォームにありません", "b-rule-0")


def test_rule_showing_a_missing_field_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: d["logic"][0].update(show=["ghost"]))
    assert_refused(client, draft, "対象の「ghost」はこのフォームにありません", "b-rule-0")


def test_rule_requiring_a_step_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: d["logic"][0].update(require=["proxy"]))
    assert_refused(client, draft, "ステップ「proxy」は必須にできません", "b-rule-0")


def test_condition_value_that_is_not_a_choice_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: d["logic"][0]["when"].update({"in": ["dairinin"]}))
    assert_refused(client, draft, "「dairinin」は項目「relationship」の選択肢にありません", "b-rule-0")


def test_comparing_a_number_field_with_text_is_refused(client: Client) -> None:
    draft = broken_draft(
        client, lambda d: d["logic"].append({"when": {"field": "copies", "equals": "5"}, "show": ["purpose_other"]})
    )
    assert_refused(client, draft, "数値・金額の項目と比べる値は数にしてください", "b-rule-5")


def test_condition_answered_after_what_it_controls_is_refused(client: Client) -> None:
    # 受け取り方法 (step 6) would show the 委任状 step (step 2): the resident has passed it already
    draft = broken_draft(
        client, lambda d: d["logic"].append({"when": {"field": "delivery", "in": ["counter"]}, "show": ["proxy"]})
    )
    assert_refused(client, draft, "この条件で表示を変えられません", "b-rule-5")


def test_required_field_hidden_with_no_rule_to_show_it_is_refused(client: Client) -> None:
    def hide(d: dict[str, Any]) -> None:
        fields0(d)[5].update(hidden=True)  # phone, required

    draft = broken_draft(client, hide)
    assert_refused(client, draft, "必須の項目ですが、はじめは表示しない設定で、表示するルールもない", "b-field-0-5")


def test_step_hidden_with_no_rule_to_show_it_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: d["steps"][2].update(hidden=True))
    assert_refused(client, draft, "表示するルールがないため、申請者に表示されることがありません", "b-step-2")


def test_empty_choices_are_refused(client: Client) -> None:
    draft = new_draft(client)
    op(client, draft, "field_add", step=0, type="choice", label="性別", key="sex")
    assert_refused(client, fresh(draft), "選択肢がありません", "b-field-0-8")


def test_unknown_prefill_source_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[5].update(prefill="mynaportal.phone"))
    assert_refused(client, draft, "自動入力の入力元「mynaportal.phone」はありません", "b-field-0-5")


def test_prefill_that_does_not_fit_the_field_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[5].update(prefill="account.email"))
    assert_refused(client, draft, "この種類の項目には入れられません", "b-field-0-5")


def test_step_with_no_fields_is_refused(client: Client) -> None:
    draft = new_draft(client)
    op(client, draft, "step_add", title="空のステップ")
    assert_refused(client, fresh(draft), "このステップには項目がありません", "b-step-7")


def test_group_with_no_sub_fields_is_refused(client: Client) -> None:
    draft = new_draft(client)
    op(client, draft, "field_add", step=0, type="group", label="同行者", key="companions")
    assert_refused(client, fresh(draft), "繰り返しグループに項目がありません", "b-field-0-8")


def test_min_above_max_and_bad_date_bounds_are_refused(client: Client) -> None:
    def change(d: dict[str, Any]) -> None:
        d["steps"][4]["fields"][0].update(min=10, max=1)
        fields0(d)[2].update(min="yesterday")

    draft = broken_draft(client, change)
    assert_refused(client, draft, "最大値が最小値より小さくなっています", "b-field-4-0")
    assert_refused(client, draft, "「yesterday」は日付（2026-04-01）か today±N（d/y）の形ではありません", "b-field-0-2")


def test_address_naming_a_later_or_missing_postal_code_field_is_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[4].update(postal_code_field="phone"))
    assert_refused(client, draft, "この項目より前にある郵便番号の項目ではありません", "b-field-0-4")


def test_a_problem_only_the_schema_finds_is_still_refused(client: Client) -> None:
    draft = broken_draft(client, lambda d: fields0(d)[0].update(max_length=0))
    assert_refused(client, draft, "「最大文字数」の値が正しくありません", "b-field-0-0")
    assert validate_definition(fresh(draft).definition)  # the schema agrees


def test_publish_after_a_newer_version_was_imported_is_refused(client: Client, tmp_path: Any) -> None:
    draft = new_draft(client)
    definition = load_definition(KUMIN_FORM)
    definition["title"] = "取り込みで変わった名前"
    import yaml

    (tmp_path / f"{KUMIN_FORM}.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    forms_import(directory=tmp_path)  # version 3, published, after the draft (version 2)
    response = client.post(url("publish", draft), {"token": fresh(draft).checksum}, follow=True)
    assert "より新しい版が公開されました" in response.content.decode()
    assert fresh(draft).status == FormStatus.DRAFT
    assert form_get_current(KUMIN_FORM).version == 3


def test_publish_problems_are_listed_on_the_editor_before_publishing(client: Client) -> None:
    draft = new_draft(client)
    op(client, draft, "field_add", step=0, type="choice", label="性別", key="sex")
    html = client.get(url("editor", draft)).content.decode()
    assert "公開前の確認" in html and "1件の問題" in html
    assert 'href="#b-field-0-8"' in html


def test_every_data_form_passes_the_builder_checks() -> None:
    import yaml

    from madoguchi.forms.tests.conftest import data_files

    for path in data_files():
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert publish_problems(definition, procedure_code=path.stem) == [], path.name
