"""The resident's web flow of juminhyo-copy, page by page, without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.core.models import User
from madoguchi.notifications.models import OutboxMessage

from .conftest import REQUESTER

pytestmark = pytest.mark.usefixtures("free_juminhyo")


def _start(client: Client) -> Application:
    page = client.get("/applications/start/juminhyo-copy/")
    assert page.status_code == 200
    assert "申請を始める" in page.content.decode()
    answer = client.post("/applications/start/juminhyo-copy/")
    assert answer.status_code == 302
    application = Application.objects.get()
    assert answer["Location"] == f"/applications/{application.public_id}/step/requester/"
    return application


def _url(application: Application, rest: str) -> str:
    return f"/applications/{application.public_id}/{rest}"


def _fill(client: Client, application: Application, requester: dict[str, str] | None = None) -> Any:
    steps = [
        ("requester", requester or REQUESTER, "step/target/"),
        ("target", {"scope": "all"}, "step/contents_step/"),
        ("contents_step", {}, "step/quantity/"),
        ("quantity", {"copies": "2", "purpose": "employment"}, "step/delivery_step/"),
        ("delivery_step", {"delivery": "mail"}, "check/"),
    ]
    for key, data, following in steps:
        answer = client.post(_url(application, f"step/{key}/"), data)
        assert answer.status_code == 302, answer.content.decode()[:3000]
        assert answer["Location"] == _url(application, following)
    return client.get(_url(application, "check/"))


def test_prefill_from_the_resident_record_is_marked_with_its_source(hanako_client: Client) -> None:
    application = _start(hanako_client)
    html = hanako_client.get(_url(application, "step/requester/")).content.decode()
    assert 'value="山田"' in html and 'value="ハナコ"' in html and 'value="1988-04-12"' in html
    assert 'value="100-0001"' in html and "東京都デモ区中央一丁目1番1号" in html
    assert "住民記録から入力しました" in html
    assert 'autocomplete="family-name"' in html and 'autocomplete="bday"' in html
    assert 'autocomplete="postal-code"' in html and 'autocomplete="tel"' in html
    assert application.prefill_sources["name"] == "registry"
    assert application.prefill_sources["email"] == "account"
    assert "phone" not in application.prefill_sources  # not in the resident record


def test_full_flow_submits_once_with_a_reference_number(hanako_client: Client, hanako: User) -> None:
    application = _start(hanako_client)
    check = _fill(hanako_client, application)
    html = check.content.decode()
    assert check.status_code == 200
    assert "入力内容の確認" in html and "山田\u3000花子" in html and "03-1234-5678" in html
    assert "変更する" in html and "記載した内容は事実と相違ありません。" in html
    key = html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]

    missing = hanako_client.post(_url(application, "submit/"), {"submission_key": key})
    assert missing.status_code == 400
    assert "内容を確認し、チェックを入れてください。" in missing.content.decode()
    assert 'href="#f-declaration"' in missing.content.decode()

    first = hanako_client.post(_url(application, "submit/"), {"submission_key": key, "declaration": "on"})
    second = hanako_client.post(_url(application, "submit/"), {"submission_key": key, "declaration": "on"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _url(application, "done/")
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.reference_number and application.reference_number.endswith("-000001")
    assert Application.objects.count() == 1
    emails = OutboxMessage.objects.filter(channel="email")
    assert emails.count() == 1 and application.reference_number in emails.get().subject
    assert OutboxMessage.objects.filter(channel="inbox", user=hanako).count() == 1

    done = hanako_client.get(_url(application, "done/")).content.decode()
    assert application.reference_number in done and "受付番号" in done
    pdf = hanako_client.get(_url(application, "receipt.pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # the submitted application cannot be changed any more
    assert hanako_client.get(_url(application, "step/requester/"))["Location"] == _url(application, "")

    # …and it is on the resident's portal, with its reference number.
    portal = hanako_client.get("/portal/").content.decode()
    assert application.reference_number in portal and "受付済み" in portal


def test_procedure_page_offers_online_application(hanako_client: Client) -> None:
    html = hanako_client.get("/procedures/juminhyo-copy/").content.decode()
    assert 'href="/applications/start/juminhyo-copy/"' in html and "オンラインで申請する" in html
    assert "/applications/start/" not in hanako_client.get("/procedures/tennyu/").content.decode()


def test_second_application_prefills_the_phone_from_the_first(hanako_client: Client) -> None:
    application = _start(hanako_client)
    html = _fill(hanako_client, application).content.decode()
    key = html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    hanako_client.post(_url(application, "submit/"), {"submission_key": key, "declaration": "on"})
    hanako_client.post("/applications/start/juminhyo-copy/")
    second = Application.objects.exclude(pk=application.pk).get()
    assert second.prefill_sources["phone"] == "previous"
    page = hanako_client.get(_url(second, "step/requester/")).content.decode()
    assert 'value="0312345678"' in page or 'value="03-1234-5678"' in page
    assert "前回の申請から入力しました" in page and "住民記録から入力しました" in page


def test_invalid_input_shows_errors_and_saves_nothing(hanako_client: Client) -> None:
    application = _start(hanako_client)
    before = Application.objects.get().data
    bad = {**REQUESTER, "name_kana.given": "hanako", "phone": "12", "relationship": ""}
    page = hanako_client.post(_url(application, "step/requester/"), bad)
    assert page.status_code == 400
    html = page.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#f-name-kana-given"' in html and 'href="#f-phone"' in html and 'href="#f-relationship-0"' in html
    assert "カタカナで入力してください。" in html and "選択してください。" in html
    assert 'id="f-phone" name="phone" value="12"' in html and 'aria-invalid="true"' in html
    application.refresh_from_db()
    assert application.data == before and application.completed_steps == []


def test_draft_resumes_where_the_resident_stopped(hanako_client: Client) -> None:
    application = _start(hanako_client)
    hanako_client.post(_url(application, "step/requester/"), REQUESTER)
    hanako_client.post(_url(application, "step/target/"), {"scope": "all"})
    again = hanako_client.get("/applications/start/juminhyo-copy/")
    assert again.status_code == 302 and again["Location"] == _url(application, "step/contents_step/")
    back = hanako_client.get(_url(application, "step/contents_step/")).content.decode()
    assert f'href="{_url(application, "step/target/")}"' in back
    assert Application.objects.count() == 1


def test_proxy_page_appears_only_for_a_proxy(hanako_client: Client) -> None:
    application = _start(hanako_client)
    answer = hanako_client.post(_url(application, "step/requester/"), {**REQUESTER, "relationship": "proxy"})
    assert answer["Location"] == _url(application, "step/proxy/")
    assert hanako_client.get(_url(application, "step/proxy/")).status_code == 200
    hanako_client.post(_url(application, "step/requester/"), REQUESTER)
    assert hanako_client.get(_url(application, "step/proxy/")).status_code == 404
