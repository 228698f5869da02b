"""The generic OIDC client's ID token checks, the plugin registry, PKCE, and matching
claims with the resident registry (no network: the JWKS fetch is replaced)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import RequestFactory
from jwt.algorithms import RSAAlgorithm

from madoguchi.accounts import services
from madoguchi.accounts.identity.base import IdentityClaims, IdentityProvider, IdentityTokenError
from madoguchi.accounts.identity.oidc import OIDCConfig, OIDCProvider, claims_from_id_token
from madoguchi.accounts.identity.pkce import code_challenge_s256, verify_s256
from madoguchi.accounts.identity.registry import Registry, register
from madoguchi.accounts.tests.factories import HouseholdFactory, ResidentFactory, StaffFactory, UserFactory

ISSUER = "https://auth.example.jp/"
CLIENT = "madoguchi-test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StubProvider(OIDCProvider):
    def fetch_jwks(self, config: OIDCConfig, *, refresh: bool = False) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}


CONFIG = OIDCConfig(
    issuer=ISSUER,
    authorization_endpoint=ISSUER + "auth",
    token_endpoint=ISSUER + "token",
    jwks_uri=ISSUER + "jwks",
    client_id=CLIENT,
)


def _token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "abc", "aud": CLIENT, "iat": now, "exp": now + 300, "nonce": "n-1"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_valid_id_token_is_accepted() -> None:
    payload = StubProvider("stub").validate_id_token(CONFIG, _token(), nonce="n-1")
    assert payload["sub"] == "abc"


@pytest.mark.parametrize(
    ("token_kwargs", "nonce"),
    [
        ({}, "other-nonce"),
        ({"nonce": None}, "n-1"),
        ({"aud": "another-client"}, "n-1"),
        ({"iss": "https://evil.example/"}, "n-1"),
        ({"exp": int(time.time()) - 3600}, "n-1"),
        ({"key": OTHER_KEY}, "n-1"),
        ({"kid": "unknown"}, "n-1"),
        ({"aud": [CLIENT, "other"]}, "n-1"),
        ({"sub": None}, "n-1"),
    ],
    ids=["nonce", "no-nonce", "aud", "iss", "expired", "signature", "kid", "azp", "no-sub"],
)
def test_bad_id_tokens_are_rejected(token_kwargs: dict[str, Any], nonce: str) -> None:
    with pytest.raises(IdentityTokenError):
        StubProvider("stub").validate_id_token(CONFIG, _token(**token_kwargs), nonce=nonce)


def test_unsigned_token_is_rejected() -> None:
    token = jwt.encode({"iss": ISSUER, "sub": "a", "aud": CLIENT, "nonce": "n-1"}, key=None, algorithm="none")
    with pytest.raises(IdentityTokenError):
        StubProvider("stub").validate_id_token(CONFIG, token, nonce="n-1")


def test_hmac_token_signed_with_public_key_is_rejected() -> None:
    token = jwt.encode({"iss": ISSUER, "sub": "a", "aud": CLIENT, "nonce": "n-1"}, "x" * 32, algorithm="HS256")
    with pytest.raises(IdentityTokenError):
        StubProvider("stub").validate_id_token(CONFIG, token, nonce="n-1")


def test_authorization_url_carries_pkce_state_nonce_and_basic_four_scopes(settings: Any) -> None:
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_AUTHORIZATION_ENDPOINT = ISSUER + "auth?realm=main"
    settings.OIDC_TOKEN_ENDPOINT = ISSUER + "token"
    settings.OIDC_JWKS_URI = ISSUER + "jwks"
    settings.OIDC_CLIENT_ID = CLIENT
    request = RequestFactory().get("/")
    url = register["oidc"].authorization_url(request, "s", "n", "c" * 43, "https://ku.example.jp/cb/")
    assert url.startswith(ISSUER + "auth?realm=main&")
    for part in ("response_type=code", "state=s", "nonce=n", "code_challenge_method=S256", f"client_id={CLIENT}"):
        assert part in url
    assert "scope=openid+name+address+birthdate+gender" in url


def test_claims_are_read_from_strings_or_address_objects() -> None:
    claims = claims_from_id_token(
        "x",
        {
            "sub": "1",
            "name": "山田 花子",
            "address": {"formatted": "東京都デモ区1-2-3"},
            "birthdate": "1990-04-01",
            "gender": "2",
        },
    )
    assert claims.address == "東京都デモ区1-2-3"
    assert claims.birthdate == dt.date(1990, 4, 1)
    assert claims.gender == "female"
    assert claims_from_id_token("x", {"sub": "1", "gender": "male", "birthdate": "bad"}).birthdate is None


def test_registry_rejects_duplicate_ids_and_lists_enabled_in_order(settings: Any) -> None:
    registry = Registry()

    @registry("alpha")
    class Alpha(StubProvider):
        pass

    @registry("beta")
    class Beta(StubProvider):
        pass

    with pytest.raises(ValueError, match="already registered"):

        @registry("alpha")
        class Again(StubProvider):
            pass

    assert isinstance(registry["alpha"], Alpha)
    assert registry["alpha"].identifier == "alpha"
    settings.IDENTITY_PROVIDERS = ["beta", "missing", "alpha"]
    assert [p.identifier for p in registry.enabled()] == ["beta", "alpha"]
    settings.IDENTITY_PROVIDERS = ["alpha"]
    with pytest.raises(KeyError):
        registry.get_enabled("beta")


def test_builtin_providers_are_registered_and_demo_is_the_default(settings: Any) -> None:
    assert {"demo", "oidc"} <= {p.identifier for p in register}
    assert all(isinstance(p, IdentityProvider) for p in register)
    settings.IDENTITY_PROVIDERS = ["demo"]
    assert [p.identifier for p in register.enabled()] == ["demo"]


def test_pkce_s256_matches_rfc7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert verify_s256(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not verify_s256(verifier[:-1] + "l", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not verify_s256("short", code_challenge_s256("short"))


# -- matching claims with the registry -------------------------------------------------
def _claims(resident: Any, **overrides: Any) -> IdentityClaims:
    values = {
        "provider": "demo",
        "subject": "s",
        "name": f"{resident.family_name}　{resident.given_name}",
        "address": resident.household.address,
        "birthdate": resident.birth_date,
        "gender": resident.sex,
    }
    values.update(overrides)
    return IdentityClaims(**values)


@pytest.mark.django_db
def test_claims_match_despite_width_space_and_dash_differences() -> None:
    household = HouseholdFactory(address="東京都デモ区桜町1丁目2-3 サクラハイツ101")
    resident = ResidentFactory(household=household)
    claims = _claims(
        resident, address="東京都デモ区桜町１丁目２－３　サクラハイツ１０１", name="山田" + resident.given_name
    )
    user = services.identity_account_resolve(claims=claims)
    assert user.resident_id == resident.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "override",
    [
        {"name": "山田 別人"},
        {"address": "東京都よその区1-1-1"},
        {"birthdate": dt.date(1900, 1, 1)},
        {"gender": "male"},
    ],
    ids=["name", "address", "birthdate", "gender"],
)
def test_any_mismatch_in_basic_four_is_refused(override: dict[str, Any]) -> None:
    resident = ResidentFactory()
    with pytest.raises(services.IdentityMatchError) as excinfo:
        services.identity_account_resolve(claims=_claims(resident, **override))
    assert excinfo.value.code == "no_match"


@pytest.mark.django_db
def test_claims_without_basic_four_are_refused() -> None:
    resident = ResidentFactory()
    with pytest.raises(services.IdentityMatchError) as excinfo:
        services.identity_account_resolve(claims=_claims(resident, address=""))
    assert excinfo.value.code == "incomplete"


@pytest.mark.django_db
def test_two_identical_registry_entries_are_refused_as_ambiguous() -> None:
    household = HouseholdFactory()
    first = ResidentFactory(household=household, given_name="花子", birth_date=dt.date(1990, 1, 1))
    ResidentFactory(household=household, given_name="花子", birth_date=dt.date(1990, 1, 1))
    with pytest.raises(services.IdentityMatchError) as excinfo:
        services.identity_account_resolve(claims=_claims(first))
    assert excinfo.value.code == "ambiguous"


@pytest.mark.django_db
def test_logged_in_account_of_someone_else_is_not_relinked() -> None:
    resident = ResidentFactory()
    other = UserFactory(resident=ResidentFactory())
    with pytest.raises(services.IdentityMatchError) as excinfo:
        services.identity_account_resolve(claims=_claims(resident), current_user=other)
    assert excinfo.value.code == "other_resident"
    staff = StaffFactory()
    with pytest.raises(services.IdentityMatchError):
        services.identity_account_resolve(claims=_claims(resident), current_user=staff)
