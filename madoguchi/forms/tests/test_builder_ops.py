"""Each operation of the form builder, through its page: new version, settings,
steps, fields (with type options, choices, prefill, sub-fields of a group), logic
rules, the JSON editor, deleting a draft; each one audit-logged."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from madoguchi.core.models import AuditEvent
from madoguchi.forms import builder
from madoguchi.forms.builder import FieldLoc
from madoguchi.forms.models import FormDefinition, FormStatus
from madoguchi.forms.selectors import form_get_current
from madoguchi.forms.tests.test_builder_helpers import (
    KUMIN_FORM,
    KUMIN_NO_FORM,
    client_for,
    field_keys,
    fresh,
    new_draft,
    op,
    staff,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(online_forms: None) -> object:
    return client_for(staff())


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_new_version_copies_the_published_definition_into_a_draft(client) -> None:
    current = form_get_current(KUMIN_FORM)
    draft = new_draft(client)
    assert draft.version == current.version + 1 and draft.status == FormStatus.DRAFT
    assert draft.definition == current.definition
    event = audits("forms.draft_created")[-1]
    assert event.data["from_version"] == current.version and event.target_id == str(draft.pk)
    # the published version is still the current one
    assert form_get_current(KUMIN_FORM).pk == current.pk


def test_a_procedure_without_a_form_starts_from_an_empty_form(client) -> None:
    draft = new_draft(client, KUMIN_NO_FORM)
    assert draft.version == 1
    assert draft.definition["procedure"] == KUMIN_NO_FORM
    assert draft.definition["steps"][0]["fields"] == []
    assert audits("forms.draft_created")[-1].data["source"] == "empty"


def test_second_new_version_opens_the_existing_draft(client) -> None:
    draft = new_draft(client)
    response = client.post(reverse("formbuilder:new", args=[KUMIN_FORM]), follow=True)
    assert response.redirect_chain[-1][0] == url("editor", draft)
    assert "編集中の下書き" in response.content.decode()
    assert FormDefinition.objects.filter(procedure__code=KUMIN_FORM, status=FormStatus.DRAFT).count() == 1


def test_settings_are_saved_and_a_missing_title_is_refused_at_the_field(client) -> None:
    draft = new_draft(client)
    assert op(client, draft, "settings", title="新しい名前", description="説明文").status_code == 302
    assert fresh(draft).definition["title"] == "新しい名前"
    assert "title_en" not in fresh(draft).definition  # emptied optional keys are dropped
    before = fresh(draft).checksum
    response = op(client, draft, "settings", title="")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="#b-settings-title"' in html and "フォームの名前を入力してください" in html
    assert fresh(draft).checksum == before
    assert audits("forms.draft_edited")[-1].data["operation"] == "settings"


def test_step_add_rename_move_delete(client) -> None:
    draft = new_draft(client)
    assert op(client, draft, "step_add", title="添付書類").status_code == 302
    steps = fresh(draft).definition["steps"]
    assert steps[-1]["title"] == "添付書類" and steps[-1]["key"] == "tenpushorui" and steps[-1]["fields"] == []
    last = len(steps) - 1
    # rename the "proxy" step: the rule that shows it follows the new key
    assert op(client, draft, "step_update", step=1, title="委任状", key="proxy_step", hidden="on").status_code == 302
    definition = fresh(draft).definition
    assert definition["steps"][1]["key"] == "proxy_step"
    assert definition["logic"][0]["show"] == ["proxy_step"]
    # move up
    assert op(client, draft, "step_move", step=last, direction="up").status_code == 302
    assert fresh(draft).definition["steps"][last - 1]["title"] == "添付書類"
    # a move past the end is refused
    assert op(client, draft, "step_move", step=0, direction="up").status_code == 400
    # delete the proxy step: its rule goes with it
    rules_before = len(fresh(draft).definition["logic"])
    assert op(client, draft, "step_delete", step=1).status_code == 302
    definition = fresh(draft).definition
    assert "proxy_step" not in builder.step_keys(definition)
    assert len(definition["logic"]) == rules_before - 1
    operations = [e.data["operation"] for e in audits("forms.draft_edited")]
    assert operations == ["step_add", "step_update", "step_move", "step_delete"]


def test_step_key_must_be_unique_and_well_formed(client) -> None:
    draft = new_draft(client)
    response = op(client, draft, "step_update", step=1, title="委任状", key="requester")
    assert response.status_code == 400 and "すでに使われています" in response.content.decode()
    response = op(client, draft, "step_update", step=1, title="委任状", key="Proxy-Step")
    assert response.status_code == 400 and "英小文字で始め" in response.content.decode()


def test_field_add_by_type_move_to_step_and_delete(client) -> None:
    draft = new_draft(client)
    assert op(client, draft, "field_add", step=0, type="text", label="ご職業").status_code == 302
    keys = field_keys(draft, 0)
    assert keys[-1] == "goshokugyou"
    added = fresh(draft).definition["steps"][0]["fields"][-1]
    assert added == {"key": "goshokugyou", "type": "text", "label": "ご職業"}
    # defaults that make the type renderable at once
    assert op(client, draft, "field_add", step=0, type="file", label="添付", key="attachment").status_code == 302
    attachment = fresh(draft).definition["steps"][0]["fields"][-1]
    assert attachment["accept"] and attachment["max_bytes"] == 10_000_000
    # up
    n = len(field_keys(draft, 0))
    assert op(client, draft, "field_move", step=0, field=n - 1, direction="up").status_code == 302
    assert field_keys(draft, 0)[-2:] == ["attachment", "goshokugyou"]
    # to another step
    assert op(client, draft, "field_to_step", step=0, field=n - 1, to_step=4).status_code == 302
    assert field_keys(draft, 4)[-1] == "goshokugyou"
    # delete
    assert op(client, draft, "field_delete", step=0, field=n - 2).status_code == 302
    assert "attachment" not in field_keys(draft, 0)


def test_field_add_refuses_an_unknown_type_a_missing_label_and_a_used_key(client) -> None:
    draft = new_draft(client)
    response = op(client, draft, "field_add", step=0, type="hanko", label="")
    html = response.content.decode()
    assert response.status_code == 400
    assert "項目の種類を選んでください" in html and "項目名を入力してください" in html
    assert 'href="#b-field_add-0-label"' in html and 'id="b-field_add-0-label"' in html
    response = op(client, draft, "field_add", step=0, type="text", label="電話", key="phone")
    assert response.status_code == 400 and "すでに使われています" in response.content.decode()


def test_deleting_a_field_removes_the_rules_that_need_it(client) -> None:
    draft = new_draft(client)
    relationship = field_keys(draft, 0).index("relationship")
    assert op(client, draft, "field_delete", step=0, field=relationship).status_code == 302
    for rule in fresh(draft).definition["logic"]:
        assert "relationship" not in builder.condition_fields(rule["when"])


def field_post(draft: FormDefinition, loc: FieldLoc, **values: object) -> dict[str, object]:
    field = builder.get_field(fresh(draft).definition, loc)
    data: dict[str, object] = {"token": fresh(draft).checksum, "op": "save", "type": field["type"]}
    data.update({k: field.get(k, "") for k in ("key", "label", "label_en", "help", "help_en")})
    if field.get("required"):
        data["required"] = "on"
    data.update(values)
    return data


def test_field_page_saves_label_key_required_help_options_and_renames_in_rules(client) -> None:
    draft = new_draft(client)
    loc = FieldLoc(3, 0)  # 記載する事項 (multichoice), the condition of a rule
    data = field_post(
        draft,
        loc,
        label="記載事項",
        key="items",
        help="必要なものを選んでください",
        required="on",
        opt_min_items="1",
        opt_max_items="3",
        choice_count="2",
        **{
            "choice-0-value": "setainushi",
            "choice-0-label": "世帯主",
            "choice-1-value": "mynumber",
            "choice-1-label": "マイナンバー",
        },
    )
    response = client.post(url("field", draft, 3, 0), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = fresh(draft).definition
    field = definition["steps"][3]["fields"][0]
    assert field["key"] == "items" and field["required"] is True and field["help"] == "必要なものを選んでください"
    assert (field["min_items"], field["max_items"]) == (1, 3)
    assert [c["value"] for c in field["choices"]] == ["setainushi", "mynumber"]
    assert any(r["when"].get("field") == "items" for r in definition["logic"])
    assert audits("forms.draft_edited")[-1].data["renamed_from"] == "contents"


def test_field_page_shows_each_bad_option_at_its_input_and_saves_nothing(client) -> None:
    draft = new_draft(client)
    before = fresh(draft).checksum
    data = field_post(
        draft,
        FieldLoc(4, 0),  # 通数 (number)
        key="1copies",
        opt_min="10",
        opt_max="1",
        opt_unit="通",
    )
    response = client.post(url("field", draft, 4, 0), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#b-key"' in html and 'href="#b-opt_max"' in html
    assert "最大値は最小値以上にしてください" in html
    assert fresh(draft).checksum == before


def test_choices_must_have_values_and_labels_and_unique_values(client) -> None:
    draft = new_draft(client)
    data = field_post(
        draft,
        FieldLoc(0, 7),  # 申請する方 (choice)
        choice_count="3",
        **{
            "choice-0-value": "self",
            "choice-0-label": "本人",
            "choice-1-value": "self",
            "choice-1-label": "本人2",
            "choice-2-value": "",
            "choice-2-label": "代理人",
        },
    )
    html = client.post(url("field", draft, 0, 7), data).content.decode()
    assert "値「self」は2回使われています" in html and "選択肢の値を入力してください" in html


def test_prefill_mapping_is_chosen_from_the_documented_keys(client) -> None:
    draft = new_draft(client)
    assert op(client, draft, "field_add", step=0, type="name", label="世帯主の氏名", key="head").status_code == 302
    j = len(field_keys(draft, 0)) - 1
    page = client.get(url("field", draft, 0, j)).content.decode()
    assert 'value="resident.family_name"' in page and 'value="account.email"' not in page
    data = field_post(draft, FieldLoc(0, j), prefill_family="resident.family_name", prefill_given="resident.given_name")
    assert client.post(url("field", draft, 0, j), data).status_code == 302
    assert fresh(draft).definition["steps"][0]["fields"][j]["prefill"] == {
        "family": "resident.family_name",
        "given": "resident.given_name",
    }
    # a key that does not fit the type is refused
    data = field_post(draft, FieldLoc(0, 5), prefill="account.email")  # phone field
    response = client.post(url("field", draft, 0, 5), data)
    assert response.status_code == 400 and "入れられない入力元" in response.content.decode()


def test_changing_the_type_drops_options_of_the_old_type_and_adds_the_new_defaults(client) -> None:
    draft = new_draft(client)
    data = field_post(draft, FieldLoc(4, 0), type="choice")  # 通数: number → choice
    response = client.post(url("field", draft, 4, 0), data)
    assert response.status_code == 302 and response["Location"] == url("field", draft, 4, 0)
    field = fresh(draft).definition["steps"][4]["fields"][0]
    assert field["type"] == "choice" and field["choices"] == [] and "unit" not in field and "min" not in field


def test_group_sub_fields_add_edit_move_delete(client) -> None:
    draft = new_draft(client)
    group_url = url("field", draft, 2, 1)  # 必要な人 (group)
    token = fresh(draft).checksum
    response = client.post(group_url, {"token": token, "op": "sub_add", "type": "text", "label": "続柄"})
    assert response.status_code == 302
    subs = fresh(draft).definition["steps"][2]["fields"][1]["fields"]
    assert subs[-1]["key"] == "zokugara"
    # a group cannot hold a group
    response = client.post(group_url, {"token": fresh(draft).checksum, "op": "sub_add", "type": "group", "label": "孫"})
    assert response.status_code == 400
    # edit the sub-field
    sub_loc = FieldLoc(2, 1, len(subs) - 1)
    data = field_post(draft, sub_loc, label="続柄（世帯主との関係）", required="on", opt_max_length="20")
    response = client.post(url("subfield", draft, 2, 1, len(subs) - 1), data)
    assert response.status_code == 302
    sub = fresh(draft).definition["steps"][2]["fields"][1]["fields"][-1]
    assert sub["label"] == "続柄（世帯主との関係）" and sub["max_length"] == 20 and sub["required"] is True
    # move up and delete
    token = fresh(draft).checksum
    client.post(group_url, {"token": token, "op": "sub_move", "sub": len(subs) - 1, "direction": "up"})
    assert fresh(draft).definition["steps"][2]["fields"][1]["fields"][-2]["key"] == "zokugara"
    client.post(group_url, {"token": fresh(draft).checksum, "op": "sub_delete", "sub": len(subs) - 2})
    assert "zokugara" not in [s["key"] for s in fresh(draft).definition["steps"][2]["fields"][1]["fields"]]


def test_rule_add_edit_and_delete_with_selects(client) -> None:
    draft = new_draft(client)
    page = client.get(url("rule_new", draft) + "?field=delivery").content.decode()
    assert 'name="values" value="mail"' in page and 'name="targets" value="pickup_office"' in page
    # only what is answered after the condition can be controlled by it
    assert 'name="targets" value="relationship"' not in page and 'name="targets" value="proxy"' not in page
    token = fresh(draft).checksum
    response = client.post(
        url("rule_new", draft),
        {
            "token": token,
            "field": "delivery",
            "op": "not_equals",
            "values": ["mail"],
            "action": "hide",
            "targets": ["pickup_office"],
        },
    )
    assert response.status_code == 302
    rule = fresh(draft).definition["logic"][-1]
    assert rule == {"when": {"not": {"field": "delivery", "equals": "mail"}}, "hide": ["pickup_office"]}
    index = len(fresh(draft).definition["logic"]) - 1
    # edit it: shown as the simple form again
    page = client.get(url("rule", draft, index)).content.decode()
    assert 'value="not_equals" selected' in page and 'value="hide" checked' in page
    response = client.post(
        url("rule", draft, index),
        {
            "token": fresh(draft).checksum,
            "field": "copies",
            "op": "gte",
            "value": "5",
            "action": "show_require",
            "targets": ["purpose_other"],
        },
    )
    assert response.status_code == 302
    assert fresh(draft).definition["logic"][index] == {
        "when": {"field": "copies", "gte": 5},
        "show": ["purpose_other"],
        "require": ["purpose_other"],
    }
    # delete
    assert op(client, draft, "rule_delete", rule=index).status_code == 302
    assert len(fresh(draft).definition["logic"]) == index


def test_rule_editor_refuses_bad_input_at_each_control(client) -> None:
    draft = new_draft(client)
    before = fresh(draft).checksum
    response = client.post(
        url("rule_new", draft),
        {
            "token": before,
            "field": "delivery",
            "op": "equals",
            "values": ["mail", "counter"],
            "action": "require",
            "targets": ["proxy"],
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "選択肢を1つだけ選んでください" in html and "必須にできるのは項目だけです" in html
    response = client.post(
        url("rule_new", draft),
        {"token": before, "field": "copies", "op": "gte", "value": "many", "action": "show", "targets": ["copies"]},
    )
    html = response.content.decode()
    assert "半角の整数で入力してください" in html and "条件にした項目そのものは選べません" in html
    assert fresh(draft).checksum == before


def test_json_editor_replaces_the_definition_and_refuses_bad_json_with_its_line(client) -> None:
    draft = new_draft(client)
    definition = fresh(draft).definition
    definition["title"] = "JSONで直した名前"
    response = client.post(
        url("json", draft), {"token": fresh(draft).checksum, "definition": json.dumps(definition, ensure_ascii=False)}
    )
    assert response.status_code == 302
    assert fresh(draft).definition["title"] == "JSONで直した名前"
    assert audits("forms.draft_edited")[-1].data["operation"] == "json_replace"
    before = fresh(draft).checksum
    response = client.post(url("json", draft), {"token": before, "definition": '{\n  "title": "x",\n  oops\n}'})
    assert response.status_code == 400 and "3行目" in response.content.decode()
    response = client.post(url("json", draft), {"token": before, "definition": "[1, 2]"})
    assert response.status_code == 400 and "JSON のオブジェクト" in response.content.decode()
    response = client.post(url("json", draft), {"token": before, "definition": '{"title": "x", "steps": [{"key": 1}]}'})
    assert response.status_code == 400 and "エディターで表示できない" in response.content.decode()
    assert fresh(draft).checksum == before


def test_published_version_cannot_be_edited(client) -> None:
    current = form_get_current(KUMIN_FORM)
    response = client.post(
        url("edit", current), {"token": current.checksum, "op": "settings", "title": "x"}, follow=True
    )
    assert "公開済みの版は変更できません" in response.content.decode()
    assert fresh(current).definition["title"] != "x"
    assert client.post(url("json", current), {"token": current.checksum, "definition": "{}"}).status_code == 404


def test_delete_a_draft_after_confirmation(client) -> None:
    draft = new_draft(client)
    assert client.get(url("delete", draft)).status_code == 200
    response = client.post(url("delete", draft), {"token": fresh(draft).checksum})
    assert response.status_code == 302
    assert not FormDefinition.objects.filter(pk=draft.pk).exists()
    assert audits("forms.draft_deleted")[-1].data["version"] == draft.version
