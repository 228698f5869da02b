"""The pages: what anyone, a resident and staff see; bad input at the field; denials
(another resident's things are 404, staff pages are 403 for residents, another
department's lottery is 404, a 担当 cannot draw); the open data CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from madoguchi.core.models import Department, User
from madoguchi.reservations import checkin, opendata
from madoguchi.reservations.models import (
    Booking,
    Event,
    EventRegistration,
    Facility,
    Group,
    LotteryApplication,
    LotteryRound,
    Slot,
)
from madoguchi.reservations.rules import next_month
from madoguchi.reservations.services.bookings import booking_create
from madoguchi.reservations.services.events import event_register
from madoguchi.reservations.services.lottery import lottery_apply, lottery_round_create

from .conftest import make_event, make_group, make_resident

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soon(days: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=days), dt.time(hour)))


def open_day(facility: Facility, start: int = 7) -> dt.date:
    """A day at least ``start`` days ahead that is not in the year-end closure."""
    day = timezone.localdate() + dt.timedelta(days=start)
    while (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3):
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def live_round(facility: Facility, kakaricho: User) -> LotteryRound:
    today = timezone.localdate()
    return lottery_round_create(
        actor=kakaricho,
        facility=facility,
        month=next_month(next_month(today)),
        opens_at=soon(-1),
        closes_at=soon(10),
        confirm_deadline=soon(17),
        first_come_opens_at=soon(20),
    )


@pytest.fixture
def live_event(department: Department) -> Event:
    return make_event(department, starts_at=soon(14), ends_at=soon(14, 12), application_closes_at=soon(13), capacity=1)


# -- public ---------------------------------------------------------------------------------
def test_public_pages_need_no_login(
    client: Client, facility: Facility, live_round: LotteryRound, live_event: Event
) -> None:
    for url in [
        reverse("reservations:index"),
        reverse("reservations:facility_detail", args=[facility.code]),
        reverse("reservations:lottery_list"),
        reverse("reservations:lottery_detail", args=[live_round.pk]),
        reverse("reservations:event_list"),
        reverse("reservations:event_detail", args=[live_event.pk]),
        reverse("reservations:opendata"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_round_page_shows_the_seed_hash_but_not_the_seed_before_the_draw(
    client: Client, live_round: LotteryRound
) -> None:
    from madoguchi.reservations.services.lottery import lottery_seed

    page = client.get(reverse("reservations:lottery_detail", args=[live_round.pk])).content.decode()
    assert live_round.seed_hash in page
    assert lottery_seed(live_round).hex() not in page
    assert f"./run manage lottery_verify {live_round.pk}" in page
    data = json.loads(client.get(reverse("reservations:lottery_data", args=[live_round.pk])).content)
    assert data["seed"] is None and data["seed_sha256"] == live_round.seed_hash


def test_availability_links_free_cells_to_the_booking_form(client: Client, facility: Facility) -> None:
    day = open_day(facility)
    page = client.get(reverse("reservations:facility_detail", args=[facility.code]), {"date": day.isoformat()})
    assert f"date={day.isoformat()}&amp;block=morning" in page.content.decode()


def test_a_bad_date_on_the_availability_page_gets_a_message(client: Client, facility: Facility) -> None:
    page = client.get(reverse("reservations:facility_detail", args=[facility.code]), {"date": "あした"})
    assert "日付を 2030-06-05 のように入力してください。" in page.content.decode()


# -- booking on the web ---------------------------------------------------------------------
def test_booking_needs_a_login(client: Client, facility: Facility) -> None:
    response = client.get(
        reverse("reservations:book", args=[facility.code]), {"room": "room-a", "date": "2030-06-05", "block": "morning"}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_resident_books_a_free_room_on_the_web(resident: User, facility: Facility) -> None:
    client = logged_in(resident)
    day = open_day(facility)
    url = reverse("reservations:book", args=[facility.code])
    params = {"room": "room-a", "date": day.isoformat(), "block": "morning"}
    assert client.get(url, params).status_code == 200
    response = client.post(url, {**params, "group": "", "purpose": "自治会の会議", "attendees": "8"})
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reservations:booking_detail", args=[booking.public_id])
    assert booking.status == Booking.Status.CONFIRMED


def test_bad_input_is_shown_at_the_field_and_nothing_is_saved(resident: User, facility: Facility) -> None:
    client = logged_in(resident)
    day = open_day(facility)
    response = client.post(
        reverse("reservations:book", args=[facility.code]),
        {"room": "room-a", "date": day.isoformat(), "block": "morning", "group": "", "purpose": "", "attendees": "0"},
    )
    page = response.content.decode()
    assert "入力内容を確認してください" in page
    assert "利用目的を入力してください。" in page
    assert "利用人数を1人以上で入力してください。" in page
    assert not Booking.objects.exists()


def test_a_taken_slot_is_refused_on_the_web_with_a_clear_message(
    resident: User, other_resident: User, facility: Facility
) -> None:
    day = open_day(facility)
    room = facility.rooms.get(code="room-a")
    block = facility.time_blocks.get(code="morning")
    booking_create(user=resident, room=room, date=day, block=block, purpose="会議", attendees=3)
    response = logged_in(other_resident).post(
        reverse("reservations:book", args=[facility.code]),
        {
            "room": "room-a",
            "date": day.isoformat(),
            "block": "morning",
            "group": "",
            "purpose": "練習",
            "attendees": "3",
        },
    )
    assert "この枠はすでに予約されています" in response.content.decode()
    assert Booking.objects.count() == 1


def test_a_time_outside_the_opening_hours_is_refused(resident: User, facility: Facility) -> None:
    day = open_day(facility)
    response = logged_in(resident).post(
        reverse("reservations:book", args=[facility.code]),
        {
            "room": "room-a",
            "date": day.isoformat(),
            "block": "midnight",
            "group": "",
            "purpose": "練習",
            "attendees": "3",
        },
    )
    assert "開館時間外" in response.content.decode()
    assert not Booking.objects.exists()


def test_a_paid_booking_sends_the_resident_to_the_payment_page(resident: User, facility: Facility) -> None:
    client = logged_in(resident)
    day = open_day(facility, start=10)
    client.post(
        reverse("reservations:book", args=[facility.code]),
        {
            "room": "room-b",
            "date": day.isoformat(),
            "block": "night",
            "group": "",
            "purpose": "合唱",
            "attendees": "10",
        },
    )
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    response = client.post(reverse("reservations:booking_pay", args=[booking.public_id]))
    assert response.status_code == 302 and "/payments/sandbox/pay/" in response["Location"]


# -- denials --------------------------------------------------------------------------------
def test_other_residents_bookings_registrations_groups_and_applications_are_404(
    resident: User, other_resident: User, facility: Facility, live_event: Event, live_round: LotteryRound
) -> None:
    day = open_day(facility)
    booking = booking_create(
        user=resident,
        room=facility.rooms.get(code="room-a"),
        date=day,
        block=facility.time_blocks.get(code="morning"),
        purpose="会議",
        attendees=3,
    )
    registration = event_register(user=resident, event=live_event)
    group = make_group(resident)
    slot = Slot.objects.filter(lottery_round=live_round).first()
    assert slot is not None
    application = lottery_apply(user=resident, lottery=live_round, group=group, choices=[(slot.pk, None)])
    intruder = logged_in(other_resident)
    for url in [
        reverse("reservations:booking_detail", args=[booking.public_id]),
        reverse("reservations:registration_detail", args=[registration.public_id]),
        reverse("reservations:group_detail", args=[group.public_id]),
        reverse("reservations:lottery_application", args=[application.public_id]),
    ]:
        assert intruder.get(url).status_code == 404, url
    for url in [
        reverse("reservations:booking_cancel", args=[booking.public_id]),
        reverse("reservations:booking_pay", args=[booking.public_id]),
        reverse("reservations:registration_cancel", args=[registration.public_id]),
        reverse("reservations:lottery_withdraw", args=[application.public_id]),
    ]:
        assert intruder.post(url).status_code == 404, url
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert EventRegistration.objects.get(pk=registration.pk).status == "registered"
    assert LotteryApplication.objects.get(pk=application.pk).status == "submitted"


def test_staff_pages_are_403_for_residents(
    resident: User, facility: Facility, live_round: LotteryRound, live_event: Event
) -> None:
    client = logged_in(resident)
    for url in [
        reverse("reservations:staff_home"),
        reverse("reservations:staff_facility_day", args=[facility.code]),
        reverse("reservations:staff_groups"),
        reverse("reservations:staff_lottery_new"),
        reverse("reservations:staff_lottery", args=[live_round.pk]),
        reverse("reservations:staff_event_new"),
        reverse("reservations:staff_event", args=[live_event.pk]),
        reverse("reservations:staff_checkin"),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("reservations:staff_lottery_draw", args=[live_round.pk])).status_code == 403


def test_staff_pages_send_anonymous_visitors_to_the_staff_login(client: Client) -> None:
    response = client.get(reverse("reservations:staff_home"))
    assert response.status_code == 302 and reverse("accounts:staff_login") in response["Location"]


def test_another_departments_staff_do_not_see_the_facility_lottery_or_event(
    other_department_staff: User, facility: Facility, live_round: LotteryRound, live_event: Event
) -> None:
    client = logged_in(other_department_staff)
    assert client.get(reverse("reservations:staff_home")).status_code == 200
    assert client.get(reverse("reservations:staff_facility_day", args=[facility.code])).status_code == 404
    assert client.get(reverse("reservations:staff_lottery", args=[live_round.pk])).status_code == 404
    assert client.post(reverse("reservations:staff_lottery_draw", args=[live_round.pk])).status_code == 404
    assert client.get(reverse("reservations:staff_event", args=[live_event.pk])).status_code == 404
    assert client.get(reverse("reservations:staff_groups")).status_code == 403


def test_a_tanto_cannot_run_a_draw(tanto: User, live_round: LotteryRound) -> None:
    LotteryRound.objects.filter(pk=live_round.pk).update(opens_at=soon(-3), closes_at=soon(-1))
    response = logged_in(tanto).post(reverse("reservations:staff_lottery_draw", args=[live_round.pk]))
    assert response.status_code == 403
    live_round.refresh_from_db()
    assert not live_round.is_drawn


def test_a_kakaricho_runs_the_draw_once_and_the_second_press_changes_nothing(
    kakaricho: User, live_round: LotteryRound
) -> None:
    slot = Slot.objects.filter(lottery_round=live_round).first()
    assert slot is not None
    for i in range(3):
        user = make_resident()
        lottery_apply(user=user, lottery=live_round, group=make_group(user, name=f"会{i}"), choices=[(slot.pk, None)])
    LotteryRound.objects.filter(pk=live_round.pk).update(closes_at=soon(-1, 9), opens_at=soon(-3))
    client = logged_in(kakaricho)
    url = reverse("reservations:staff_lottery_draw", args=[live_round.pk])
    response = client.post(url, follow=True)
    assert "抽選を実施しました（当選 1 件）" in response.content.decode()
    live_round.refresh_from_db()
    digest = live_round.result_digest
    again = client.post(url, follow=True)
    assert "抽選は一度だけで、結果は変わりません" in again.content.decode()
    live_round.refresh_from_db()
    assert live_round.result_digest == digest
    public = Client().get(reverse("reservations:lottery_detail", args=[live_round.pk])).content.decode()
    assert live_round.seed_revealed in public and digest in public


def test_applying_through_the_web_with_bad_choices_shows_the_error_at_the_field(
    resident: User, group: Group, live_round: LotteryRound
) -> None:
    slot = Slot.objects.filter(lottery_round=live_round).order_by("pk").first()
    assert slot is not None
    response = logged_in(resident).post(
        reverse("reservations:lottery_apply", args=[live_round.pk]),
        {"group": str(group.public_id), "entry_1_first": str(slot.pk), "entry_2_first": str(slot.pk)},
    )
    page = response.content.decode()
    assert "同じ枠を重ねて選ぶことはできません。" in page
    assert 'href="#id_entry_2_first"' in page
    assert not LotteryApplication.objects.exists()


def test_applying_after_the_window_is_refused_on_the_web(
    resident: User, group: Group, live_round: LotteryRound
) -> None:
    LotteryRound.objects.filter(pk=live_round.pk).update(closes_at=soon(-1), opens_at=soon(-3))
    slot = Slot.objects.filter(lottery_round=live_round).first()
    assert slot is not None
    response = logged_in(resident).post(
        reverse("reservations:lottery_apply", args=[live_round.pk]),
        {"group": str(group.public_id), "entry_1_first": str(slot.pk)},
    )
    assert "受付期間" in response.content.decode() or "終了しました" in response.content.decode()
    assert not LotteryApplication.objects.exists()


# -- check-in on the web ----------------------------------------------------------------------
def test_staff_check_in_by_qr_url_then_a_second_scan_says_already(
    tanto: User, resident: User, live_event: Event
) -> None:
    registration = event_register(user=resident, event=live_event)
    page = logged_in(resident).get(reverse("reservations:registration_detail", args=[registration.public_id]))
    assert "<svg" in page.content.decode()
    client = logged_in(tanto)
    url = checkin.checkin_path(registration)
    shown = client.get(url).content.decode()
    assert "受付する" in shown and str(resident) in shown
    client.post(reverse("reservations:staff_checkin"), {"code": checkin.make_token(registration)})
    assert EventRegistration.objects.get(pk=registration.pk).checked_in_at is not None
    again = client.get(url).content.decode()
    assert "すでに受付済みです" in again


def test_a_forged_code_on_the_check_in_page_gets_a_clear_message(
    tanto: User, live_event: Event, resident: User
) -> None:
    registration = event_register(user=resident, event=live_event)
    token = checkin.make_token(registration)
    forged = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    page = logged_in(tanto).post(reverse("reservations:staff_checkin"), {"code": forged}).content.decode()
    assert "偽造または改ざん" in page
    assert EventRegistration.objects.get(pk=registration.pk).checked_in_at is None


def test_another_departments_staff_cannot_check_in(
    other_department_staff: User, resident: User, live_event: Event
) -> None:
    registration = event_register(user=resident, event=live_event)
    page = (
        logged_in(other_department_staff)
        .post(reverse("reservations:staff_checkin"), {"code": checkin.make_token(registration)})
        .content.decode()
    )
    assert "担当部署" in page
    assert EventRegistration.objects.get(pk=registration.pk).checked_in_at is None


# -- open data --------------------------------------------------------------------------------
def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_facilities_csv_has_the_standard_columns_with_a_bom(client: Client, facility: Facility, settings: Any) -> None:
    settings.WARD_LOCAL_GOVERNMENT_CODE = "131032"
    response = client.get(reverse("reservations:opendata_facilities"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, row = _rows(response.content)
    assert header == opendata.FACILITY_COLUMNS
    record = dict(zip(header, row, strict=True))
    assert record["全国地方公共団体コード"] == "131032"
    assert record["名称"] == "中央区民会館"
    assert record["所在地_連結表記"] == "東京都デモ区中央一丁目2-3"
    assert record["バリアフリー情報"] == "車椅子対応エレベーター;多機能トイレ"
    assert (record["開始時間"], record["終了時間"]) == ("09:00", "21:00")
    assert record["URL"].endswith(reverse("reservations:facility_detail", args=[facility.code]))


def test_the_legacy_layouts_keep_the_recommended_dataset_columns(
    client: Client, facility: Facility, live_event: Event
) -> None:
    header, row = _rows(client.get(reverse("reservations:opendata_facilities"), {"layout": "legacy"}).content)
    assert header[:6] == ["都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ"]
    assert dict(zip(header, row, strict=True))["住所"] == "東京都デモ区中央一丁目2-3"
    header, _row = _rows(client.get(reverse("reservations:opendata_events"), {"layout": "legacy"}).content)
    assert header == opendata.LEGACY_EVENT_COLUMNS


def test_events_csv_has_the_standard_columns(client: Client, live_event: Event) -> None:
    header, row = _rows(client.get(reverse("reservations:opendata_events")).content)
    assert header == opendata.EVENT_COLUMNS
    record = dict(zip(header, row, strict=True))
    starts = timezone.localtime(live_event.starts_at)
    assert record["イベント名"] == live_event.title
    assert record["開始日"] == starts.strftime("%Y-%m-%d") and record["開始時間"] == "10:00"
    assert record["定員"] == "1" and record["料金(基本)"] == "無料"


# -- API --------------------------------------------------------------------------------------
def test_the_api_lists_facilities_availability_events_and_lottery_data(
    client: Client, facility: Facility, live_event: Event, live_round: LotteryRound
) -> None:
    facilities = client.get("/api/v1/reservations/facilities").json()
    assert [f["code"] for f in facilities] == [facility.code]
    assert [r["code"] for r in facilities[0]["rooms"]] == ["room-a", "room-b"]
    day = open_day(facility)
    availability = client.get(
        f"/api/v1/reservations/facilities/{facility.code}/availability", {"date": day.isoformat()}
    )
    assert availability.status_code == 200
    assert {c["state"] for c in availability.json()["cells"]} <= {
        "free",
        "taken",
        "past",
        "lottery",
        "closed",
        "not_yet",
    }
    assert (
        client.get("/api/v1/reservations/facilities/nowhere/availability", {"date": day.isoformat()}).status_code == 404
    )
    events = client.get("/api/v1/reservations/events").json()
    assert [e["id"] for e in events] == [live_event.pk]
    data = client.get(f"/api/v1/reservations/lotteries/{live_round.pk}").json()
    assert data["seed_sha256"] == live_round.seed_hash and data["seed"] is None


# -- groups, rounds and events made on the web ------------------------------------------------
def test_a_resident_registers_a_group_and_staff_approve_it(resident: User, kakaricho: User, facility: Facility) -> None:
    client = logged_in(resident)
    form = client.get(reverse("reservations:group_new")).content.decode()
    assert 'name="rep_birth_date"' not in form  # taken from the resident record
    response = client.post(
        reverse("reservations:group_new"),
        {"name": "桜町合唱団", "name_kana": "サクラマチガッショウダン", "activity": "合唱", "member_count": "12"},
    )
    group = Group.objects.get(name="桜町合唱団")
    assert response["Location"] == reverse("reservations:group_detail", args=[group.public_id])
    assert group.status == Group.Status.PENDING and group.rep_resident == resident.resident
    staff = logged_in(kakaricho)
    assert "桜町合唱団" in staff.get(reverse("reservations:staff_groups")).content.decode()
    refused = staff.post(
        reverse("reservations:staff_group_review", args=[group.public_id]), {"decision": "reject"}, follow=True
    )
    assert "登録できない理由を入力してください。" in refused.content.decode()
    staff.post(reverse("reservations:staff_group_review", args=[group.public_id]), {"decision": "approve"})
    group.refresh_from_db()
    assert group.status == Group.Status.APPROVED and group.card_number


def test_an_account_without_a_resident_record_gives_the_representatives_details() -> None:
    from madoguchi.accounts.tests.factories import UserFactory

    client = logged_in(UserFactory())
    response = client.post(
        reverse("reservations:group_new"),
        {
            "name": "在勤者の会",
            "name_kana": "ザイキンシャノカイ",
            "activity": "読書",
            "member_count": "5",
            "rep_name": "佐藤 次郎",
        },
    )
    assert "代表者の生年月日を 1980-04-01 のように入力してください。" in response.content.decode()
    assert not Group.objects.exists()


def test_a_kakaricho_creates_a_round_and_the_month_must_follow_the_window(kakaricho: User, facility: Facility) -> None:
    client = logged_in(kakaricho)
    today = timezone.localdate()
    month = next_month(next_month(today))
    data = {
        "facility": str(facility.pk),
        "month": f"{month:%Y-%m}",
        "opens_at": f"{today:%Y-%m-%d} 09:00",
        "closes_at": f"{today + dt.timedelta(days=5):%Y-%m-%d} 17:00",
        "confirm_deadline": f"{today + dt.timedelta(days=9):%Y-%m-%d} 17:00",
        "first_come_opens_at": f"{today + dt.timedelta(days=12):%Y-%m-%d} 09:00",
        "max_entries": "3",
        "max_wins": "2",
    }
    bad = client.post(reverse("reservations:staff_lottery_new"), {**data, "max_wins": "5"})
    assert "当選枠数は1以上、申込枠数以下にしてください。" in bad.content.decode()
    response = client.post(reverse("reservations:staff_lottery_new"), data)
    lottery = LotteryRound.objects.get()
    assert response["Location"] == reverse("reservations:staff_lottery", args=[lottery.pk])
    assert lottery.month == month and len(lottery.seed_hash) == 64


def test_a_tanto_cannot_create_a_round(tanto: User, facility: Facility) -> None:
    today = timezone.localdate()
    response = logged_in(tanto).post(
        reverse("reservations:staff_lottery_new"),
        {
            "facility": str(facility.pk),
            "month": f"{next_month(next_month(today)):%Y-%m}",
            "opens_at": f"{today:%Y-%m-%d} 09:00",
            "closes_at": f"{today + dt.timedelta(days=5):%Y-%m-%d} 17:00",
            "confirm_deadline": f"{today + dt.timedelta(days=9):%Y-%m-%d} 17:00",
            "first_come_opens_at": f"{today + dt.timedelta(days=12):%Y-%m-%d} 09:00",
            "max_entries": "3",
            "max_wins": "2",
        },
    )
    assert response.status_code == 403
    assert not LotteryRound.objects.exists()


def test_staff_create_an_event_and_residents_register(tanto: User, department: Department, resident: User) -> None:
    client = logged_in(tanto)
    starts = soon(20)
    response = client.post(
        reverse("reservations:staff_event_new"),
        {
            "title": "区民ヨガ教室",
            "department": str(department.pk),
            "place_name": "区民会館",
            "starts_at": f"{starts:%Y-%m-%d %H:%M}",
            "ends_at": f"{starts + dt.timedelta(hours=1):%Y-%m-%d %H:%M}",
            "application_closes_at": f"{starts - dt.timedelta(days=1):%Y-%m-%d %H:%M}",
            "capacity": "10",
            "fee_yen": "0",
        },
    )
    event = Event.objects.get(title="区民ヨガ教室")
    assert response["Location"] == reverse("reservations:staff_event", args=[event.pk])
    registered = logged_in(resident).post(reverse("reservations:event_register", args=[event.pk]))
    registration = EventRegistration.objects.get(event=event)
    assert registered["Location"] == reverse("reservations:registration_detail", args=[registration.public_id])
    assert registration.status == "registered"


def test_staff_looking_at_who_booked_is_written_to_the_audit_log(
    tanto: User, facility: Facility, live_event: Event
) -> None:
    from madoguchi.core.models import AuditEvent

    client = logged_in(tanto)
    assert client.get(reverse("reservations:staff_facility_day", args=[facility.code])).status_code == 200
    assert client.get(reverse("reservations:staff_event", args=[live_event.pk])).status_code == 200
    viewed = AuditEvent.objects.filter(action="reservations.staff.viewed", actor=tanto)
    assert {(e.target_type, e.target_id) for e in viewed} == {
        ("reservations.facility", str(facility.pk)),
        ("reservations.event", str(live_event.pk)),
    }
