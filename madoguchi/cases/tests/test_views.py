from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application
from madoguchi.approvals.models import ApprovalRequest
from madoguchi.approvals.services import approval_act
from madoguchi.cases import services
from madoguchi.cases.models import Case, Outcome
from madoguchi.cases.tests.conftest import staff, submit
from madoguchi.core.models import AuditEvent, User


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_inbox_lists_only_the_departments_cases(application: Application, hanako: User, tanto: User) -> None:
    response = logged_in(tanto).get("/staff/cases/")
    assert response.status_code == 200
    assert application.reference_number in response.content.decode()
    other = logged_in(staff("kosodate", "tanto")).get("/staff/cases/")
    assert application.reference_number not in other.content.decode()


def test_inbox_filters(hanako: User, tanto: User, kakaricho: User) -> None:
    mine = submit(hanako).case
    theirs = submit(hanako).case
    services.case_assign(case=mine, assignee=tanto, actor=tanto, expected_version=None)
    client = logged_in(tanto)
    page = client.get("/staff/cases/", {"assignee": "me"}).content.decode()
    assert mine.reference_number in page and theirs.reference_number not in page
    page = client.get("/staff/cases/", {"assignee": "none"}).content.decode()
    assert theirs.reference_number in page and mine.reference_number not in page
    page = client.get("/staff/cases/", {"q": "やまだ"}).content.decode()
    assert mine.reference_number in page
    page = client.get("/staff/cases/", {"q": "サトウ"}).content.decode()
    assert mine.reference_number not in page
    page = client.get("/staff/cases/", {"status": "in_review"}).content.decode()
    assert mine.reference_number not in page
    page = client.get("/staff/cases/", {"q": mine.reference_number}).content.decode()
    assert mine.reference_number in page and theirs.reference_number not in page


def test_overdue_filter_and_sla_badge(hanako: User, tanto: User) -> None:
    late = submit(hanako).case
    fresh = submit(hanako).case
    Case.objects.filter(pk=late.pk).update(due_at=late.received_at.replace(year=2020))
    page = logged_in(tanto).get("/staff/cases/", {"overdue": "1"}).content.decode()
    assert late.reference_number in page and fresh.reference_number not in page
    assert "期限超過" in page


def test_a_bad_date_filter_is_explained_at_the_field(tanto: User) -> None:
    response = logged_in(tanto).get("/staff/cases/", {"received_from": "きのう"})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode() and 'id="err_received_from"' in response.content.decode()


def test_residents_cannot_use_the_back_office(application: Application, hanako: User) -> None:
    client = logged_in(hanako)
    assert client.get("/staff/cases/").status_code == 403
    assert client.get(f"/staff/cases/{application.reference_number}/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_staff_login(application: Application) -> None:
    response = Client().get("/staff/cases/")
    assert response.status_code == 302 and "/accounts/staff/login/" in response["Location"]


def test_other_departments_get_404_for_a_case(application: Application) -> None:
    client = logged_in(staff("kosodate", "kacho"))
    ref = application.reference_number
    assert client.get(f"/staff/cases/{ref}/").status_code == 404
    assert client.get(f"/staff/cases/{ref}/resident/").status_code == 404
    assert client.post(f"/staff/cases/{ref}/start_review/", {"version": "1"}).status_code == 404
    assert client.post("/staff/cases/assign/", {"cases": [ref], "assignee": "none"}).status_code == 404


def test_case_view_shows_the_answers_and_logs_the_view(application: Application, tanto: User) -> None:
    response = logged_in(tanto).get(f"/staff/cases/{application.reference_number}/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "山田" in text and "第1版" in text
    assert AuditEvent.objects.filter(action="case.resident_data_viewed", actor=tanto).count() == 1


def test_resident_record_view_is_logged(application: Application, tanto: User) -> None:
    response = logged_in(tanto).get(f"/staff/cases/{application.reference_number}/resident/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="case.resident_data_viewed", data__what="resident_record")
    assert event.actor == tanto


def test_a_stale_action_is_refused_with_a_message(application: Application, tanto: User, kakaricho: User) -> None:
    case = application.case
    shown = case.version
    services.case_assign(case=case, assignee=kakaricho, actor=kakaricho, expected_version=None)
    client = logged_in(tanto)
    response = client.post(f"/staff/cases/{case.reference_number}/start_review/", {"version": shown}, follow=True)
    assert "ほかの職員が更新しました" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_the_whole_handling_on_the_web(application: Application, tanto: User, kakaricho: User, hanako: User) -> None:
    ref = application.reference_number
    client = logged_in(tanto)
    case = application.case
    client.post(f"/staff/cases/{ref}/start_review/", {"version": case.version})
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    shown = case.version
    client.post(f"/staff/cases/{ref}/note/", {"body": "本人確認済み"})
    # a note does not change the version: the decision form shown before it is still current
    client.post(f"/staff/cases/{ref}/decide/", {"version": shown, "outcome": Outcome.GRANTED})
    case.refresh_from_db()
    assert case.status == Status.PENDING_APPROVAL
    request = ApprovalRequest.objects.get(subject_kind="case_decision", subject_id=str(case.pk))
    approval_act(request=request, actor=kakaricho, action="approve", expected_version=request.version)
    case.refresh_from_db()
    assert case.status == Status.DECIDED
    notice = logged_in(hanako).get(f"/notices/{application.public_id}/")
    assert notice.status_code == 200 and notice["Content-Type"] == "application/pdf"
    assert b"".join(notice.streaming_content).startswith(b"%PDF")
    assert (
        logged_in(User.objects.get(email="ichiro@example.jp")).get(f"/notices/{application.public_id}/").status_code
        == 404
    )


@pytest.mark.parametrize("action", ["start_review", "complete", "decide"])
def test_actions_on_a_withdrawn_case_are_refused(
    application: Application, hanako: User, kakaricho: User, action: str
) -> None:
    from madoguchi.applications.services import application_transition

    application_transition(application=application, target=Status.WITHDRAWN, actor=hanako)
    response = logged_in(kakaricho).post(
        f"/staff/cases/{application.reference_number}/{action}/", {"version": "", "outcome": "granted"}, follow=True
    )
    assert response.status_code == 200
    application.case.refresh_from_db()
    assert application.case.status == Status.WITHDRAWN


def test_staff_see_an_attached_photo_in_the_case_and_each_view_is_logged(
    application: Application, tanto: User, settings: Any, tmp_path: Any
) -> None:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from madoguchi.applications.services import application_store_file

    settings.MEDIA_ROOT = str(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(buffer, format="PNG")
    field = {
        "key": "power_of_attorney",
        "type": "file",
        "label": "委任状",
        "accept": ["image/png", ".png"],
        "max_bytes": 10**6,
    }
    meta = application_store_file(
        application=application, field=field, upload=SimpleUploadedFile("委任状.png", buffer.getvalue(), "image/png")
    )
    Application.objects.filter(pk=application.pk).update(data={**application.data, "power_of_attorney": meta})
    ref = application.reference_number
    client = logged_in(tanto)
    page = client.get(f"/staff/cases/{ref}/").content.decode()
    assert f"/staff/cases/{ref}/files/power_of_attorney/?view=1" in page
    shown = client.get(f"/staff/cases/{ref}/files/power_of_attorney/", {"view": "1"})
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert "sandbox" in shown["Content-Security-Policy"] and shown["X-Content-Type-Options"] == "nosniff"
    downloaded = client.get(f"/staff/cases/{ref}/files/power_of_attorney/")
    assert downloaded["Content-Type"] == "application/octet-stream"
    assert (
        AuditEvent.objects.filter(action="case.resident_data_viewed", data__what="attachment:power_of_attorney").count()
        == 2
    )
    other = logged_in(staff("kosodate", "kacho"))
    assert other.get(f"/staff/cases/{ref}/files/power_of_attorney/", {"view": "1"}).status_code == 404
