"""The whole My Number Card login against the demo OpenID Provider, through a real
HTTP server: the callback's token request and JWKS fetch are server-to-server calls
from the relying party to ``live_server``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.demo_idp import endpoints
from madoguchi.accounts.identity.pkce import code_challenge_s256, new_code_verifier
from madoguchi.accounts.identity.session import SESSION_KEY
from madoguchi.accounts.models import DemoAuthorizationCode
from madoguchi.accounts.tests.factories import ResidentFactory, StaffFactory, UserFactory
from madoguchi.core.models import AuditEvent, Resident, User

pytestmark = pytest.mark.django_db(transaction=True)


class Browser:
    """The test client, sending every request to the live server's host name so that
    the URLs the app builds (redirect_uri, token endpoint) point at the live server."""

    def __init__(self, client: Client, live_server: Any) -> None:
        self.client = client
        self.host = urlsplit(live_server.url).netloc

    def get(self, url: str, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if parts.netloc:
            assert parts.netloc == self.host, url
        return self.client.get(parts.path + (f"?{parts.query}" if parts.query else ""), HTTP_HOST=self.host, **kwargs)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, HTTP_HOST=self.host)


@pytest.fixture
def browser(client: Client, live_server: Any) -> Browser:
    return Browser(client, live_server)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _consent(browser: Browser, resident: Resident, provider: str = "demo", decision: str = "allow") -> str:
    """Start the login and consent at the demo provider; return the callback URL."""
    start = browser.get(reverse("accounts:identity_start", args=[provider]) + "?next=/guide/")
    assert start.status_code == 302
    authorize_url = start["Location"]
    params = _query(authorize_url)
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert set(params["scope"].split()) == {"openid", "name", "address", "birthdate", "gender"}
    assert params["state"] and params["nonce"]

    page = browser.get(authorize_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "マイナンバーカード" in html and resident.full_name in html

    answer = browser.post(urlsplit(authorize_url).path, {**params, "resident": resident.pk, "decision": decision})
    assert answer.status_code == 302
    callback = answer["Location"]
    assert urlsplit(callback).path == reverse("accounts:identity_callback", args=[provider])
    assert _query(callback)["state"] == params["state"]
    return str(callback)


def _logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_my_number_card_login_creates_account_linked_to_resident(browser: Browser) -> None:
    resident = ResidentFactory()
    callback = _consent(browser, resident)
    response = browser.get(callback)
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(resident=resident)
    assert _logged_in_user_id(browser.client) == str(user.pk)
    assert user.kind == User.Kind.RESIDENT
    assert user.email.endswith("@id.invalid")
    assert not user.has_usable_password()
    # An account without a real address is asked for one (and may skip).
    assert response["Location"].startswith(reverse("accounts:email_change"))
    assert AuditEvent.objects.filter(action="accounts.identity_account_created", actor=user).exists()
    login_event = AuditEvent.objects.get(action="accounts.login", actor=user)
    assert login_event.data["method"] == "identity:demo"


def test_second_login_uses_the_same_account(browser: Browser) -> None:
    resident = ResidentFactory()
    browser.get(_consent(browser, resident))
    first = User.objects.get(resident=resident)
    browser.client.logout()
    response = browser.get(_consent(browser, resident))
    assert response.status_code == 302
    assert _logged_in_user_id(browser.client) == str(first.pk)
    assert User.objects.filter(resident=resident).count() == 1


def test_existing_account_of_the_resident_is_logged_in_and_sent_to_next(browser: Browser) -> None:
    resident = ResidentFactory()
    account = UserFactory(resident=resident)
    response = browser.get(_consent(browser, resident))
    assert response.status_code == 302
    assert response["Location"] == "/guide/"
    assert _logged_in_user_id(browser.client) == str(account.pk)


def test_logged_in_email_account_is_linked_to_the_resident(browser: Browser) -> None:
    resident = ResidentFactory()
    account = UserFactory(resident=None)
    browser.client.force_login(account)
    response = browser.get(_consent(browser, resident))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.resident_id == resident.pk
    assert AuditEvent.objects.filter(action="accounts.identity_linked", actor=account).exists()


def test_wrong_state_is_refused(browser: Browser) -> None:
    resident = ResidentFactory()
    callback = _consent(browser, resident)
    params = _query(callback)
    params["state"] = params["state"][:-2] + "xx"
    response = browser.get(reverse("accounts:identity_callback", args=["demo"]) + "?" + urlencode(params))
    assert response.status_code == 400
    assert "ログインの手続きを確認できませんでした" in response.content.decode()
    assert _logged_in_user_id(browser.client) is None
    assert not User.objects.filter(resident=resident).exists()
    # The code was not even redeemed: the relying party stopped at the state check.
    assert DemoAuthorizationCode.objects.get().used_at is None


def test_callback_cannot_be_replayed(browser: Browser) -> None:
    resident = ResidentFactory()
    callback = _consent(browser, resident)
    assert browser.get(callback).status_code == 302
    assert _query(callback)["state"] not in browser.client.session.get(SESSION_KEY, {})
    response = browser.get(callback)
    assert response.status_code == 400
    assert "ログインの手続きを確認できませんでした" in response.content.decode()
    browser.client.logout()
    assert browser.get(callback).status_code == 400
    assert _logged_in_user_id(browser.client) is None


def test_wrong_code_verifier_is_refused(browser: Browser) -> None:
    resident = ResidentFactory()
    callback = _consent(browser, resident)
    session = browser.client.session
    flows = session[SESSION_KEY]
    flows[_query(callback)["state"]]["code_verifier"] = new_code_verifier()
    session[SESSION_KEY] = flows
    session.save()
    response = browser.get(callback)
    assert response.status_code == 400
    assert "ログインできませんでした" in response.content.decode()
    assert _logged_in_user_id(browser.client) is None
    assert not User.objects.filter(resident=resident).exists()


def test_reused_code_is_refused(browser: Browser) -> None:
    resident = ResidentFactory()
    first_callback = _consent(browser, resident)
    assert browser.get(first_callback).status_code == 302
    browser.client.logout()
    # A new login, but the attacker swaps in the code that was already redeemed.
    second_callback = _consent(browser, resident)
    params = _query(second_callback)
    params["code"] = _query(first_callback)["code"]
    response = browser.get(reverse("accounts:identity_callback", args=["demo"]) + "?" + urlencode(params))
    assert response.status_code == 400
    assert _logged_in_user_id(browser.client) is None


def test_cancel_at_the_provider_shows_a_message(browser: Browser) -> None:
    resident = ResidentFactory()
    callback = _consent(browser, resident, decision="deny")
    assert _query(callback)["error"] == "access_denied"
    response = browser.get(callback)
    assert response.status_code == 400
    assert "操作が中止された" in response.content.decode()
    assert DemoAuthorizationCode.objects.count() == 0


def test_staff_account_cannot_log_in_with_my_number_card(browser: Browser) -> None:
    resident = ResidentFactory()
    StaffFactory(resident=resident)
    response = browser.get(_consent(browser, resident))
    assert response.status_code == 400
    assert "職員ログイン" in response.content.decode()
    assert _logged_in_user_id(browser.client) is None


def test_generic_oidc_plugin_logs_in_against_configured_endpoints(
    browser: Browser, live_server: Any, settings: Any
) -> None:
    base = live_server.url
    settings.IDENTITY_PROVIDERS = ["oidc"]
    settings.OIDC_ISSUER = f"{base}/accounts/demo-idp/"
    settings.OIDC_AUTHORIZATION_ENDPOINT = f"{base}/accounts/demo-idp/authorize/"
    settings.OIDC_TOKEN_ENDPOINT = f"{base}/accounts/demo-idp/token/"
    settings.OIDC_JWKS_URI = f"{base}/accounts/demo-idp/jwks/"
    settings.OIDC_CLIENT_ID = endpoints.DEMO_CLIENT_ID
    settings.IDENTITY_PROVIDERS = ["oidc", "demo"]  # the demo server must stay up
    resident = ResidentFactory()
    response = browser.get(_consent(browser, resident, provider="oidc"))
    assert response.status_code == 302
    assert User.objects.get(resident=resident).pk == int(_logged_in_user_id(browser.client) or 0)


def test_generic_oidc_plugin_rejects_token_from_another_issuer(
    browser: Browser, live_server: Any, settings: Any
) -> None:
    base = live_server.url
    settings.IDENTITY_PROVIDERS = ["oidc", "demo"]
    settings.OIDC_ISSUER = "https://auth.example.jp/"
    settings.OIDC_AUTHORIZATION_ENDPOINT = f"{base}/accounts/demo-idp/authorize/"
    settings.OIDC_TOKEN_ENDPOINT = f"{base}/accounts/demo-idp/token/"
    settings.OIDC_JWKS_URI = f"{base}/accounts/demo-idp/jwks/"
    settings.OIDC_CLIENT_ID = endpoints.DEMO_CLIENT_ID
    resident = ResidentFactory()
    response = browser.get(_consent(browser, resident, provider="oidc"))
    assert response.status_code == 400
    assert _logged_in_user_id(browser.client) is None


def test_unconfigured_oidc_plugin_says_it_is_unavailable(browser: Browser, settings: Any) -> None:
    settings.IDENTITY_PROVIDERS = ["oidc"]
    settings.OIDC_TOKEN_ENDPOINT = ""
    response = browser.get(reverse("accounts:identity_start", args=["oidc"]))
    assert response.status_code == 503
    assert "ご利用いただけません" in response.content.decode()


def test_disabled_provider_is_not_found(browser: Browser, settings: Any) -> None:
    settings.IDENTITY_PROVIDERS = []
    assert browser.get(reverse("accounts:identity_start", args=["demo"])).status_code == 404
    assert browser.get(reverse("accounts:demo_idp_jwks")).status_code == 404


# -- the demo provider's endpoints, spoken to directly ---------------------------------
def _authorize_params(browser: Browser, verifier: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": endpoints.DEMO_CLIENT_ID,
        "redirect_uri": f"http://{browser.host}{reverse('accounts:identity_callback', args=['demo'])}",
        "scope": "openid name address birthdate gender",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": code_challenge_s256(verifier),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return params


def _issue_code(browser: Browser, resident: Resident, verifier: str) -> tuple[str, dict[str, str]]:
    params = _authorize_params(browser, verifier)
    answer = browser.post(
        reverse("accounts:demo_idp_authorize"), {**params, "resident": resident.pk, "decision": "allow"}
    )
    return _query(answer["Location"])["code"], params


def _redeem(browser: Browser, code: str, params: dict[str, str], verifier: str) -> Any:
    return browser.post(
        reverse("accounts:demo_idp_token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "client_id": params["client_id"],
            "code_verifier": verifier,
        },
    )


def test_token_endpoint_issues_signed_id_token_with_basic_four(browser: Browser) -> None:
    resident = ResidentFactory(family_name="佐藤", given_name="花子")
    verifier = new_code_verifier()
    code, params = _issue_code(browser, resident, verifier)
    response = _redeem(browser, code, params, verifier)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    id_token = response.json()["id_token"]
    jwks = browser.get(reverse("accounts:demo_idp_jwks")).json()
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    claims = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=endpoints.DEMO_CLIENT_ID,
        issuer=f"http://{browser.host}/accounts/demo-idp/",
    )
    assert claims["nonce"] == "nonce-456"
    assert claims["name"] == "佐藤\u3000花子"
    assert claims["birthdate"] == resident.birth_date.isoformat()
    assert claims["gender"] == "female"
    assert claims["address"]["formatted"] == resident.household.address
    assert resident.resident_number not in id_token


def test_token_endpoint_refuses_wrong_verifier_and_then_burns_the_code(browser: Browser) -> None:
    resident = ResidentFactory()
    verifier = new_code_verifier()
    code, params = _issue_code(browser, resident, verifier)
    wrong = _redeem(browser, code, params, new_code_verifier())
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    again = _redeem(browser, code, params, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_token_endpoint_refuses_a_second_use_of_a_code(browser: Browser) -> None:
    resident = ResidentFactory()
    verifier = new_code_verifier()
    code, params = _issue_code(browser, resident, verifier)
    assert _redeem(browser, code, params, verifier).status_code == 200
    second = _redeem(browser, code, params, verifier)
    assert second.status_code == 400
    assert "already used" in second.json()["error_description"]


def test_token_endpoint_refuses_expired_code_and_other_redirect_uri(browser: Browser) -> None:
    resident = ResidentFactory()
    verifier = new_code_verifier()
    code, params = _issue_code(browser, resident, verifier)
    other = dict(params, redirect_uri=params["redirect_uri"].replace("/demo/", "/oidc/"))
    assert _redeem(browser, code, other, verifier).json()["error"] == "invalid_grant"

    code, params = _issue_code(browser, resident, verifier)
    row = DemoAuthorizationCode.objects.get(used_at__isnull=True)
    DemoAuthorizationCode.objects.filter(pk=row.pk).update(expires_at=row.issued_at)
    expired = _redeem(browser, code, params, verifier)
    assert expired.status_code == 400
    assert "expired" in expired.json()["error_description"]


def test_codes_expire_after_sixty_seconds(browser: Browser) -> None:
    resident = ResidentFactory()
    _issue_code(browser, resident, new_code_verifier())
    row = DemoAuthorizationCode.objects.get()
    assert (row.expires_at - row.issued_at).total_seconds() == 60


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"nonce": ""}, "invalid_request"),
        ({"state": ""}, "invalid_request"),
        ({"scope": "name address"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorize_refuses_requests_without_pkce_state_nonce_or_openid(
    browser: Browser, override: dict[str, str], error: str
) -> None:
    params = _authorize_params(browser, new_code_verifier(), **override)
    response = browser.get(reverse("accounts:demo_idp_authorize") + "?" + urlencode(params))
    assert response.status_code == 302
    assert _query(response["Location"])["error"] == error


@pytest.mark.parametrize(
    "override",
    [{"client_id": "someone-else"}, {"redirect_uri": "https://evil.example/callback/demo/"}],
)
def test_authorize_never_redirects_to_unknown_clients(browser: Browser, override: dict[str, str]) -> None:
    params = _authorize_params(browser, new_code_verifier(), **override)
    response = browser.get(reverse("accounts:demo_idp_authorize") + "?" + urlencode(params))
    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")


def test_discovery_document_points_at_the_endpoints(browser: Browser) -> None:
    doc = browser.get(reverse("accounts:demo_idp_discovery")).json()
    assert doc["issuer"] == f"http://{browser.host}/accounts/demo-idp/"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint"].endswith("/accounts/demo-idp/token/")
