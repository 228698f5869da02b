"""Identity-provider plugins (OpenID Connect authorization code + PKCE).

``base.py`` is the contract, ``registry.py`` the registry, ``oidc.py`` the generic
client for any OpenID Provider (デジタル認証アプリ in production) and ``demo.py`` the
offline default, which talks to the demo authorization server in
``madoguchi.accounts.demo_idp`` through the same client code.
"""
