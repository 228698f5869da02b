"""Password reset by mail: the request page, the mailed one-time link, the new
password, and what the pages and mails reveal (nothing about who has an account)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from madoguchi.accounts import services, tasks
from madoguchi.accounts.tests.factories import PASSWORD, StaffFactory, UserFactory
from madoguchi.core.audit import audit_verify
from madoguchi.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Aki-no-Sora-wa-Takai-88"
RESET_URL = reverse("accounts:password_reset")


def _request_reset(client: Client, email: str) -> Any:
    return client.post(RESET_URL, {"email": email})


def _reset_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def _set_password(client: Client, path: str, password: str = NEW_PASSWORD, again: str | None = None) -> Any:
    response = client.get(path)
    assert response.status_code == 302  # the token moves into the session
    form_path = response["Location"]
    assert "set-password" in form_path and path.rstrip("/").rsplit("/", 1)[-1] not in form_path
    return client.post(form_path, {"new_password1": password, "new_password2": password if again is None else again})


def _can_log_in(email: str, password: str) -> bool:
    client = Client()
    response = client.post(reverse("accounts:login"), {"email": email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def _token_path(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})


def test_login_page_links_to_password_reset(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert re.search(rf'<a href="{RESET_URL}">パスワードをお忘れの方</a>', html)
    staff_html = client.get(reverse("accounts:staff_login")).content.decode()
    assert RESET_URL not in staff_html  # staff passwords are reset by an administrator
    assert "システム管理者に再設定を依頼" in staff_html


def test_request_page_has_autocomplete_and_no_browser_validation(client: Client) -> None:
    html = client.get(RESET_URL).content.decode()
    assert "<h1>パスワードの再設定</h1>" in html
    assert 'autocomplete="email"' in html
    assert "novalidate" in html
    assert " required" not in html


def test_resident_resets_password_by_mail_link_and_logs_in_with_it(client: Client) -> None:
    user = UserFactory(email="hanako@example.jp")
    response = _request_reset(client, "Hanako@Example.jp")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hanako@example.jp"]
    assert "パスワードの再設定" in message.subject
    assert "有効期限は3日" in message.body
    done = client.get(response["Location"]).content.decode()
    assert "パスワードの再設定のメールを送信しました" in done

    response = _set_password(client, _reset_path(message))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    complete = client.get(response["Location"]).content.decode()
    assert "パスワードを設定しました" in complete
    assert reverse("accounts:login") in complete

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not _can_log_in(user.email, PASSWORD)
    assert _can_log_in(user.email, NEW_PASSWORD)
    event = AuditEvent.objects.get(action="accounts.password_reset")
    assert event.actor == user and event.target_id == str(user.pk)
    assert AuditEvent.objects.filter(action="accounts.password_reset_requested", target_id=str(user.pk)).exists()
    count, problems = audit_verify()
    assert count > 0 and problems == []


def test_reset_link_works_only_once(client: Client) -> None:
    UserFactory(email="hanako@example.jp")
    _request_reset(client, "hanako@example.jp")
    path = _reset_path(mail.outbox[0])
    assert _set_password(client, path).status_code == 302
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "このリンクは使えません" in html
    assert "new_password1" not in html


def test_tampered_or_unknown_links_are_refused(client: Client) -> None:
    user = UserFactory()
    good = _token_path(user)
    for path in (good[:-3] + "xx/", reverse("accounts:password_reset_confirm", args=["MTIzNDU2Nzg", "abc-def"])):
        response = client.get(path)
        assert response.status_code == 200
        assert "このリンクは使えません" in response.content.decode()
    # Without the token in the session, the form page itself is refused too.
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("accounts:password_reset_confirm", args=[uidb64, "set-password"])
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "このリンクは使えません" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_weak_or_mismatched_new_password_shows_error_summary_and_field_errors(client: Client) -> None:
    user = UserFactory(email="hanako@example.jp")
    _request_reset(client, user.email)
    response = _set_password(client, _reset_path(mail.outbox[0]), password="12345678")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "入力内容を確認してください" in html
    assert 'href="#id_new_password1"' in html
    assert 'id="id_new_password1-error"' in html
    assert 'aria-describedby="id_new_password1-hint id_new_password1-error"' in html
    assert 'autocomplete="new-password"' in html
    assert 'autocomplete="username"' in html and "hanako@example.jp" in html
    assert "<title>エラー: " in html

    response = client.post(
        response.request["PATH_INFO"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert "パスワードが一致しません" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="accounts.password_reset").exists()


def test_reset_pages_look_the_same_for_unknown_and_registered_addresses(client: Client) -> None:
    UserFactory(email="hanako@example.jp")
    pages = []
    for email in ("hanako@example.jp", "nobody@example.jp"):
        other = Client()
        response = _request_reset(other, email)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:password_reset_done")
        page = other.get(response["Location"]).content.decode()
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    assert [m.to for m in mail.outbox] == [["hanako@example.jp"]]  # nothing to unknown addresses


def test_invalid_address_is_reported_on_the_form(client: Client) -> None:
    response = _request_reset(client, "hanako")
    assert response.status_code == 200
    html = response.content.decode()
    assert "入力内容を確認してください" in html
    assert "name@example.jp のような形式" in html
    assert len(mail.outbox) == 0


def test_reset_mail_goes_through_the_task_queue(client: Client, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    UserFactory(email="hanako@example.jp")
    _request_reset(client, "hanako@example.jp")
    assert mail.outbox == []  # not sent in the request
    results = default_task_backend.results  # type: ignore[attr-defined]
    assert len(results) == 1
    assert results[0].task.func is tasks.send_email.func
    assert results[0].kwargs["to"] == ["hanako@example.jp"]
    assert "/accounts/password/reset/" in results[0].kwargs["body"]


def test_requests_are_limited_to_one_mail_a_minute(client: Client) -> None:
    UserFactory(email="hanako@example.jp")
    _request_reset(client, "hanako@example.jp")
    response = _request_reset(client, "hanako@example.jp")
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1


def test_staff_get_a_mail_without_link_and_cannot_use_a_reset_link(client: Client) -> None:
    staff = StaffFactory()
    _request_reset(client, staff.email)
    assert len(mail.outbox) == 1
    assert "システム管理者に再設定を依頼" in mail.outbox[0].body
    assert "/accounts/password/reset/" not in mail.outbox[0].body
    response = client.get(_token_path(staff))
    assert "このリンクは使えません" in response.content.decode()
    with pytest.raises(services.PasswordResetNotAllowed):
        services.password_reset_complete(user=staff, password=NEW_PASSWORD)
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_card_accounts_without_password_are_told_to_use_the_card(client: Client) -> None:
    placeholder = UserFactory(email="mnc-1@id.invalid", password=None)
    card = UserFactory(email="card@example.jp", password=None)
    _request_reset(client, placeholder.email)
    assert mail.outbox == []  # never mail a placeholder address
    _request_reset(client, card.email)
    assert len(mail.outbox) == 1
    assert "マイナンバーカードでログイン" in mail.outbox[0].body
    assert "/accounts/password/reset/" not in mail.outbox[0].body
    assert "このリンクは使えません" in client.get(_token_path(card)).content.decode()


def test_inactive_accounts_get_nothing(client: Client) -> None:
    user = UserFactory(is_active=False)
    _request_reset(client, user.email)
    assert mail.outbox == []


def test_reset_verifies_an_unverified_address(client: Client) -> None:
    user = UserFactory(email="hanako@example.jp", email_verified_at=None)
    _request_reset(client, user.email)
    _set_password(client, _reset_path(mail.outbox[0]))
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="accounts.email_verified", actor=user).exists()
    assert _can_log_in(user.email, NEW_PASSWORD)


def test_reset_ends_other_sessions(client: Client) -> None:
    user = UserFactory(email="hanako@example.jp")
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get(reverse("accounts:email_change")).status_code == 200
    _request_reset(client, user.email)
    _set_password(client, _reset_path(mail.outbox[0]))
    assert elsewhere.get(reverse("accounts:email_change")).status_code == 302


def test_reset_lifts_a_login_lockout(client: Client) -> None:
    user = UserFactory(email="hanako@example.jp")
    for _ in range(5):
        client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong-password"})
    locked = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert RESET_URL in locked.content.decode()
    _request_reset(client, user.email)
    _set_password(client, _reset_path(mail.outbox[0]))
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
