"""補正 (correction request), the applications side: staff mark answers with a
message, the resident changes only those answers and resubmits; staff see the diff."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.applications import machine
from madoguchi.applications.models import Application, Correction, StatusChange
from madoguchi.applications.selectors import correction_diff, correction_list, correction_open
from madoguchi.applications.services import (
    InvalidCorrection,
    NotEditable,
    application_answers,
    application_request_correction,
    application_resubmit_correction,
    application_transition,
    raw_answers,
)
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage


def _request(application: Application, staff: User, **items: str) -> Correction:
    return application_request_correction(
        application=application,
        items=items or {"phone": "日中につながる番号を入力してください。"},
        note="電話番号を確認させてください。",
        actor=staff,
    )


def _state(application: Application) -> tuple[Any, ...]:
    application.refresh_from_db()
    return (
        application.status,
        application.data,
        Correction.objects.count(),
        StatusChange.objects.filter(application=application).count(),
        OutboxMessage.objects.count(),
    )


# -- requesting ------------------------------------------------------------------------
def test_request_moves_to_correction_requested_and_notifies_the_resident(
    submitted: Application, staff: User, hanako: User
) -> None:
    mails_before = OutboxMessage.objects.count()
    correction = _request(submitted, staff)
    submitted.refresh_from_db()
    assert submitted.status == "correction_requested"
    assert correction.requested_by == staff and correction.is_open
    assert correction.items == [{"path": "phone", "message": "日中につながる番号を入力してください。"}]
    assert correction.before == {"phone": "0312345678"}
    change = StatusChange.objects.filter(application=submitted).last()
    assert change is not None and change.to_status == "correction_requested"
    assert change.note == "電話番号を確認させてください。" and change.actor == staff
    new = OutboxMessage.objects.order_by("pk")[mails_before:]
    assert sorted(m.channel for m in new) == ["email", "inbox"]
    link = f"/applications/{submitted.public_id}/correction/"
    assert all(m.user == hanako and m.link_url == link for m in new)
    email = next(m for m in new if m.channel == "email")
    assert "補正" in email.subject and submitted.reference_number in email.subject
    assert "日中の連絡先電話番号: 日中につながる番号を入力してください。" in email.body_text
    assert AuditEvent.objects.filter(action="application.transition").exists()


def test_request_also_works_from_in_review(submitted: Application, staff: User) -> None:
    application_transition(application=submitted, target="in_review", actor=staff)
    _request(submitted, staff, name="氏名の漢字を確認してください。")
    submitted.refresh_from_db()
    assert submitted.status == "correction_requested"


@pytest.mark.parametrize(
    "items",
    [
        {},
        {"no_such_field": "x"},
        {"name.middle": "x"},
        {"persons.0.name": "x"},  # scope is "all": no persons were given
        {"declaration": "x"},
        {"principal_name": "x"},  # on the proxy page, which this application does not show
        {"phone": "   "},
    ],
)
def test_request_refuses_unknown_paths_empty_lists_and_empty_messages(
    submitted: Application, staff: User, items: dict[str, str]
) -> None:
    before = _state(submitted)
    with pytest.raises(InvalidCorrection) as exc:
        application_request_correction(application=submitted, items=items, note="", actor=staff)
    assert exc.value.errors
    assert _state(submitted) == before


def test_request_refuses_statuses_other_than_submitted_and_in_review(
    submitted: Application, staff: User, hanako: User
) -> None:
    _request(submitted, staff)
    before = _state(submitted)
    with pytest.raises(machine.IllegalTransition):
        _request(submitted, staff)  # already waiting for a correction
    assert _state(submitted) == before
    application_transition(application=submitted, target="withdrawn", actor=hanako)
    with pytest.raises(machine.IllegalTransition):
        _request(submitted, staff)


def test_paths_inside_fields_and_group_items_are_accepted(submitted: Application, staff: User) -> None:
    correction = _request(submitted, staff, **{"name.family": "旧字体で入力してください。", "email": "確認"})
    assert correction.field_keys == ["name", "email"]


# -- resubmitting ----------------------------------------------------------------------
def test_resubmit_changes_only_the_marked_fields_and_goes_back_to_review(
    submitted: Application, staff: User, hanako: User
) -> None:
    correction = _request(submitted, staff)
    forged = {**raw_answers(submitted), "phone": "090-1111-2222", "name": {"family": "偽", "given": "名"}, "copies": 9}
    application, errors = application_resubmit_correction(application=submitted, raw=forged, actor=hanako)
    assert errors == {}
    assert application.status == "in_review"
    answers = application_answers(application)
    assert answers["phone"] == "09011112222"
    assert answers["name"] == {"family": "山田", "given": "花子"} and answers["copies"] == 1
    correction.refresh_from_db()
    assert correction.resolved_at is not None
    assert correction.before == {"phone": "0312345678"} and correction.after == {"phone": "09011112222"}
    assert correction_open(application) is None
    rows = correction_diff(correction)
    assert [(r.label, r.before, r.after, r.changed) for r in rows] == [
        ("日中の連絡先電話番号", "03-1234-5678", "090-1111-2222", True)
    ]
    last = StatusChange.objects.filter(application=application).last()
    assert last is not None and last.from_status == "correction_requested" and last.to_status == "in_review"
    assert last.actor == hanako


def test_invalid_resubmission_saves_nothing(submitted: Application, staff: User, hanako: User) -> None:
    correction = _request(submitted, staff)
    before = _state(submitted)
    _application, errors = application_resubmit_correction(application=submitted, raw={"phone": "電話"}, actor=hanako)
    assert "phone" in errors
    assert _state(submitted) == before
    correction.refresh_from_db()
    assert correction.is_open and correction.after == {}


def test_resubmit_without_an_open_correction_is_refused(submitted: Application, hanako: User) -> None:
    with pytest.raises(NotEditable):
        application_resubmit_correction(application=submitted, raw={"phone": "090-1111-2222"}, actor=hanako)


def test_a_marked_choice_makes_the_fields_it_shows_editable(submitted: Application, staff: User, hanako: User) -> None:
    correction = _request(submitted, staff, scope="一部の人の写しが必要ではありませんか。")
    from madoguchi.applications.services import correction_editable_keys

    assert correction_editable_keys(submitted, correction) == ["scope", "persons"]
    _application, errors = application_resubmit_correction(application=submitted, raw={"scope": "some"}, actor=hanako)
    assert "persons" in errors  # now required, and the resident can give it
    person = {"name": {"family": "山田", "given": "花子"}, "name_kana": {"family": "ヤマダ", "given": "ハナコ"}}
    application, errors = application_resubmit_correction(
        application=submitted,
        raw={"scope": "some", "persons": [{**person, "birth_date": "1988-04-12"}]},
        actor=hanako,
    )
    assert errors == {}
    assert application_answers(application)["scope"] == "some"
    correction.refresh_from_db()
    assert set(correction.after) == {"scope", "persons"}
    rows = {r.label: (r.before, r.after) for r in correction_diff(correction)}
    assert rows["必要な範囲"] == ("世帯全員", "世帯の一部の人")
    assert rows["必要な人 1: 氏名"] == ("", "山田　花子")


def test_correction_list_gives_every_request_newest_first(submitted: Application, staff: User, hanako: User) -> None:
    first = _request(submitted, staff)
    application_resubmit_correction(application=submitted, raw={"phone": "090-1111-2222"}, actor=hanako)
    second = _request(submitted, staff, email="確認させてください。")
    assert correction_list(application=submitted) == [second, first]


# -- the resident's pages --------------------------------------------------------------
def test_detail_page_shows_the_request_with_a_link_to_the_form(
    submitted: Application, staff: User, hanako_client: Client
) -> None:
    _request(submitted, staff)
    html = hanako_client.get(f"/applications/{submitted.public_id}/").content.decode()
    assert "申請内容の補正（修正）をお願いします" in html
    assert "電話番号を確認させてください。" in html and "日中につながる番号を入力してください。" in html
    assert f'href="/applications/{submitted.public_id}/correction/"' in html


def test_correction_form_has_only_the_marked_fields_as_inputs(
    submitted: Application, staff: User, hanako_client: Client
) -> None:
    _request(submitted, staff)
    page = hanako_client.get(f"/applications/{submitted.public_id}/correction/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="phone"' in html and 'value="0312345678"' in html
    assert "日中につながる番号を入力してください。" in html  # the message at the field
    assert 'name="name.family"' not in html and 'name="copies"' not in html
    assert "そのほかの申請内容（変更できません）" in html and "山田\u3000花子" in html


def test_forged_post_cannot_change_unmarked_answers(submitted: Application, staff: User, hanako_client: Client) -> None:
    _request(submitted, staff)
    answer = hanako_client.post(
        f"/applications/{submitted.public_id}/correction/",
        {"phone": "090-3333-4444", "name.family": "偽名", "name.given": "太郎", "copies": "9", "email": "x@example.jp"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"/applications/{submitted.public_id}/"
    submitted.refresh_from_db()
    answers = application_answers(submitted)
    assert answers["phone"] == "09033334444"
    assert answers["name"] == {"family": "山田", "given": "花子"}
    assert answers["copies"] == 1 and answers["email"] == "hanako@example.jp"
    assert submitted.status == "in_review"


def test_invalid_correction_shows_errors_and_saves_nothing(
    submitted: Application, staff: User, hanako_client: Client
) -> None:
    _request(submitted, staff)
    answer = hanako_client.post(f"/applications/{submitted.public_id}/correction/", {"phone": "abc"})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert 'class="error-summary"' in html and 'href="#f-phone"' in html
    assert 'aria-invalid="true"' in html
    submitted.refresh_from_db()
    assert submitted.status == "correction_requested"
    assert application_answers(submitted)["phone"] == "0312345678"


def test_other_residents_get_404_and_visitors_the_login_page(submitted: Application, staff: User, ichiro: User) -> None:
    _request(submitted, staff)
    other = Client()
    other.force_login(ichiro)
    url = f"/applications/{submitted.public_id}/correction/"
    assert other.get(url).status_code == 404
    assert other.post(url, {"phone": "090-3333-4444"}).status_code == 404
    assert other.get(f"/applications/{submitted.public_id}/").status_code == 404
    assert Client().get(url).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "correction_requested"
    assert application_answers(submitted)["phone"] == "0312345678"


def test_correction_page_without_an_open_request_goes_to_the_application(
    submitted: Application, hanako_client: Client
) -> None:
    answer = hanako_client.get(f"/applications/{submitted.public_id}/correction/")
    assert answer.status_code == 302 and answer["Location"] == f"/applications/{submitted.public_id}/"


def test_refusal_names_the_field_for_staff(submitted: Application, staff: User) -> None:
    with pytest.raises(InvalidCorrection) as exc:
        application_request_correction(application=submitted, items={"phone": ""}, note="", actor=staff)
    assert exc.value.errors == {"phone": "「日中の連絡先電話番号」について、補正を求める内容を入力してください。"}
    assert isinstance(exc.value, LookupError)  # what the staff case view catches
