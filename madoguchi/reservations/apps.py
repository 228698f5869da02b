from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReservationsConfig(AppConfig):
    name = "madoguchi.reservations"
    label = "reservations"
    verbose_name = _("施設予約・抽選・イベント")

    def ready(self) -> None:
        from django.core import checks

        # Importing this registers the payment hook (purpose "reservation").
        from madoguchi.reservations import hooks  # noqa: F401
        from madoguchi.reservations.checks import check_local_government_code

        checks.register(check_local_government_code)
