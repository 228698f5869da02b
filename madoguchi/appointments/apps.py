from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "madoguchi.appointments"
    label = "appointments"
    verbose_name = _("窓口予約・整理券")
