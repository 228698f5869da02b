from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "madoguchi.appointments"
    label = "appointments"
    verbose_name = _("窓口予約・整理券")

    def ready(self) -> None:
        from madoguchi.appointments.hooks import appointment_action
        from madoguchi.catalog import hooks as catalog_hooks

        # A procedure that can be booked at a counter gets 「窓口の来庁予約をする」.
        catalog_hooks.add_procedure_action_provider(appointment_action)
