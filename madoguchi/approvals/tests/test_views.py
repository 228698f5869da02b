"""The staff pages: 決裁待ち, the request with its stamps and the decision form, 起案
with attachments, 代決 settings, the report; and who may see what."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from madoguchi.approvals import services
from madoguchi.approvals.machine import Status
from madoguchi.approvals.models import ApprovalRequest, ApprovalRoute, Delegation, InternalDocument
from madoguchi.approvals.services import approval_act, approval_request_start, delegation_set
from madoguchi.core.models import AuditEvent, Department, User

from .conftest import StaffMaker

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(route: ApprovalRoute, requester: User, subject: str = "1") -> ApprovalRequest:
    return approval_request_start(
        subject_kind="test_case",
        subject_id=subject,
        title="児童手当の認定",
        department=Department.objects.get(code="kumin"),
        requester=requester,
        route=route,
    )


def detail_url(request: ApprovalRequest) -> str:
    return reverse("approvals:detail", args=[request.public_id])


def act_url(request: ApprovalRequest) -> str:
    return reverse("approvals:act", args=[request.public_id])


def test_residents_and_anonymous_visitors_are_kept_out(resident: User, client: Client) -> None:
    url = reverse("approvals:home")
    response = client.get(url)
    assert response.status_code == 302 and reverse("accounts:staff_login") in response["Location"]
    assert client_for(resident).get(url).status_code == 403


def test_pending_list_shows_my_approvals_and_those_i_may_take_as_delegate(
    standard: ApprovalRoute, kumin: dict[str, User]
) -> None:
    request = start(standard, kumin["tanto"])
    page = client_for(kumin["kakaricho"]).get(reverse("approvals:home")).content.decode()
    assert "児童手当の認定" in page and detail_url(request) in page
    assert "児童手当の認定" not in client_for(kumin["kacho"]).get(reverse("approvals:home")).content.decode()
    today = timezone.localdate()
    delegation_set(approver=kumin["kakaricho"], delegate=kumin["kacho"], starts_on=today, ends_on=today)
    page = client_for(kumin["kacho"]).get(reverse("approvals:home")).content.decode()
    assert "児童手当の認定" in page and "区民 係長 の代決" in page
    mine = client_for(kumin["tanto"]).get(reverse("approvals:home")).content.decode()
    assert "自分が起案した決裁" in mine and "決裁中" in mine


def test_approving_on_the_page_shows_the_stamp(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    kakaricho = client_for(kumin["kakaricho"])
    page = kakaricho.get(detail_url(request)).content.decode()
    assert 'name="version" value="1"' in page and "決裁する" in page
    response = kakaricho.post(act_url(request), {"action": "approve", "comment": "", "version": "1"})
    assert response.status_code == 302 and response["Location"] == detail_url(request)
    page = kakaricho.get(detail_url(request)).content.decode()
    assert "承認しました。" in page
    stamps = re.findall(r'class="stamp[^"]*" role="img" aria-label="([^"]+)"', page)
    assert any(s.startswith("承認印：区民課 係長 区民 係長") for s in stamps), stamps
    assert any(s.startswith("起案印：区民 担当") for s in stamps), stamps
    assert 'action="' + act_url(request) not in page  # no second decision in this step


def test_a_stale_form_wrong_person_and_missing_reason_are_refused_with_a_message(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    request = start(standard, kumin["tanto"])
    other_tanto = client_for(make_staff("kumin", "tanto"))
    response = other_tanto.post(act_url(request), {"action": "approve", "version": "1"})
    assert response.status_code == 403
    assert "決裁者でも、その代決者でもありません" in response.content.decode()

    kakaricho = client_for(kumin["kakaricho"])
    response = kakaricho.post(act_url(request), {"action": "reject", "comment": "", "version": "1"})
    assert response.status_code == 400 and "差戻し・否決の理由を入力してください" in response.content.decode()

    approval_act(request=request, actor=kumin["kakaricho"], action="approve", expected_version=1)
    kacho = client_for(kumin["kacho"])
    response = kacho.post(act_url(request), {"action": "approve", "version": "1"})  # opened before the 係長 acted
    assert response.status_code == 409
    body = response.content.decode()
    assert "ほかの職員が更新しました" in body and 'name="version" value="2"' in body
    request.refresh_from_db()
    assert request.status == Status.PENDING and request.version == 2
    response = kacho.post(act_url(request), {"action": "approve", "version": "2"})
    assert response.status_code == 302
    response = kacho.post(act_url(request), {"action": "approve", "version": "3"})
    assert response.status_code == 409 and "終了した決裁は変更できません" in response.content.decode()


def test_who_may_see_a_request(
    gougi: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker, resident: User
) -> None:
    request = start(gougi, kumin["tanto"])
    assert client_for(kumin["kacho"]).get(detail_url(request)).status_code == 200
    assert client_for(make_staff("bosai", "tanto")).get(detail_url(request)).status_code == 200  # 合議 department
    stranger = make_staff("zeimu", "kacho")
    assert client_for(stranger).get(detail_url(request)).status_code == 404
    assert client_for(stranger).post(act_url(request), {"action": "approve", "version": "1"}).status_code == 404
    assert client_for(resident).get(detail_url(request)).status_code == 403
    assert client_for(kumin["kacho"]).get("/staff/approvals/r/not-a-uuid/").status_code == 404


def test_the_requester_withdraws(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    url = reverse("approvals:withdraw", args=[request.public_id])
    assert client_for(kumin["kakaricho"]).post(url, {"version": "1"}).status_code == 403
    response = client_for(kumin["tanto"]).post(url, {"version": "1"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN


# -- internal documents (起案) ---------------------------------------------------------------------
def test_drafting_a_document_with_attachments_starts_its_route(routes: None, make_staff: StaffMaker) -> None:
    kakaricho = make_staff("kumin", "kakaricho", name="起案 係長")
    kacho = make_staff("kumin", "kacho", name="区民 課長")
    client = client_for(kakaricho)
    assert client.get(reverse("approvals:document_new")).status_code == 200
    response = client.post(
        reverse("approvals:document_new"),
        {
            "title": "窓口案内表示の更新について",
            "body": "区民課窓口の案内表示を多言語化します。\n費用は既定予算内です。",
            "department": Department.objects.get(code="kumin").pk,
            "route": "",
            "attachments": [
                SimpleUploadedFile("案内表示案.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("見積.csv", "品目,金額\n表示板,12000\n".encode(), content_type="text/csv"),
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()
    document = InternalDocument.objects.get()
    request = ApprovalRequest.objects.get(subject_kind="document", subject_id=str(document.public_id))
    assert response["Location"] == detail_url(request)
    assert request.route_code == "standard" and request.current_step == 1  # the 係長 drafted: 課長 next
    assert sorted(a.name for a in document.attachments.all()) == ["案内表示案.pdf", "見積.csv"]
    assert {a.content_type for a in document.attachments.all()} == {"application/pdf", "text/csv"}
    assert AuditEvent.objects.filter(action="approvals.document_create", target_id=str(document.pk)).exists()

    page = client_for(kacho).get(detail_url(request)).content.decode()
    assert "区民課窓口の案内表示を多言語化します。<br>費用は既定予算内です。" in page
    pdf = document.attachments.get(name="案内表示案.pdf")
    download = reverse("approvals:attachment", args=[document.public_id, pdf.pk])
    assert download in page
    response = client_for(kacho).get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/octet-stream" and "attachment" in response["Content-Disposition"]
    assert client_for(make_staff("zeimu", "kacho")).get(download).status_code == 404

    client_for(kacho).post(act_url(request), {"action": "approve", "version": str(request.version)})
    document.refresh_from_db()
    assert document.status == Status.APPROVED


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream"), "添付できない種類"),
        (
            SimpleUploadedFile("fake.pdf", b"<html>not a pdf</html>", content_type="application/pdf"),
            "拡張子と一致しません",
        ),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "空のファイル"),
        (SimpleUploadedFile("sjis.txt", "決裁".encode("shift_jis"), content_type="text/plain"), "UTF-8"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * 200, content_type="application/pdf"), "大きすぎます"),
    ],
)
def test_attachments_of_the_wrong_type_or_size_are_refused(
    routes: None, make_staff: StaffMaker, monkeypatch: Any, upload: Any, message: str
) -> None:
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", len(PDF) + 100)
    client = client_for(make_staff("kumin", "tanto"))
    response = client.post(
        reverse("approvals:document_new"),
        {
            "title": "件名",
            "body": "本文",
            "department": Department.objects.get(code="kumin").pk,
            "attachments": [upload],
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InternalDocument.objects.exists() and not ApprovalRequest.objects.exists()


def test_a_sent_back_document_is_revised_and_started_again(routes: None, make_staff: StaffMaker) -> None:
    tanto, kakaricho = make_staff("kumin", "tanto"), make_staff("kumin", "kakaricho")
    document, first = services.document_create(
        author=tanto,
        department=Department.objects.get(code="kumin"),
        title="旧件名",
        body="旧本文",
        files=[SimpleUploadedFile("a.pdf", PDF)],
    )
    revise = reverse("approvals:document_revise", args=[document.public_id])
    assert client_for(tanto).get(revise).status_code == 404  # not sent back yet
    approval_act(request=first, actor=kakaricho, action="send_back", comment="件名を直してください", expected_version=1)
    document.refresh_from_db()
    assert document.status == Status.SENT_BACK
    assert "修正して再起案する" in client_for(tanto).get(detail_url(first)).content.decode()
    assert client_for(kakaricho).get(revise).status_code == 404  # only the author
    old = document.attachments.get()
    response = client_for(tanto).post(
        revise,
        {
            "title": "新件名",
            "body": "新本文",
            "route": "",
            "remove": [old.pk],
            "attachments": [SimpleUploadedFile("b.csv", b"x,y\n")],
        },
    )
    assert response.status_code == 302, response.content.decode()
    document.refresh_from_db()
    assert (document.title, document.status) == ("新件名", Status.PENDING)
    assert [a.name for a in document.attachments.all()] == ["b.csv"]
    second = ApprovalRequest.objects.get(subject_id=str(document.public_id), status=Status.PENDING)
    assert second.pk != first.pk and second.title == "新件名"
    first.refresh_from_db()
    assert first.status == Status.SENT_BACK


def test_an_approved_document_is_locked(routes: None, make_staff: StaffMaker) -> None:
    from madoguchi.approvals.models import Locked

    tanto, kakaricho, kacho = (make_staff("kumin", r) for r in ("tanto", "kakaricho", "kacho"))
    document, request = services.document_create(
        author=tanto, department=Department.objects.get(code="kumin"), title="件名", body="本文"
    )
    approval_act(request=request, actor=kakaricho, action="approve", expected_version=1)
    approval_act(request=request, actor=kacho, action="approve", expected_version=2)
    document.refresh_from_db()
    assert document.status == Status.APPROVED
    document.body = "書き換え"
    with pytest.raises(Locked):
        document.save()


# -- delegation and report ---------------------------------------------------------------------------
def test_setting_and_cancelling_a_delegate(kumin: dict[str, User]) -> None:
    client = client_for(kumin["kacho"])
    page = client.get(reverse("approvals:delegation")).content.decode()
    assert "区民 係長" in page
    today = timezone.localdate()
    response = client.post(
        reverse("approvals:delegation"),
        {
            "delegate": kumin["kakaricho"].pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=2)).isoformat(),
            "reason": "出張",
        },
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.approver, delegation.delegate, delegation.reason) == (kumin["kacho"], kumin["kakaricho"], "出張")
    response = client.post(
        reverse("approvals:delegation"),
        {"delegate": kumin["tanto"].pk, "starts_on": today.isoformat(), "ends_on": today.isoformat()},
    )
    assert response.status_code == 400 and "すでに代決者が設定されています" in response.content.decode()
    response = client.post(
        reverse("approvals:delegation"),
        {"delegate": kumin["tanto"].pk, "starts_on": "2026-13-01", "ends_on": ""},
    )
    assert response.status_code == 400 and "開始日を 2026-12-01 の形で入力してください" in response.content.decode()
    assert (
        client_for(kumin["kakaricho"]).post(reverse("approvals:delegation_cancel", args=[delegation.pk])).status_code
        == 404
    )
    assert client.post(reverse("approvals:delegation_cancel", args=[delegation.pk])).status_code == 302
    delegation.refresh_from_db()
    assert delegation.cancelled_at is not None


def test_the_report_page(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    approval_act(request=request, actor=kumin["kakaricho"], action="approve", expected_version=1)
    approval_act(request=request, actor=kumin["kacho"], action="approve", expected_version=2)
    client = client_for(kumin["tanto"])
    page = client.get(reverse("approvals:report")).content.decode()
    assert "test-standard" in page and "100%" in page
    kumin_id = Department.objects.get(code="kumin").pk
    assert client.get(reverse("approvals:report"), {"department": kumin_id, "since": "2000-01-01"}).status_code == 200
    assert client.get(reverse("approvals:report"), {"since": "昨日"}).status_code == 400


def test_pages_are_translated(standard: ApprovalRoute, kumin: dict[str, User]) -> None:
    request = start(standard, kumin["tanto"])
    client = client_for(kumin["kakaricho"])
    client.cookies["django_language"] = "en"
    page = client.get(detail_url(request)).content.decode()
    assert "Approval route" in page and "Approve" in page
