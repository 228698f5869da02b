from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.tests.factories import UserFactory
from madoguchi.core.models import AuditEvent, Resident, User
from madoguchi.portal.services import profile_contact_update

pytestmark = pytest.mark.django_db


def test_profile_shows_the_registry_record_and_household(logged_in: Client) -> None:
    response = logged_in.get("/portal/profile/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "桜井 花子" in html and "サクライ ハナコ" in html
    assert "昭和60年4月1日（1985年4月1日）" in html
    assert "〒123-4567 東京都デモ区桜町1丁目2番3号" in html
    assert "<dt>性別</dt><dd>女</dd>" in html
    assert "桜井 健太" in html and "子" in html and "令和元年5月1日（2019年5月1日）" in html
    assert "住民異動届" in html


def test_profile_shows_no_other_household(logged_in: Client, other_account: User) -> None:
    html = logged_in.get("/portal/profile/").content.decode()
    assert "鈴木" not in html and "スズキ" not in html


def test_another_residents_profile_cannot_be_addressed(logged_in: Client, other_account: User) -> None:
    assert other_account.resident_id is not None
    assert logged_in.get(f"/portal/profile/{other_account.resident_id}/").status_code == 404
    assert logged_in.get("/portal/profile/", {"resident": other_account.resident_id}).status_code == 200
    html = logged_in.get("/portal/profile/", {"resident": other_account.resident_id}).content.decode()
    assert "鈴木" not in html


def test_posting_a_resident_id_cannot_change_another_residents_phone(
    logged_in: Client, other_account: User, account: User
) -> None:
    response = logged_in.post(
        "/portal/profile/",
        {"phone": "090-1111-2222", "preferred_language": "ja", "resident": other_account.resident_id},
    )
    assert response.status_code == 302
    assert Resident.objects.get(pk=other_account.resident_id).phone == ""
    assert Resident.objects.get(pk=account.resident_id).phone == "090-1111-2222"


def test_phone_is_validated_with_error_summary(logged_in: Client, account: User) -> None:
    before = AuditEvent.objects.count()
    response = logged_in.post("/portal/profile/", {"phone": "12345", "preferred_language": "ja"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "入力内容を確認してください" in html
    assert "電話番号を正しく入力してください" in html
    assert 'href="#id_phone"' in html and 'id="id_phone-error"' in html and 'aria-invalid="true"' in html
    assert html.index("<h1>") < html.index('id="error-summary"')  # headings stay in order: h1, then h2
    assert Resident.objects.get(pk=account.resident_id).phone == ""
    assert AuditEvent.objects.count() == before


def test_unknown_language_is_rejected(logged_in: Client, account: User) -> None:
    response = logged_in.post("/portal/profile/", {"phone": "", "preferred_language": "xx"})
    assert response.status_code == 400
    assert "表示言語を一覧から選択してください" in response.content.decode()
    account.refresh_from_db()
    assert account.preferred_language == "ja"


def test_phone_change_is_saved_formatted_and_audited_without_the_number(logged_in: Client, account: User) -> None:
    response = logged_in.post("/portal/profile/", {"phone": "０９０１２３４５６７８", "preferred_language": "ja"})
    assert response.status_code == 302 and response["Location"] == "/portal/profile/"
    resident = Resident.objects.get(pk=account.resident_id)
    assert resident.phone == "090-1234-5678"
    event = AuditEvent.objects.filter(action="portal.phone_changed").get()
    assert event.actor_id == account.pk
    assert event.target_type == "core.resident" and event.target_id == str(resident.pk)
    assert "5678" not in str(event.data)
    assert "連絡先を保存しました。" in logged_in.get("/portal/profile/").content.decode()


def test_language_change_is_saved_audited_and_switches_the_site_language(logged_in: Client, account: User) -> None:
    response = logged_in.post("/portal/profile/", {"phone": "", "preferred_language": "en"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.preferred_language == "en"
    event = AuditEvent.objects.filter(action="portal.language_changed").get()
    assert event.data == {"field": "preferred_language", "from": "ja", "to": "en"}
    assert response.cookies["django_language"].value == "en"
    assert not AuditEvent.objects.filter(action="portal.phone_changed").exists()


def test_saving_unchanged_values_writes_no_audit_record(logged_in: Client) -> None:
    response = logged_in.post("/portal/profile/", {"phone": "", "preferred_language": "ja"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="portal.").exists()


def test_clearing_the_phone_is_audited(account: User) -> None:
    profile_contact_update(user=account, phone="03-1234-5678", preferred_language="ja")
    assert profile_contact_update(user=account, phone="", preferred_language="ja") == ["phone"]
    assert Resident.objects.get(pk=account.resident_id).phone == ""
    assert [e.data["cleared"] for e in AuditEvent.objects.filter(action="portal.phone_changed")] == [False, True]


def test_service_rejects_invalid_values(account: User) -> None:
    with pytest.raises(ValueError):
        profile_contact_update(user=account, phone="abc", preferred_language="ja")
    with pytest.raises(ValueError):
        profile_contact_update(user=account, phone="", preferred_language="xx")


def test_account_without_registry_record_is_told_how_to_link_it(client: Client, db: Any) -> None:
    user = UserFactory(resident=None)
    client.force_login(user)
    html = client.get("/portal/profile/").content.decode()
    assert "住民記録と連携していません" in html and "マイナンバーカード" in html
    assert "/accounts/login/demo/?next=/portal/profile/" in html
    assert 'name="phone"' not in html
    response = client.post("/portal/profile/", {"phone": "090-1234-5678", "preferred_language": "en"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.preferred_language == "en"
