"""Staff login: password then TOTP when STAFF_REQUIRE_2FA is set, the staff_required
decorator, django-axes lockout, and audit records."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts import twofactor
from madoguchi.accounts.decorators import staff_required, staff_roles_for
from madoguchi.accounts.tests.factories import PASSWORD, StaffFactory, StaffRoleFactory, UserFactory
from madoguchi.core.models import AuditEvent, Department, StaffRole, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def require_2fa(settings: Any) -> None:
    settings.STAFF_REQUIRE_2FA = True


def _enrolled_staff() -> tuple[User, str]:
    secret = pyotp.random_base32()
    staff = StaffFactory(totp_secret=secret, totp_confirmed_at=timezone.now())
    return staff, secret


def _password_step(client: Client, user: User, url: str = "accounts:staff_login", **extra: str) -> Any:
    return client.post(reverse(url), {"email": user.email, "password": PASSWORD, **extra})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# -- enrolment -------------------------------------------------------------------------
def test_staff_without_totp_must_enrol_before_being_logged_in(client: Client, require_2fa: None) -> None:
    staff = StaffFactory()
    response = _password_step(client, staff, next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:staff_totp")
    assert not _logged_in(client)
    assert client.get(reverse("accounts:staff_totp"))["Location"] == reverse("accounts:staff_totp_setup")

    page = client.get(reverse("accounts:staff_totp_setup"))
    html = page.content.decode()
    assert "<svg" in html and 'class="totp-qr"' in html
    secret = client.session[twofactor.PENDING_SESSION_KEY]["enrol_secret"]
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in html  # the secret as text, for screen readers and manual entry
    assert 'autocomplete="one-time-code"' in html
    assert not _logged_in(client)

    response = client.post(reverse("accounts:staff_totp_setup"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert _logged_in(client)
    staff.refresh_from_db()
    assert staff.totp_secret == secret
    assert staff.totp_confirmed_at is not None
    assert AuditEvent.objects.filter(action="accounts.staff_totp_enrolled", actor=staff).exists()
    event = AuditEvent.objects.get(action="accounts.staff_login", actor=staff)
    assert event.data == {"method": "password+totp", "two_factor": True}


def test_wrong_code_during_enrolment_does_not_save_the_secret(client: Client, require_2fa: None) -> None:
    staff = StaffFactory()
    _password_step(client, staff)
    client.get(reverse("accounts:staff_totp_setup"))
    response = client.post(reverse("accounts:staff_totp_setup"), {"code": "000000"})
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    staff.refresh_from_db()
    assert staff.totp_confirmed_at is None
    assert not _logged_in(client)
    assert AuditEvent.objects.filter(action="accounts.staff_totp_failed", actor=staff).count() == 1


# -- every login -----------------------------------------------------------------------
def test_enrolled_staff_needs_a_valid_code_after_the_password(client: Client, require_2fa: None) -> None:
    staff, secret = _enrolled_staff()
    response = _password_step(client, staff, url="accounts:login")  # the shared login page works too
    assert response["Location"] == reverse("accounts:staff_totp")
    assert not _logged_in(client)

    wrong = client.post(
        reverse("accounts:staff_totp"), {"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"}
    )
    assert wrong.status_code == 200
    html = wrong.content.decode()
    assert "入力内容を確認してください" in html and 'href="#id_code"' in html
    assert not _logged_in(client)
    assert AuditEvent.objects.filter(action="accounts.staff_totp_failed", actor=staff).exists()

    malformed = client.post(reverse("accounts:staff_totp"), {"code": "12ab"})
    assert "6桁の数字" in malformed.content.decode()

    response = client.post(reverse("accounts:staff_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert _logged_in(client)
    assert client.session[twofactor.VERIFIED_SESSION_KEY] is True
    assert AuditEvent.objects.filter(action="accounts.staff_login", actor=staff).exists()


def test_full_width_digits_are_accepted(client: Client, require_2fa: None) -> None:
    staff, secret = _enrolled_staff()
    _password_step(client, staff)
    code = pyotp.TOTP(secret).now().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.post(reverse("accounts:staff_totp"), {"code": code}).status_code == 302
    assert _logged_in(client)


def test_a_code_cannot_be_used_twice(client: Client, require_2fa: None) -> None:
    staff, secret = _enrolled_staff()
    code = pyotp.TOTP(secret).now()
    _password_step(client, staff)
    assert client.post(reverse("accounts:staff_totp"), {"code": code}).status_code == 302
    client.post(reverse("accounts:logout"))
    _password_step(client, staff)
    response = client.post(reverse("accounts:staff_totp"), {"code": code})
    assert response.status_code == 200
    assert not _logged_in(client)


def test_five_wrong_codes_end_the_pending_login_and_lock_out(client: Client, require_2fa: None) -> None:
    staff, secret = _enrolled_staff()
    _password_step(client, staff)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for _ in range(4):
        assert client.post(reverse("accounts:staff_totp"), {"code": wrong}).status_code == 200
    response = client.post(reverse("accounts:staff_totp"), {"code": wrong})
    assert response.status_code == 429  # django-axes counted the wrong codes
    assert twofactor.PENDING_SESSION_KEY not in client.session
    response = client.post(reverse("accounts:staff_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == reverse("accounts:staff_login")
    assert not _logged_in(client)


def test_without_2fa_requirement_staff_logs_in_with_password(client: Client) -> None:
    staff = StaffFactory()
    response = _password_step(client, staff)
    assert response.status_code == 302
    assert _logged_in(client)
    assert AuditEvent.objects.get(action="accounts.staff_login", actor=staff).data["two_factor"] is False


def test_resident_is_refused_on_the_staff_login_page(client: Client) -> None:
    resident = UserFactory()
    response = _password_step(client, resident)
    assert response.status_code == 200
    assert "職員のアカウントではありません" in response.content.decode()
    assert not _logged_in(client)


def test_staff_logout_is_audited(client: Client) -> None:
    staff = StaffFactory()
    _password_step(client, staff)
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action="accounts.staff_logout", actor=staff).exists()


# -- staff_required --------------------------------------------------------------------
@staff_required
def _protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@staff_required(role="kacho", department="kumin")
def _kacho_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def _request(user: Any, verified: bool = False) -> HttpRequest:
    request = RequestFactory().get("/staff/cases/")
    request.user = user
    request.session = SessionStore()
    if verified:
        request.session[twofactor.VERIFIED_SESSION_KEY] = True
    return request


def test_resident_cannot_pass_staff_required() -> None:
    with pytest.raises(PermissionDenied):
        _protected(_request(UserFactory()))


def test_anonymous_is_sent_to_the_staff_login() -> None:
    response = _protected(_request(AnonymousUser()))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:staff_login") + "?next=")


def test_staff_passes_without_2fa_requirement() -> None:
    assert _protected(_request(StaffFactory())).status_code == 200


def test_staff_without_totp_session_cannot_pass_when_2fa_is_required(require_2fa: None) -> None:
    staff, _ = _enrolled_staff()
    assert _protected(_request(staff)).status_code == 302
    assert _protected(_request(staff, verified=True)).status_code == 200


def test_role_requirement_uses_staff_roles() -> None:
    kumin, _ = Department.objects.get_or_create(code="kumin", defaults={"name": "区民課"})
    tanto = StaffRoleFactory(department=kumin, role=StaffRole.Role.TANTO).user
    kacho = StaffRoleFactory(department=kumin, role=StaffRole.Role.ADMIN).user
    elsewhere = StaffRoleFactory(role=StaffRole.Role.KACHO).user
    with pytest.raises(PermissionDenied):
        _kacho_only(_request(tanto))
    with pytest.raises(PermissionDenied):
        _kacho_only(_request(elsewhere))
    assert _kacho_only(_request(kacho)).status_code == 200
    assert [r.department.code for r in staff_roles_for(kacho)] == ["kumin"]
    assert staff_roles_for(UserFactory()) == []


# -- django-axes -----------------------------------------------------------------------
def test_five_failed_logins_lock_the_account_for_this_address(client: Client) -> None:
    user = UserFactory()
    for _ in range(4):
        response = client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong-password"})
    assert response.status_code == 429
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert not _logged_in(client)
    html = response.content.decode()
    assert "ログインを一時的に停止しています" in html
    assert re.search(r"15分ほど時間をおいてから", html)
    # Another account from the same address is not locked (username + IP).
    other = UserFactory()
    assert client.post(reverse("accounts:login"), {"email": other.email, "password": PASSWORD}).status_code == 302


def test_wrong_totp_codes_count_towards_the_lockout(client: Client, require_2fa: None) -> None:
    staff, secret = _enrolled_staff()
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    _password_step(client, staff)
    for _ in range(4):
        assert client.post(reverse("accounts:staff_totp"), {"code": wrong}).status_code == 200
    response = client.post(reverse("accounts:staff_login"), {"email": staff.email, "password": "wrong-password"})
    assert response.status_code == 429
    assert _password_step(client, staff).status_code == 429
