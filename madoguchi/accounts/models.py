"""Accounts keeps accounts in ``core.User``; its own tables belong to the demo OpenID
Provider (``madoguchi.accounts.demo_idp``): the signing key and issued codes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DemoSigningKey(models.Model):
    """The demo provider's RSA private key (PEM), generated once on first use."""

    kid = models.CharField(_("鍵ID"), max_length=64, unique=True)
    private_key_pem = models.TextField(_("秘密鍵（PEM）"))
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)

    class Meta:
        verbose_name = _("デモ認証サーバーの署名鍵")
        verbose_name_plural = _("デモ認証サーバーの署名鍵")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.kid


class DemoAuthorizationCode(models.Model):
    """An authorization code issued by the demo provider. Only its hash is stored;
    ``used_at`` makes it single-use."""

    code_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=100)
    redirect_uri = models.CharField(max_length=500)
    scope = models.CharField(max_length=200)
    nonce = models.CharField(max_length=200)
    code_challenge = models.CharField(max_length=128)
    resident = models.ForeignKey("core.Resident", on_delete=models.CASCADE, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("デモ認証サーバーの認可コード")
        verbose_name_plural = _("デモ認証サーバーの認可コード")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.issued_at:%Y-%m-%d %H:%M:%S}"
