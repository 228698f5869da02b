from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "madoguchi.payments"
    label = "payments"
    verbose_name = _("手数料の支払い")
