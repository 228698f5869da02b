"""My page (the portal's home) lists the resident's next counter appointments and links
to book them and to the facility reservations, through ``portal.hooks``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from madoguchi.appointments.models import Counter
from madoguchi.appointments.services import appointment_book, appointment_cancel
from madoguchi.core.models import User
from madoguchi.portal import hooks

from .conftest import NOW, jst, slot_at

pytestmark = pytest.mark.django_db


def test_the_appointments_app_registers_its_section() -> None:
    assert any(section.key == "appointments" for section in hooks.home_sections_for(User(pk=0)))


def test_my_page_lists_the_residents_next_appointments_and_links_to_book(
    hanako_client: Client, hanako: User, ichiro: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    mine = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 26, 10)).pk, now=NOW)
    gone = appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, 11, 27, 10)).pk, now=NOW)
    appointment_cancel(appointment=gone, resident=hanako, now=NOW)
    theirs = appointment_book(resident=ichiro, slot_id=slot_at(counter, jst(2026, 11, 26, 13)).pk, now=NOW)
    page = hanako_client.get("/portal/").content.decode()
    assert 'id="appointments-heading"' in page and "窓口・施設の予約" in page
    assert f'href="/appointments/{mine.public_id}/"' in page and mine.reference in page
    assert "2026年11月26日（木） 10:00〜10:30" in page
    assert str(gone.public_id) not in page and str(theirs.public_id) not in page
    assert 'href="/appointments/"' in page
    assert 'href="/reservations/my/"' in page and 'href="/reservations/"' in page


def test_my_page_without_appointments_says_so_and_still_links_to_book(
    hanako_client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    page = hanako_client.get("/portal/").content.decode()
    assert "これからの窓口の予約はありません。" in page and 'href="/appointments/"' in page


def test_only_the_next_three_are_listed(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None], settings: object
) -> None:
    settings.APPOINTMENTS_MAX_FUTURE_BOOKINGS = 5  # type: ignore[attr-defined]
    for day in (26, 27, 30, 1):
        month = 12 if day == 1 else 11
        appointment_book(resident=hanako, slot_id=slot_at(counter, jst(2026, month, day, 10)).pk, now=NOW)
    page = hanako_client.get("/portal/").content.decode()
    assert "2026年11月30日" in page and "2026年12月1日" not in page
    assert "ほかに1件の予約があります。" in page
