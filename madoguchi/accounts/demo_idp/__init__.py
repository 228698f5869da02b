"""A small OpenID Provider inside madoguchi that stands in for デジタル認証アプリ.

Endpoints (under ``/accounts/demo-idp/``, only while ``"demo"`` is in
``settings.IDENTITY_PROVIDERS``):

- ``authorize/``: the authorization endpoint. Checks ``client_id`` and
  ``redirect_uri`` (errors there are shown, never redirected), then requires
  ``response_type=code``, the ``openid`` scope, ``state``, ``nonce`` and a PKCE
  ``code_challenge`` with ``code_challenge_method=S256``. The page plays the My
  Number Card app: the person picks a resident from the registry (``core.Resident``)
  and consents to share 基本4情報, or cancels (``error=access_denied``).
- ``token/``: the token endpoint. Redeems a code once (a second use fails), within
  ``CODE_LIFETIME`` (60 s), for the same ``client_id`` and ``redirect_uri``, and only
  with the ``code_verifier`` whose S256 hash is the ``code_challenge``. Returns an RS256
  ID token with ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``nonce`` and the four
  attributes ``name``, ``address`` (object with ``formatted``), ``birthdate``, ``gender``.
- ``jwks/``: the public signing key. The RSA key is generated on first use and kept in
  the database (``accounts.DemoSigningKey``).
- ``.well-known/openid-configuration``: discovery metadata.

Codes are stored as SHA-256 hashes in ``accounts.DemoAuthorizationCode``.
"""
