from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "madoguchi.integrations"
    label = "integrations"
    verbose_name = _("基幹系との連携")

    def ready(self) -> None:
        from madoguchi.applications.services import application_status_changed, application_submitted
        from madoguchi.integrations import services

        application_submitted.connect(
            services.on_application_submitted, dispatch_uid="integrations.webhooks.application_submitted"
        )
        application_status_changed.connect(
            services.on_application_status_changed, dispatch_uid="integrations.webhooks.application_status_changed"
        )
