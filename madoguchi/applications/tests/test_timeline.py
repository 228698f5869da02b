"""The application's page: status timeline (和暦 date and time, status, note) and the
resident's withdrawal (取下げ) with a confirmation page."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.applications.models import Application, StatusChange
from madoguchi.applications.services import application_transition
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.portal.templatetags.portal import local_wareki


def _url(application: Application, rest: str = "") -> str:
    return f"/applications/{application.public_id}/{rest}"


def test_page_shows_every_status_change_with_date_label_and_note(
    submitted: Application, staff: User, hanako_client: Client
) -> None:
    application_transition(application=submitted, target="in_review", actor=staff, note="担当者が確認しています。")
    html = hanako_client.get(_url(submitted)).content.decode()
    changes = list(StatusChange.objects.filter(application=submitted).order_by("pk"))
    assert [c.to_status for c in changes] == ["submitted", "in_review"]
    for change in changes:
        assert local_wareki(change.created_at) in html
    assert "令和" in html
    assert html.index("受付済み", html.index("これまでの経過")) < html.index("審査中", html.index("これまでの経過"))
    assert "担当者が確認しています。" in html
    assert submitted.reference_number in html and "受付票（PDF）をダウンロード" in html


def test_portal_and_list_link_to_the_application_page(submitted: Application, hanako_client: Client) -> None:
    for page in ("/portal/", "/applications/"):
        assert f'href="{_url(submitted)}"' in hanako_client.get(page).content.decode(), page


def test_withdraw_asks_for_confirmation_then_withdraws(submitted: Application, hanako_client: Client) -> None:
    page = hanako_client.get(_url(submitted))
    assert f'href="{_url(submitted, "withdraw/")}"' in page.content.decode()
    confirm = hanako_client.get(_url(submitted, "withdraw/"))
    assert confirm.status_code == 200 and "申請を取り下げますか" in confirm.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == "submitted"  # a GET changes nothing

    mails = OutboxMessage.objects.count()
    answer = hanako_client.post(_url(submitted, "withdraw/"), {"reason": "別の方法で手続きしました。"})
    assert answer.status_code == 302 and answer["Location"] == _url(submitted)
    submitted.refresh_from_db()
    assert submitted.status == "withdrawn"
    last = StatusChange.objects.filter(application=submitted).last()
    assert last is not None and last.to_status == "withdrawn" and last.note == "別の方法で手続きしました。"
    assert OutboxMessage.objects.count() == mails + 2
    assert AuditEvent.objects.filter(action="application.transition", data__previous="submitted").exists()
    html = hanako_client.get(_url(submitted)).content.decode()
    assert "取下げ" in html and _url(submitted, "withdraw/") not in html


@pytest.mark.parametrize("status", ["in_review", "correction_requested"])
def test_withdraw_is_possible_while_in_review_or_waiting_for_a_correction(
    submitted: Application, staff: User, hanako_client: Client, status: str
) -> None:
    if status == "correction_requested":
        from madoguchi.applications.services import application_request_correction

        application_request_correction(application=submitted, items={"phone": "確認"}, note="", actor=staff)
    else:
        application_transition(application=submitted, target=status, actor=staff)
    assert hanako_client.post(_url(submitted, "withdraw/")).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "withdrawn"


def test_withdraw_is_refused_once_the_decision_is_being_made(
    submitted: Application, staff: User, hanako_client: Client
) -> None:
    application_transition(application=submitted, target="in_review", actor=staff)
    application_transition(application=submitted, target="pending_approval", actor=staff)
    assert _url(submitted, "withdraw/") not in hanako_client.get(_url(submitted)).content.decode()
    answer = hanako_client.post(_url(submitted, "withdraw/"))
    assert answer.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "pending_approval"


def test_other_residents_cannot_see_or_withdraw(submitted: Application, ichiro: User) -> None:
    other = Client()
    other.force_login(ichiro)
    assert other.get(_url(submitted)).status_code == 404
    assert other.get(_url(submitted, "withdraw/")).status_code == 404
    assert other.post(_url(submitted, "withdraw/")).status_code == 404
    assert Client().post(_url(submitted, "withdraw/")).status_code == 302  # to the login page
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


@pytest.mark.usefixtures("free_juminhyo")
def test_a_draft_has_no_page_and_cannot_be_withdrawn(hanako: User, hanako_client: Client) -> None:
    hanako_client.post("/applications/start/juminhyo-copy/")
    draft = Application.objects.get()
    assert hanako_client.get(_url(draft))["Location"] == _url(draft, "step/requester/")
    hanako_client.post(_url(draft, "withdraw/"))
    draft.refresh_from_db()
    assert draft.status == "draft"
