"""The limit on anonymous queue tickets (``throttle``): per browser session and client
address (per account when logged in), over the limit a clear message, HTTP 429 and
no ticket; a kiosk paired by staff is not limited, and unpairing voids it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from madoguchi.appointments import throttle
from madoguchi.appointments.models import Counter, QueueTicket
from madoguchi.appointments.services import QueueError, ticket_client_keys_clear, ticket_issue
from madoguchi.core.models import AuditEvent, User

from .conftest import NOW, jst, make_counter

pytestmark = pytest.mark.django_db

LIMITED = "整理券を受け取れるのは1時間に3枚までです"


@pytest.fixture(autouse=True)
def _limit(settings: Any) -> None:
    settings.APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR = 3
    settings.APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR = 0


def _take(client: Client, counter: Counter, page: str = "take", **extra: Any) -> Any:
    url = f"/appointments/{page}/{counter.code}/"
    client.get(url, **extra)
    return client.post(url, **extra)


def _cancel_held(client: Client) -> None:
    """Let the phone page issue another one (it shows the held ticket otherwise)."""
    session = client.session
    session["appointments.tickets"] = []
    session.save()


def test_the_default_is_five_tickets_per_client_and_hour(settings: Any) -> None:
    del settings.APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR
    del settings.APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR
    assert throttle.tickets_per_client() == 5
    assert throttle.tickets_per_address() == 0


def test_the_phone_page_refuses_over_the_limit_with_429_and_creates_nothing(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(3):
        assert _take(client, counter).status_code == 302
        _cancel_held(client)
    before = QueueTicket.objects.count()
    audits = AuditEvent.objects.count()
    refused = _take(client, counter)
    page = refused.content.decode()
    assert refused.status_code == 429
    assert LIMITED in page and 'role="alert"' in page
    assert QueueTicket.objects.count() == before == 3
    assert AuditEvent.objects.count() == audits


def test_the_limit_is_per_browser_session_so_neighbours_on_one_address_are_not_blocked(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(3):
        _take(client, counter)
        _cancel_held(client)
    assert _take(client, counter).status_code == 429
    neighbour = Client()  # same address (127.0.0.1), another browser
    assert _take(neighbour, counter).status_code == 302
    assert QueueTicket.objects.count() == 4


def test_a_client_without_cookies_is_counted_by_its_address(
    counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    codes = []
    for _ in range(4):
        script = Client()  # a fresh cookie jar each time, POST only
        codes.append(script.post(f"/appointments/take/{counter.code}/").status_code)
    assert codes == [302, 302, 302, 429]


def test_the_limit_counts_across_counters_and_frees_up_after_an_hour(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    other = make_counter(code="test-other", prefix="U")
    _take(client, counter)
    _take(client, other)
    _cancel_held(client)
    _take(client, counter)
    _cancel_held(client)
    assert _take(client, other).status_code == 429
    frozen(NOW + dt.timedelta(minutes=61))
    assert _take(client, other).status_code == 302


def test_a_logged_in_resident_is_counted_by_account(
    hanako_client: Client, hanako: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(3):
        _take(hanako_client, counter)
        _cancel_held(hanako_client)
    other_browser = Client()
    other_browser.force_login(hanako)
    assert _take(other_browser, counter).status_code == 429


def test_an_unpaired_kiosk_is_limited_and_tells_staff_how_to_pair_it(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(3):
        assert _take(client, counter, "kiosk").status_code == 302
    refused = _take(client, counter, "kiosk")
    page = refused.content.decode()
    assert refused.status_code == 429 and LIMITED in page and "発券機の登録" in page
    assert QueueTicket.objects.count() == 3


def test_the_message_follows_the_chosen_language(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    for _ in range(3):
        _take(client, counter, "kiosk")
    refused = _take(client, counter, "kiosk", HTTP_ACCEPT_LANGUAGE="en")
    page = refused.content.decode()
    # The same refusal, made by the service in English, is the one on the page.
    other = throttle.TicketClient(key="k", address_key="a")
    for _ in range(3):
        ticket_issue(counter=counter, channel="kiosk", client=other, now=NOW)
    with translation.override("en"), pytest.raises(QueueError) as expected:
        ticket_issue(counter=counter, channel="kiosk", client=other, now=NOW)
    assert expected.value.code == "rate_limited"
    assert refused.status_code == 429 and '<html lang="en">' in page
    assert escape(expected.value.message) in page


def _pair(client: Client, staff: User, counter: Counter) -> None:
    client.force_login(staff)
    response = client.post(f"/appointments/staff/{counter.code}/kiosk/", {"action": "pair"})
    assert response.status_code == 302
    assert throttle.KIOSK_COOKIE in response.cookies
    # The kiosk stays paired after the staff member logs out (the test client's own
    # logout() would drop every cookie, so log out as the browser does).
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_a_kiosk_paired_by_staff_is_not_limited(
    client: Client, kumin_staff: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    _pair(client, kumin_staff, counter)
    for _ in range(8):
        assert client.post(f"/appointments/kiosk/{counter.code}/").status_code == 302
    assert QueueTicket.objects.filter(channel="kiosk").count() == 8
    assert AuditEvent.objects.filter(action="appointments.kiosk_paired", actor=kumin_staff).exists()
    # The pairing is for this counter only; its phone page stays limited.
    for _ in range(3):
        _take(client, counter)
        _cancel_held(client)
    assert _take(client, counter).status_code == 429


def test_unpairing_every_kiosk_of_the_counter_voids_earlier_pairings(
    client: Client, kumin_staff: User, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    _pair(client, kumin_staff, counter)
    staff = Client()
    staff.force_login(kumin_staff)
    staff.post(f"/appointments/staff/{counter.code}/kiosk/", {"action": "unpair_all"})
    counter.refresh_from_db()
    assert counter.kiosk_generation == 2
    codes = [client.post(f"/appointments/kiosk/{counter.code}/").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_a_forged_kiosk_cookie_counts_for_nothing(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    client.cookies[throttle.KIOSK_COOKIE] = '{"test-kumin": 1}'
    codes = [client.post(f"/appointments/kiosk/{counter.code}/").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_the_setup_page_shows_and_removes_this_devices_pairing(
    client: Client, kumin_staff: User, counter: Counter
) -> None:
    client.force_login(kumin_staff)
    url = f"/appointments/staff/{counter.code}/kiosk/"
    assert "この端末を発券機として登録する" in client.get(url).content.decode()
    client.post(url, {"action": "pair"})
    assert "この窓口の発券機として登録されています" in client.get(url).content.decode()
    client.post(url, {"action": "unpair"})
    assert "この端末を発券機として登録する" in client.get(url).content.decode()


def test_only_the_counters_department_may_pair_a_kiosk(
    client: Client, koseki_staff: User, hanako: User, counter: Counter
) -> None:
    url = f"/appointments/staff/{counter.code}/kiosk/"
    client.force_login(koseki_staff)
    assert client.get(url).status_code == 404
    response = client.post(url, {"action": "pair"})
    assert response.status_code == 404 and throttle.KIOSK_COOKIE not in response.cookies
    assert client.post(url, {"action": "unpair_all"}).status_code == 404
    client.force_login(hanako)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "pair"}).status_code == 403
    counter.refresh_from_db()
    assert counter.kiosk_generation == 1
    assert not AuditEvent.objects.filter(action__startswith="appointments.kiosk").exists()


def test_client_keys_are_stored_hashed_and_forgotten_the_next_day(
    client: Client, counter: Counter, frozen: Callable[[dt.datetime], None]
) -> None:
    _take(client, counter)
    ticket = QueueTicket.objects.get()
    assert len(ticket.client_key) == 40 and "127.0.0.1" not in ticket.client_key
    assert ticket.client_address_key and ticket.client_address_key != ticket.client_key
    assert ticket_client_keys_clear(now=NOW) == 0  # today's are kept
    frozen(jst(2026, 11, 26, 8, 0))
    call_command("appointments_generate_slots", verbosity=0)
    ticket.refresh_from_db()
    assert ticket.client_key == "" and ticket.client_address_key == ""


def test_a_per_address_limit_can_be_set(settings: Any, counter: Counter, frozen: Callable[[dt.datetime], None]) -> None:
    settings.APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR = 2
    codes = [_take(Client(), counter).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
