"""The demo identity provider: the default, and it works offline.

It is the generic OIDC client (``oidc.py``) pointed at the demo authorization server
that runs inside madoguchi (``madoguchi.accounts.demo_idp``, under
``/accounts/demo-idp/``). That server plays the part of デジタル認証アプリ: the person
picks one of the residents in the registry as "their" My Number Card and consents to
share 基本4情報. Only the endpoint URLs differ from a real provider, so the demo
exercises the same authorization request, server-to-server token request, JWKS fetch
and ID token validation as production.

The endpoints are built from the host of the current request, so the server must be
able to reach itself at that address, and it must serve at least two requests at once
(the callback waits for the token request).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.demo_idp import endpoints
from madoguchi.accounts.identity.base import IdentityConfigurationError
from madoguchi.accounts.identity.oidc import OIDCConfig, OIDCProvider
from madoguchi.accounts.identity.registry import register


@register("demo")
class DemoProvider(OIDCProvider):
    verbose_name = _("マイナンバーカードでログイン（デジタル認証アプリ）")
    description = _(
        "デモ環境のため、実際のマイナンバーカードやデジタル認証アプリは使いません。"
        "デモ用の認証画面で、住民記録に登録された人を選んでログインします。"
    )

    def get_config(self, request: HttpRequest) -> OIDCConfig:
        if not endpoints.demo_allowed():
            raise IdentityConfigurationError("the demo identity provider never runs in production")
        return OIDCConfig(
            issuer=endpoints.issuer(request),
            authorization_endpoint=endpoints.absolute(request, "accounts:demo_idp_authorize"),
            token_endpoint=endpoints.absolute(request, "accounts:demo_idp_token"),
            jwks_uri=endpoints.absolute(request, "accounts:demo_idp_jwks"),
            client_id=endpoints.DEMO_CLIENT_ID,
        )
