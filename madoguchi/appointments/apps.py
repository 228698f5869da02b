from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "madoguchi.appointments"
    label = "appointments"
    verbose_name = _("窓口予約・整理券")

    def ready(self) -> None:
        from madoguchi.appointments.hooks import appointment_action, portal_section
        from madoguchi.catalog import hooks as catalog_hooks
        from madoguchi.portal import hooks as portal_hooks

        # A procedure that can be booked at a counter gets 「窓口の来庁予約をする」.
        catalog_hooks.add_procedure_action_provider(appointment_action)
        # My page lists the resident's next appointments and links to book.
        portal_hooks.add_home_section_provider("appointments", portal_section)
