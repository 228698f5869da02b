"""What the appointments app adds to other apps' pages through their hooks."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from madoguchi.catalog.models import Procedure
from madoguchi.core.models import User
from madoguchi.portal.hooks import HomeSection


def appointment_action(procedure: Procedure) -> Sequence[tuple[str, str]]:
    """「窓口の来庁予約をする」 on the page of a procedure some counter takes bookings for."""
    from madoguchi.appointments.selectors import procedure_is_bookable

    if not procedure.active or not procedure_is_bookable(procedure):
        return []
    return [(_("窓口の来庁予約をする"), reverse("appointments:book", args=[procedure.code]))]


PORTAL_UPCOMING = 3


def portal_section(user: User) -> HomeSection:
    """「窓口・施設の予約」 on the portal's home page: the resident's next counter
    appointments (「到着しました」 on the day is on each appointment's page), links to
    book, and the facility reservations' own page when that app is installed."""
    from madoguchi.appointments import clock
    from madoguchi.appointments.selectors import appointment_upcoming_for_resident

    now = clock.now()
    upcoming = appointment_upcoming_for_resident(user, now=now)
    return HomeSection(
        key="appointments",
        title=_("窓口・施設の予約"),
        template="appointments/portal_section.html",
        context={
            "upcoming": upcoming[:PORTAL_UPCOMING],
            "more": max(len(upcoming) - PORTAL_UPCOMING, 0),
            "today": clock.today(now),
            "reservations_url": _url_or_blank("reservations:my_reservations"),
            "facilities_url": _url_or_blank("reservations:index"),
        },
    )


def _url_or_blank(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""
