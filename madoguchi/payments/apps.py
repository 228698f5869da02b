from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "madoguchi.payments"
    label = "payments"
    verbose_name = _("手数料の支払い")

    def ready(self) -> None:
        # Importing the plugin modules registers them (``@register("...")``).
        from madoguchi.payments.providers import sandbox  # noqa: F401
