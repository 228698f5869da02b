"""Registering an address on an account made by a My Number Card login; the demo
provider's signing key; the guards that keep the demo provider out of production."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from madoguchi.accounts import services
from madoguchi.accounts.checks import identity_provider_checks
from madoguchi.accounts.demo_idp import keys
from madoguchi.accounts.identity.base import IdentityClaims
from madoguchi.accounts.models import DemoSigningKey
from madoguchi.accounts.tests.factories import ResidentFactory, UserFactory
from madoguchi.core.models import User

pytestmark = pytest.mark.django_db


def _card_account() -> User:
    resident = ResidentFactory()
    claims = IdentityClaims(
        provider="demo",
        subject="sub-1",
        name=resident.full_name,
        address=resident.household.address,
        birthdate=resident.birth_date,
        gender=resident.sex,
    )
    return services.identity_account_resolve(claims=claims)


def _link(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/verify/[^\s]+/)", message.body)
    assert match
    return match.group(1)


def test_card_account_registers_a_real_address_by_mail_link(client: Client) -> None:
    user = _card_account()
    assert user.email.endswith("@id.invalid")
    client.force_login(user)
    page = client.get(reverse("accounts:email_change") + "?next=/guide/")
    assert "メールアドレスの登録" in page.content.decode()
    assert 'href="/guide/"' in page.content.decode()  # "あとで登録する"

    response = client.post(reverse("accounts:email_change"), {"email": "hanako@example.jp"})
    assert response.status_code == 200
    assert mail.outbox[0].to == ["hanako@example.jp"]
    user.refresh_from_db()
    assert user.email.endswith("@id.invalid")  # not changed until the link is opened

    client.get(_link(mail.outbox[0]))
    user.refresh_from_db()
    assert user.email == "hanako@example.jp"
    assert user.email_verified_at is not None


def test_address_of_another_account_is_not_taken_over(client: Client) -> None:
    owner = UserFactory(email="owner@example.jp")
    user = _card_account()
    client.force_login(user)
    client.post(reverse("accounts:email_change"), {"email": "owner@example.jp"})
    assert mail.outbox[0].to == [owner.email]
    assert "既に登録されています" in mail.outbox[0].body
    # Even a link made for it earlier is refused once the address is taken.
    token = services.email_verification_token(user=user, email="late@example.jp")
    UserFactory(email="late@example.jp")
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email.endswith("@id.invalid")


def test_email_page_needs_login() -> None:
    response = Client().get(reverse("accounts:email_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_signing_key_is_generated_once_and_kept() -> None:
    assert DemoSigningKey.objects.count() == 0
    first = keys.jwks()["keys"][0]
    second = keys.jwks()["keys"][0]
    assert first == second
    assert first["kty"] == "RSA" and first["alg"] == "RS256" and "d" not in first
    assert DemoSigningKey.objects.count() == 1


def test_demo_provider_never_runs_in_production(client: Client, settings: Any) -> None:
    settings.MADOGUCHI_ENV = "production"
    settings.IDENTITY_PROVIDERS = ["demo"]
    assert client.get(reverse("accounts:demo_idp_jwks")).status_code == 404
    assert client.get(reverse("accounts:identity_start", args=["demo"])).status_code == 503
    assert [m.id for m in identity_provider_checks()] == ["accounts.E001", "accounts.W001"]


def test_checks_report_unconfigured_oidc(settings: Any) -> None:
    settings.IDENTITY_PROVIDERS = ["oidc"]
    settings.OIDC_ISSUER = ""
    assert [m.id for m in identity_provider_checks()] == ["accounts.E002"]
    settings.IDENTITY_PROVIDERS = ["demo"]
    assert identity_provider_checks() == []
