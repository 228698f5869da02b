from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from madoguchi.accounts import services
from madoguchi.accounts.tests.factories import PASSWORD, UserFactory
from madoguchi.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hikkoshi-no-Kisetsu-77"


def _signup(client: Client, email: str = "hanako@example.jp", password: str = NEW_PASSWORD) -> Any:
    return client.post(reverse("accounts:signup"), {"email": email, "password1": password, "password2": password})


def _link_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/verify/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_signup_sends_verification_mail_then_verified_user_can_log_in(client: Client) -> None:
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup_done")
    user = User.objects.get(email="hanako@example.jp")
    assert user.kind == User.Kind.RESIDENT
    assert user.email_verified_at is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["hanako@example.jp"]
    assert "メールアドレスの確認" in mail.outbox[0].subject
    assert "3日" in mail.outbox[0].body

    page = client.get(reverse("accounts:signup_done"))
    assert "hanako@example.jp" in page.content.decode()

    response = client.get(_link_path(mail.outbox[0]))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="accounts.email_verified", actor=user).exists()

    response = client.post(reverse("accounts:login"), {"email": "Hanako@Example.jp", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(action="accounts.login", actor=user).exists()


def test_unverified_account_cannot_log_in_and_can_ask_for_a_new_mail(client: Client) -> None:
    _signup(client)
    mail.outbox.clear()
    response = client.post(reverse("accounts:login"), {"email": "hanako@example.jp", "password": NEW_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert "入力内容を確認してください" in html
    assert "メールアドレスの確認が済んでいない" in html
    assert reverse("accounts:resend_verification") in html

    response = client.post(reverse("accounts:resend_verification"), {"email": "hanako@example.jp"})
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    client.get(_link_path(mail.outbox[0]))
    assert User.objects.get(email="hanako@example.jp").email_verified_at is not None


def test_resend_is_limited_to_once_a_minute_and_silent_for_unknown_addresses(client: Client) -> None:
    _signup(client)
    mail.outbox.clear()
    client.post(reverse("accounts:resend_verification"), {"email": "hanako@example.jp"})
    client.post(reverse("accounts:resend_verification"), {"email": "hanako@example.jp"})
    response = client.post(reverse("accounts:resend_verification"), {"email": "nobody@example.jp"})
    assert response.status_code == 200
    assert len(mail.outbox) == 1


def test_tampered_verification_link_is_refused(client: Client) -> None:
    _signup(client)
    path = _link_path(mail.outbox[0])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    response = client.get(tampered)
    assert response.status_code == 400
    assert "リンクが正しくありません" in response.content.decode()
    assert User.objects.get(email="hanako@example.jp").email_verified_at is None


def test_expired_verification_link_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserFactory(email_verified_at=None)
    four_days_ago = time.time() - 4 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: four_days_ago)
    token = services.email_verification_token(user=user, email=user.email)
    monkeypatch.undo()
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400
    assert "有効期限が切れています" in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_link_signed_for_another_purpose_is_refused(client: Client) -> None:
    user = UserFactory(email_verified_at=None)
    token = signing.dumps({"u": user.pk, "e": user.email}, salt="some-other-purpose")
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_signup_with_registered_address_creates_nothing_and_tells_the_owner(client: Client) -> None:
    owner = UserFactory(email="taken@example.jp")
    response = _signup(client, email="TAKEN@example.jp")
    assert response.status_code == 302  # same page as a new sign-up: no account enumeration
    assert User.objects.filter(email__iexact="taken@example.jp").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert "既に登録されています" in mail.outbox[0].body


def test_weak_password_is_refused_with_error_summary_and_field_error(client: Client) -> None:
    response = _signup(client, password="12345678")
    assert response.status_code == 200
    assert not User.objects.filter(email="hanako@example.jp").exists()
    html = response.content.decode()
    assert "エラー:" in html.split("</title>")[0]
    assert "入力内容を確認してください" in html
    assert 'href="#id_password1"' in html
    assert 'id="id_password1-error"' in html
    assert re.search(r'<input[^>]*aria-describedby="id_password1-hint id_password1-error"[^>]*>', html)
    assert 'aria-invalid="true"' in html
    assert len(mail.outbox) == 0


def test_mismatched_passwords_and_missing_email_are_reported_at_each_field(client: Client) -> None:
    response = client.post(reverse("accounts:signup"), {"email": "", "password1": NEW_PASSWORD, "password2": "x"})
    html = response.content.decode()
    assert "メールアドレスを入力してください" in html
    assert "パスワードが一致しません" in html
    assert 'href="#id_email"' in html and 'href="#id_password2"' in html


def test_signup_form_has_autocomplete_attributes_and_no_browser_validation(client: Client) -> None:
    html = client.get(reverse("accounts:signup")).content.decode()
    assert 'autocomplete="email"' in html
    assert 'autocomplete="new-password"' in html
    assert "novalidate" in html
    assert " required" not in html


def test_login_page_offers_my_number_card_login_next_to_email_login(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert "マイナンバーカードでログイン（デジタル認証アプリ）" in html
    assert reverse("accounts:identity_start", args=["demo"]) in html
    assert 'autocomplete="current-password"' in html


def test_wrong_password_is_refused(client: Client) -> None:
    user = UserFactory()
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD + "x"})
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only_and_ends_the_session(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="accounts.logout", actor=user).exists()


def test_login_redirects_only_to_local_next_urls(client: Client) -> None:
    user = UserFactory()
    response = client.post(
        reverse("accounts:login"), {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
