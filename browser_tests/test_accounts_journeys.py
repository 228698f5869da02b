"""Account journeys in headless Chromium: sign-up with the verification mail, My Number
Card login through the demo identity provider, staff login with TOTP enrolment,
a wrong password, and a password reset. axe-core runs on every page visited."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from django.core import mail
from django.core.cache import cache

from browser_tests.conftest import assert_accessible

pytestmark = pytest.mark.browser

RESIDENT = ("hanako@example.jp", "demo-kumin-2026")
STAFF = ("kumin-tanto@demo-ku.example.jp", "demo-shokuin-2026")
NEW_PASSWORD = "Hikkoshi-no-Kisetsu-77"  # noqa: S105 - a test password


@pytest.fixture(autouse=True)
def _accounts_settings(settings: Any) -> Iterator[None]:
    # Mail tasks run at once in the live server and land in django.core.mail.outbox.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.IDENTITY_PROVIDERS = ["demo"]
    settings.STAFF_REQUIRE_2FA = False
    # Fast hashing for the demo accounts (the autouse fixture runs before demo_ward).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    mail.outbox = []
    yield
    cache.clear()


def _mailed_link(pattern: str) -> str:
    assert mail.outbox, "no mail was sent"
    match = re.search(rf"https?://\S+{pattern}\S*/", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(0)


def _logged_in(page: Any) -> bool:
    return page.get_by_role("button", name="ログアウト").count() == 1


def _log_in(page: Any, email: str, password: str, *, staff: bool = False) -> None:
    page.goto("/accounts/staff/login/" if staff else "/accounts/login/")
    assert_accessible(page)
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()
    assert "ログアウトしました。" in page.locator(".notice-list").inner_text()
    assert not _logged_in(page)
    assert_accessible(page)


def test_sign_up_verify_by_mail_log_in_and_out(page: Any, demo_ward: None, live_server: Any) -> None:
    email = "sakura@example.jp"
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_role("link", name="アカウントを作成する").click()
    page.wait_for_url("**/accounts/signup/")
    assert_accessible(page)
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("パスワード（確認のため、もう一度）").fill(NEW_PASSWORD)
    page.get_by_role("button", name="登録して確認メールを受け取る").click()
    page.wait_for_url("**/accounts/signup/sent/")
    assert email in page.locator("main").inner_text()
    assert_accessible(page)

    assert mail.outbox[-1].to == [email]
    link = _mailed_link("/accounts/verify/")
    assert link.startswith(live_server.url)
    page.goto(link)
    page.wait_for_url("**/accounts/login/")
    assert "メールアドレスを確認しました。" in page.locator(".notice-list").inner_text()
    assert_accessible(page)

    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    assert _logged_in(page)
    assert_accessible(page)
    _log_out(page)


def test_my_number_card_login_through_the_demo_provider(page: Any, demo_ward: None, live_server: Any) -> None:
    from madoguchi.core.models import AuditEvent

    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_role("link", name="マイナンバーカードでログイン（デジタル認証アプリ）").click()
    page.wait_for_url("**/accounts/demo-idp/authorize/**")
    assert_accessible(page)
    page.get_by_label("住民を名前で探す").fill("花子")
    page.get_by_role("button", name="探す").click()
    page.wait_for_url("**/accounts/demo-idp/authorize/**q=**")
    assert_accessible(page)
    page.get_by_role("radio", name=re.compile("山田 花子")).check()
    page.get_by_role("button", name="同意して情報を提供する").click()
    page.wait_for_url(live_server.url + "/")
    assert "マイナンバーカードでログインしました。" in page.locator(".notice-list").inner_text()
    assert _logged_in(page)
    assert_accessible(page)
    login = AuditEvent.objects.filter(action="accounts.login").latest("seq")
    assert login.actor is not None and login.actor.email == RESIDENT[0]
    assert login.data["method"] == "identity:demo"


def test_staff_enrol_totp_then_log_in_with_a_code(page: Any, demo_ward: None, live_server: Any, settings: Any) -> None:
    from madoguchi.core.models import User

    settings.STAFF_REQUIRE_2FA = True
    _log_in(page, *STAFF, staff=True)
    page.wait_for_url("**/accounts/staff/2fa/setup/")
    assert not _logged_in(page)
    assert page.locator("svg").first.is_visible()  # the QR code
    assert_accessible(page)

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("確認コード（6桁の数字）").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="設定してログイン").click()
    page.wait_for_load_state()
    assert "確認コードが正しくありません" in page.locator(".error-summary").inner_text()
    assert_accessible(page)

    page.get_by_label("確認コード（6桁の数字）").fill(totp.now())
    page.get_by_role("button", name="設定してログイン").click()
    page.wait_for_url(live_server.url + "/")
    assert "二要素認証を設定しました" in page.locator(".notice-list").inner_text()
    assert _logged_in(page)
    assert_accessible(page)
    staff = User.objects.get(email=STAFF[0])
    assert staff.totp_secret == secret and staff.totp_confirmed_at is not None
    _log_out(page)

    # Next time: password, then a code (the next step's, as this step's code is used).
    _log_in(page, *STAFF, staff=True)
    page.wait_for_url("**/accounts/staff/2fa/")
    assert_accessible(page)
    page.get_by_label("確認コード（6桁の数字）").fill(totp.at(time.time() + totp.interval))
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    assert _logged_in(page)
    assert_accessible(page)


def test_wrong_password_shows_the_error_summary(page: Any, demo_ward: None) -> None:
    _log_in(page, RESIDENT[0], "wrong-password-123")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "入力内容を確認してください" in summary.inner_text()
    assert "メールアドレスまたはパスワードが正しくありません" in summary.inner_text()
    assert page.title().startswith("エラー: ")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "error-summary"
    assert not _logged_in(page)
    assert_accessible(page)
    # The summary links to the field to correct.
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement && document.activeElement.id") == "id_email"


def test_forgotten_password_is_reset_by_mail(page: Any, demo_ward: None, live_server: Any) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_role("link", name="パスワードをお忘れの方").click()
    page.wait_for_url("**/accounts/password/reset/")
    assert_accessible(page)
    page.get_by_role("button", name="再設定のメールを送る").click()  # empty: error summary
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page)
    page.get_by_label("メールアドレス", exact=True).fill(RESIDENT[0])
    page.get_by_role("button", name="再設定のメールを送る").click()
    page.wait_for_url("**/accounts/password/reset/sent/")
    assert_accessible(page)

    page.goto(_mailed_link("/accounts/password/reset/"))
    page.wait_for_url("**/set-password/")
    assert_accessible(page)
    page.get_by_label("新しいパスワード", exact=True).fill("password")
    page.get_by_label("パスワード（確認のため、もう一度）").fill("password")
    page.get_by_role("button", name="パスワードを設定する").click()
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page)
    page.get_by_label("新しいパスワード", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("パスワード（確認のため、もう一度）").fill(NEW_PASSWORD)
    page.get_by_role("button", name="パスワードを設定する").click()
    page.wait_for_url("**/accounts/password/reset/complete/")
    assert_accessible(page)
    page.get_by_role("link", name="ログインする").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("メールアドレス", exact=True).fill(RESIDENT[0])
    page.get_by_label("パスワード", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    assert _logged_in(page)
    assert_accessible(page)
