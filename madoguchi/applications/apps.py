from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "madoguchi.applications"
    label = "applications"
    verbose_name = _("オンライン申請")

    def ready(self) -> None:
        # Importing these registers the prefill plugins and the payment hook.
        from madoguchi.applications import hooks  # noqa: F401
        from madoguchi.applications.prefill import account, previous, resident  # noqa: F401
        from madoguchi.applications.selectors import application_list_for_applicant, online_application_action
        from madoguchi.catalog import hooks as catalog_hooks
        from madoguchi.portal import hooks as portal_hooks

        catalog_hooks.add_procedure_action_provider(online_application_action)
        # The portal's home page lists the resident's latest applications.
        portal_hooks.set_applications_provider(lambda user: list(application_list_for_applicant(user=user)[:5]))
