from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "madoguchi.integrations"
    label = "integrations"
    verbose_name = _("基幹系との連携")
