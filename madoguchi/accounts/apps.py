from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "madoguchi.accounts"
    label = "accounts"
    verbose_name = _("アカウントと認証")

    def ready(self) -> None:
        # Importing the plugin modules registers them (``@register("...")``).
        from madoguchi.accounts import checks, signals  # noqa: F401
        from madoguchi.accounts.identity import demo, oidc  # noqa: F401
