"""What the appointments app adds to other apps' pages through their hooks."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.catalog.models import Procedure


def appointment_action(procedure: Procedure) -> Sequence[tuple[str, str]]:
    """「窓口の来庁予約をする」 on the page of a procedure some counter takes bookings for."""
    from madoguchi.appointments.selectors import procedure_is_bookable

    if not procedure.active or not procedure_is_bookable(procedure):
        return []
    return [(_("窓口の来庁予約をする"), reverse("appointments:book", args=[procedure.code]))]
