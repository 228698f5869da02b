"""Applying without an account (a form with ``anonymous: true``, here 粗大ごみ収集申込):
e-mail address first, the draft tied to it and to this browser session, a signed
resume link that expires with the draft, confirmation mail and receipt."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.applications import links
from madoguchi.applications.models import Application
from madoguchi.applications.services import (
    AnonymousNotAllowed,
    application_request_correction,
    application_start_anonymous,
)
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage

EMAIL = "visitor@example.net"
APPLICANT = {
    "name.family": "鈴木",
    "name.given": "一郎",
    "name_kana.family": "スズキ",
    "name_kana.given": "イチロウ",
    "birth_date": "1975-02-03",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央二丁目2番2号",
    "phone": "090-1234-0000",
    "email": EMAIL,
}


def _start(client: Client) -> Application:
    answer = client.post("/applications/start/sodai-gomi/anonymous/", {"email": EMAIL})
    application = Application.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/applications/{application.public_id}/step/applicant/"
    return application


def _resume_link() -> str:
    message = OutboxMessage.objects.get(dedupe_key__startswith="application-resume-")
    return message.link_url


def _submit(client: Client, application: Application) -> Any:
    base = f"/applications/{application.public_id}/"
    collection = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    for key, data in [
        ("applicant", APPLICANT),
        ("items_step", {"items.0.category": "sofa", "items.0.description": "ソファ", "items.0.quantity": "1"}),
        ("collection", {"collection_date": collection, "place": "front"}),
    ]:
        answer = client.post(f"{base}step/{key}/", data)
        assert answer.status_code == 302, answer.content.decode()[:2000]
    html = client.get(f"{base}check/").content.decode()
    key = html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    return client.post(f"{base}submit/", {"submission_key": key, "declaration": "on"})


def test_start_page_offers_login_or_an_email_address(ward: None, client: Client) -> None:
    html = client.get("/applications/start/sodai-gomi/").content.decode()
    assert "アカウントなしで申請する" in html and 'name="email"' in html
    assert "/accounts/login/?next=/applications/start/sodai-gomi/" in html
    assert client.get("/applications/start/juminhyo-copy/").status_code == 302  # needs an account
    assert client.post("/applications/start/juminhyo-copy/anonymous/", {"email": EMAIL}).status_code == 404
    assert not Application.objects.exists()


def test_a_bad_address_is_refused_at_the_field(ward: None, client: Client) -> None:
    answer = client.post("/applications/start/sodai-gomi/anonymous/", {"email": "not-an-address"})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert 'href="#f-email"' in html and "メールアドレスを正しく入力してください" in html
    assert not Application.objects.exists() and not OutboxMessage.objects.exists()


def test_start_ties_the_draft_to_the_address_and_mails_a_resume_link(ward: None, client: Client) -> None:
    application = _start(client)
    assert application.applicant is None and application.applicant_email == EMAIL
    assert application.status == "draft"
    mail = OutboxMessage.objects.get()
    assert mail.channel == "email" and mail.to_address == EMAIL and mail.user is None
    assert mail.link_url.startswith("http://testserver/applications/resume/")
    assert mail.link_url in mail.body_text and "30日間有効" in mail.body_text
    html = client.get(f"/applications/{application.public_id}/step/applicant/").content.decode()
    assert f'value="{EMAIL}"' in html and "最初に入力したメールアドレスを入力しました" in html


def test_anonymous_applicant_submits_and_gets_mail_and_receipt(ward: None, client: Client) -> None:
    application = _start(client)
    answer = _submit(client, application)
    assert answer.status_code == 302 and answer["Location"].endswith("/done/")
    application.refresh_from_db()
    assert application.status == "submitted" and application.reference_number
    confirmation = OutboxMessage.objects.get(dedupe_key=f"application-submitted-{application.public_id}-email")
    assert confirmation.to_address == EMAIL and application.reference_number in confirmation.subject
    assert "/applications/resume/" in confirmation.body_text and "マイページ" not in confirmation.body_text
    assert not OutboxMessage.objects.filter(channel="inbox").exists()
    done = client.get(f"/applications/{application.public_id}/done/").content.decode()
    assert application.reference_number in done
    pdf = client.get(f"/applications/{application.public_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/applications/{application.public_id}/").status_code == 200


def test_without_the_session_or_link_nobody_reaches_it(ward: None, client: Client, ichiro: User) -> None:
    application = _start(client)
    base = f"/applications/{application.public_id}/"
    stranger = Client()
    assert stranger.get(base + "step/applicant/").status_code == 302  # to the login page
    assert stranger.post(base + "step/applicant/", APPLICANT).status_code == 302
    resident = Client()
    resident.force_login(ichiro)
    for url in ("step/applicant/", "check/", "", "receipt.pdf"):
        assert resident.get(base + url).status_code == 404, url
    assert resident.get("/api/v1/applications/" + str(application.public_id)).status_code == 404
    application.refresh_from_db()
    assert application.completed_steps == []


def test_the_link_resumes_the_draft_in_another_browser(ward: None, client: Client) -> None:
    application = _start(client)
    client.post(f"/applications/{application.public_id}/step/applicant/", APPLICANT)
    other = Client()
    answer = other.get(_resume_link().removeprefix("http://testserver"))
    assert answer.status_code == 302
    assert answer["Location"] == f"/applications/{application.public_id}/step/items_step/"
    assert other.get(answer["Location"]).status_code == 200
    assert str(application.public_id) in other.session[links.SESSION_KEY]


def test_a_tampered_link_gets_a_clear_message(ward: None, client: Client) -> None:
    _start(client)
    path = _resume_link().removeprefix("http://testserver")
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    visitor = Client()
    answer = visitor.get(f"/applications/resume/{forged}/")
    assert answer.status_code == 400
    assert "リンクが正しくありません" in answer.content.decode()
    application = Application.objects.get()
    assert visitor.get(f"/applications/{application.public_id}/step/applicant/").status_code == 302  # login


def test_an_expired_link_gets_a_clear_message(ward: None, client: Client, settings: Any) -> None:
    settings.APPLICATIONS_DRAFT_DAYS = 30
    _start(client)
    path = _resume_link().removeprefix("http://testserver")
    later = time.time() + 31 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        answer = Client().get(path)
    assert answer.status_code == 410
    assert "有効期限が切れています" in answer.content.decode()


def test_a_link_to_a_deleted_draft_says_so(ward: None, client: Client) -> None:
    application = _start(client)
    path = _resume_link().removeprefix("http://testserver")
    application.delete()
    answer = Client().get(path)
    assert answer.status_code == 404 and "見つかりませんでした" in answer.content.decode()


def test_a_form_without_anonymous_refuses_the_service(ward: None) -> None:
    with pytest.raises(AnonymousNotAllowed):
        application_start_anonymous(email=EMAIL, procedure_code="juminhyo-copy", base_url="http://testserver/")
    assert not Application.objects.exists()


def test_correction_request_reaches_the_anonymous_applicant_by_mail(ward: None, client: Client, staff: User) -> None:
    application = _start(client)
    _submit(client, application)
    application.refresh_from_db()
    application_request_correction(
        application=application, items={"phone": "つながりませんでした。"}, note="", actor=staff
    )
    mail = OutboxMessage.objects.get(dedupe_key__startswith="application-correction-")
    assert mail.to_address == EMAIL and mail.user is None
    url = re.search(r"http://testserver(/applications/resume/\S+)", mail.body_text)
    assert url is not None
    other = Client()
    answer = other.get(url.group(1))
    assert answer["Location"] == f"/applications/{application.public_id}/correction/"
    answer = other.post(answer["Location"], {"phone": "090-5555-6666"})
    assert answer.status_code == 302
    application.refresh_from_db()
    assert application.status == "in_review"


def test_the_anonymous_draft_is_not_in_anyones_list(ward: None, client: Client, hanako: User) -> None:
    _start(client)
    mine = Client()
    mine.force_login(hanako)
    assert mine.get("/api/v1/applications").json() == []


def test_an_applicant_who_used_english_gets_english_mails(ward: None, client: Client) -> None:
    answer = client.post("/applications/start/sodai-gomi/anonymous/", {"email": EMAIL}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    application = Application.objects.get()
    assert application.applicant_language == "en"
    _submit(client, application)
    application.refresh_from_db()
    confirmation = OutboxMessage.objects.get(dedupe_key=f"application-submitted-{application.public_id}-email")
    assert confirmation.language == "en"
    assert confirmation.subject.startswith("[") and "We have received your application" in confirmation.subject
    assert "申請を受け付けました" not in confirmation.body_text


def test_the_anonymous_applicant_downloads_the_decision_notice(ward: None, client: Client) -> None:
    from madoguchi.cases.models import Case
    from madoguchi.cases.notices import notice_pdf
    from madoguchi.cases.services import case_store_notice

    application = _start(client)
    _submit(client, application)
    case = Case.objects.get(application=application)
    case_store_notice(case=case, pdf=notice_pdf(case))
    mail = OutboxMessage.objects.get(dedupe_key=f"case-notice-{case.pk}-email")
    assert mail.to_address == EMAIL and "マイページ" not in mail.body_text
    link = re.search(r"http://testserver(/applications/resume/\S+)", mail.body_text)
    assert link is not None

    # This browser holds the application: the notice is served.
    notice = client.get(f"/notices/{application.public_id}/")
    assert notice.status_code == 200 and b"".join(notice.streaming_content).startswith(b"%PDF")
    # Another browser only after opening the mailed link; before that it must log in.
    other = Client()
    assert other.get(f"/notices/{application.public_id}/").status_code == 302
    other.get(link.group(1))
    assert other.get(f"/notices/{application.public_id}/").status_code == 200
    # A logged-in resident who does not hold it gets 404.
    stranger = Client()
    stranger.force_login(User.objects.get(email="ichiro@example.jp"))
    assert stranger.get(f"/notices/{application.public_id}/").status_code == 404
