"""Lotteries end to end on the database: the committed seed, applications and every
refusal, the draw (once, reproducible, verifiable), results, the waitlist, first-come
for the leftovers."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from madoguchi.accounts.tests.factories import UserFactory
from madoguchi.core.models import AuditEvent, User
from madoguchi.notifications.models import OutboxMessage
from madoguchi.reservations import draw, errors
from madoguchi.reservations.models import (
    Booking,
    Facility,
    FacilityClosure,
    Group,
    LotteryApplication,
    LotteryRound,
    LotteryWin,
    Slot,
)
from madoguchi.reservations.rules import person_key
from madoguchi.reservations.services.bookings import (
    booking_cancel,
    booking_confirm_offer,
    booking_create,
    bookings_lapse_due,
)
from madoguchi.reservations.services.lottery import (
    lottery_apply,
    lottery_draw,
    lottery_notify_results,
    lottery_seed,
    lottery_verify,
    lottery_withdraw,
)

from .conftest import NOW, MakeRound, aware, make_group, make_resident

pytestmark = pytest.mark.django_db
AFTER_CLOSE = aware(2030, 6, 11, 9)


def slot(lottery: LotteryRound, day: int, block: str = "morning", room: str = "room-a") -> Slot:
    return Slot.objects.get(lottery_round=lottery, date=dt.date(2030, 7, day), block__code=block, room__code=room)


def apply(
    user: User, lottery: LotteryRound, group: Group, *pairs: tuple[Slot, Slot | None], now: dt.datetime = NOW
) -> LotteryApplication:
    choices = [(a.pk, b.pk if b else None) for a, b in pairs]
    return lottery_apply(user=user, lottery=lottery, group=group, choices=choices, now=now)


def test_creating_a_round_commits_to_a_seed_and_marks_the_open_slots(make_round: MakeRound, facility: Facility) -> None:
    FacilityClosure.objects.create(facility=facility, start_date=dt.date(2030, 7, 10), end_date=dt.date(2030, 7, 10))
    lottery = make_round()
    seed = lottery_seed(lottery)
    assert lottery.seed_hash == hashlib.sha256(seed).hexdigest()
    assert lottery.seed_revealed == ""
    assert seed.hex() not in lottery.seed_encrypted
    # 31 days minus the closure, 2 rooms, 3 blocks.
    assert lottery.slots.count() == 30 * 2 * 3
    assert not lottery.slots.filter(date=dt.date(2030, 7, 10)).exists()
    assert AuditEvent.objects.filter(action="reservations.lottery.create", data__seed_hash=lottery.seed_hash).exists()


def test_a_round_whose_window_reaches_into_its_month_is_refused(make_round: MakeRound) -> None:
    with pytest.raises(errors.Refused, match="前月まで"):
        make_round(
            closes_at=aware(2030, 7, 2), confirm_deadline=aware(2030, 7, 5), first_come_opens_at=aware(2030, 7, 6)
        )


def test_a_group_applies_with_first_and_second_choices(make_round: MakeRound, resident: User, group: Group) -> None:
    lottery = make_round()
    application = apply(resident, lottery, group, (slot(lottery, 6), slot(lottery, 7)), (slot(lottery, 8), None))
    assert [(e.position, e.first_slot_id, e.second_slot_id) for e in application.entries.all()] == [
        (1, slot(lottery, 6).pk, slot(lottery, 7).pk),
        (2, slot(lottery, 8).pk, None),
    ]
    assert OutboxMessage.objects.filter(user=resident, subject__contains="申込を受け付けました").count() == 2


@pytest.mark.parametrize(
    ("now", "message"),
    [(aware(2030, 5, 31, 23), "からです"), (aware(2030, 6, 10), "終了しました"), (AFTER_CLOSE, "終了しました")],
)
def test_applications_outside_the_window_are_refused(
    make_round: MakeRound, resident: User, group: Group, now: dt.datetime, message: str
) -> None:
    lottery = make_round()
    with pytest.raises(errors.WindowClosed, match=message):
        apply(resident, lottery, group, (slot(lottery, 6), None), now=now)
    assert not LotteryApplication.objects.exists()


def test_more_entries_than_the_cap_are_refused(make_round: MakeRound, resident: User, group: Group) -> None:
    lottery = make_round(max_entries=2)
    with pytest.raises(errors.OverCap, match="2枠まで"):
        apply(resident, lottery, group, (slot(lottery, 6), None), (slot(lottery, 7), None), (slot(lottery, 8), None))
    assert not LotteryApplication.objects.exists()


def test_the_same_slot_twice_and_slots_outside_the_round_are_refused(
    make_round: MakeRound, resident: User, group: Group, free_room: Any, morning: Any
) -> None:
    lottery = make_round()
    with pytest.raises(errors.InvalidChoice, match="重ねて") as refused:
        apply(resident, lottery, group, (slot(lottery, 6), None), (slot(lottery, 7), slot(lottery, 6)))
    assert refused.value.field == "entry_2_second"
    june = Slot.objects.create(room=free_room, date=dt.date(2030, 6, 20), block=morning)
    with pytest.raises(errors.InvalidChoice, match="対象ではありません"):
        apply(resident, lottery, group, (june, None))
    with pytest.raises(errors.InvalidChoice, match="第1希望を1つ以上"):
        lottery_apply(user=resident, lottery=lottery, group=group, choices=[(None, None)], now=NOW)


def test_a_group_applies_once_per_round(make_round: MakeRound, resident: User, group: Group) -> None:
    lottery = make_round()
    apply(resident, lottery, group, (slot(lottery, 6), None))
    with pytest.raises(errors.AlreadyApplied):
        apply(resident, lottery, group, (slot(lottery, 7), None))


def test_the_same_person_cannot_apply_through_a_second_group(
    make_round: MakeRound, resident: User, group: Group
) -> None:
    lottery = make_round()
    apply(resident, lottery, group, (slot(lottery, 6), None))
    second = make_group(resident, name="デモ区卓球同好会")
    with pytest.raises(errors.DuplicatePerson, match="1団体分だけ"):
        apply(resident, lottery, second, (slot(lottery, 7), None))
    assert LotteryApplication.objects.count() == 1


def test_a_second_account_of_the_same_person_is_recognised_by_name_birth_date_and_address(
    make_round: MakeRound, resident: User, group: Group
) -> None:
    """Another account with no resident record, the name typed with a full-width
    space and the address with full-width digits: the same person."""
    lottery = make_round()
    apply(resident, lottery, group, (slot(lottery, 6), None))
    record = resident.resident
    assert record is not None
    other_account = UserFactory()
    typed_name = f"{record.family_name}\u3000{record.given_name}"
    typed_address = record.household.address.replace("1", "１")
    other_group = Group.objects.create(
        name="別名義の会",
        name_kana="ベツメイギノカイ",
        activity="x",
        member_count=3,
        representative=other_account,
        rep_name=typed_name,
        rep_birth_date=record.birth_date,
        rep_address=typed_address,
        person_key=person_key(name=typed_name, birth_date=record.birth_date, address=typed_address),
        status=Group.Status.APPROVED,
        card_number="G-X-1",
    )
    with pytest.raises(errors.DuplicatePerson):
        apply(other_account, lottery, other_group, (slot(lottery, 7), None))


def test_different_people_each_apply(make_round: MakeRound, resident: User, group: Group, other_resident: User) -> None:
    lottery = make_round()
    apply(resident, lottery, group, (slot(lottery, 6), None))
    apply(other_resident, lottery, make_group(other_resident, name="別の会"), (slot(lottery, 6), None))
    assert LotteryApplication.objects.count() == 2


def test_a_withdrawn_application_frees_the_person_to_apply_again(
    make_round: MakeRound, resident: User, group: Group
) -> None:
    lottery = make_round()
    first = apply(resident, lottery, group, (slot(lottery, 6), None))
    lottery_withdraw(user=resident, application=first, now=NOW)
    second = apply(resident, lottery, make_group(resident, name="もう一つの会"), (slot(lottery, 7), None))
    with pytest.raises(errors.WindowClosed):
        lottery_withdraw(user=resident, application=second, now=AFTER_CLOSE)


def _applicants(lottery: LotteryRound, count: int) -> list[tuple[User, Group]]:
    people = []
    for i in range(count):
        user = make_resident()
        people.append((user, make_group(user, name=f"会{i}")))
    return people


def test_the_draw_runs_once_and_a_second_run_is_refused_with_the_result_unchanged(
    make_round: MakeRound, kakaricho: User
) -> None:
    lottery = make_round()
    for user, group in _applicants(lottery, 6):
        apply(user, lottery, group, (slot(lottery, 6), slot(lottery, 7)), (slot(lottery, 8), None))
    with pytest.raises(errors.WindowClosed):
        lottery_draw(lottery=lottery, actor=kakaricho, now=NOW)
    drawn = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    assert drawn.seed_revealed == lottery_seed(lottery).hex()
    assert hashlib.sha256(bytes.fromhex(drawn.seed_revealed)).hexdigest() == drawn.seed_hash
    assert drawn.win_count == 3 == LotteryWin.objects.count()
    assert Booking.objects.filter(status=Booking.Status.OFFERED, deadline=drawn.confirm_deadline).count() == 3
    wins_before = list(LotteryWin.objects.values_list("entry_id", "slot_id", "choice").order_by("pk"))
    with pytest.raises(errors.AlreadyDrawn, match="一度だけ"):
        lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE + dt.timedelta(hours=1))
    assert list(LotteryWin.objects.values_list("entry_id", "slot_id", "choice").order_by("pk")) == wins_before
    lottery.refresh_from_db()
    assert lottery.result_digest == drawn.result_digest
    assert AuditEvent.objects.filter(action="reservations.lottery.draw").count() == 1


def test_the_draw_respects_capacity_and_the_win_cap(make_round: MakeRound, kakaricho: User) -> None:
    lottery = make_round(max_wins=1)
    for user, group in _applicants(lottery, 4):
        apply(user, lottery, group, (slot(lottery, 6), None), (slot(lottery, 7), None))
    lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    assert LotteryWin.objects.filter(slot=slot(lottery, 6)).count() == 1
    assert LotteryWin.objects.filter(slot=slot(lottery, 7)).count() == 1
    per_application = LotteryWin.objects.values_list("entry__application_id", flat=True)
    assert len(per_application) == len(set(per_application))


def test_lottery_verify_reruns_the_draw_and_detects_a_changed_result(make_round: MakeRound, kakaricho: User) -> None:
    lottery = make_round()
    for user, group in _applicants(lottery, 5):
        apply(user, lottery, group, (slot(lottery, 6), slot(lottery, 9)))
    lottery = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    assert lottery_verify(lottery).ok
    out = StringIO()
    call_command("lottery_verify", str(lottery.pk), stdout=out)
    assert "OK" in out.getvalue()
    # Someone moves a win to another entry: the check fails.
    win = LotteryWin.objects.filter(round=lottery, slot=slot(lottery, 6)).get()
    loser = LotteryApplication.objects.filter(round=lottery).exclude(entries__win__isnull=False).first()
    assert loser is not None
    LotteryWin.objects.filter(pk=win.pk).update(entry=loser.entries.get())
    assert not lottery_verify(lottery).ok
    with pytest.raises(CommandError, match="MISMATCH"):
        call_command("lottery_verify", str(lottery.pk), stdout=StringIO())


def test_the_stored_result_is_the_published_algorithm_on_the_published_inputs(
    make_round: MakeRound, kakaricho: User
) -> None:
    from madoguchi.reservations.selectors import lottery_public_data

    lottery = make_round()
    for user, group in _applicants(lottery, 4):
        apply(user, lottery, group, (slot(lottery, 6), slot(lottery, 7)))
    lottery = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    data = lottery_public_data(lottery)
    applications = [
        draw.DrawApplication(
            a["id"], a["group"], tuple(draw.DrawEntry(e["position"], tuple(e["choices"])) for e in a["entries"])
        )
        for a in data["applications"]
    ]
    wins = draw.run_draw(
        seed=bytes.fromhex(data["seed"]),
        applications=applications,
        capacity=dict.fromkeys(data["slots"], 1),
        max_wins=data["max_wins"],
    )
    assert draw.result_digest(wins) == data["result_sha256"] == lottery.result_digest
    assert hashlib.sha256(bytes.fromhex(data["seed"])).hexdigest() == data["seed_sha256"]


def test_results_are_sent_to_winners_and_losers(make_round: MakeRound, kakaricho: User) -> None:
    lottery = make_round()
    people = _applicants(lottery, 3)
    for user, group in people:
        apply(user, lottery, group, (slot(lottery, 6), None))
    lottery = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    assert lottery_notify_results(lottery=lottery) == 3
    assert lottery_notify_results(lottery=lottery) == 3  # idempotent
    subjects = list(
        OutboxMessage.objects.filter(channel="email", subject__startswith="【抽選】").values_list("subject", flat=True)
    )
    assert sorted(s for s in subjects if "申込" not in s) == [
        "【抽選】当選しました",
        "【抽選】抽選結果のお知らせ",
        "【抽選】抽選結果のお知らせ",
    ]


def _drawn_round_with_waitlist(
    make_round: MakeRound, kakaricho: User, **changes: Any
) -> tuple[LotteryRound, list[tuple[User, Group]]]:
    lottery = make_round(**changes)
    people = _applicants(lottery, 4)
    for user, group in people:
        apply(user, lottery, group, (slot(lottery, 6), None))
    return lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE), people


def test_a_win_confirmed_in_time_becomes_a_booking(make_round: MakeRound, kakaricho: User) -> None:
    _lottery, _people = _drawn_round_with_waitlist(make_round, kakaricho)
    offered = Booking.objects.get(status=Booking.Status.OFFERED)
    confirmed = booking_confirm_offer(booking=offered, user=offered.user, now=AFTER_CLOSE + dt.timedelta(days=1))
    assert confirmed.status == Booking.Status.CONFIRMED  # room-a is free of charge


def test_a_win_on_a_paid_room_waits_for_payment_after_confirmation(make_round: MakeRound, kakaricho: User) -> None:
    lottery = make_round()
    for user, group in _applicants(lottery, 2):
        apply(user, lottery, group, (slot(lottery, 6, room="room-b"), None))
    lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    offered = Booking.objects.get(status=Booking.Status.OFFERED)
    assert offered.fee_yen == 1200
    pending = booking_confirm_offer(booking=offered, user=offered.user, now=AFTER_CLOSE)
    assert pending.status == Booking.Status.PENDING_PAYMENT
    assert pending.deadline == lottery.confirm_deadline


def test_a_lapsed_win_goes_to_the_next_drawn_applicant(make_round: MakeRound, kakaricho: User) -> None:
    lottery, _people = _drawn_round_with_waitlist(make_round, kakaricho)
    seed = bytes.fromhex(lottery.seed_revealed)
    order = sorted(
        LotteryApplication.objects.filter(round=lottery), key=lambda a: draw.order_key(seed, str(a.public_id))
    )
    first = Booking.objects.get(status=Booking.Status.OFFERED)
    assert first.group_id == order[0].group_id
    with pytest.raises(errors.DeadlinePassed):
        booking_confirm_offer(booking=first, user=first.user, now=lottery.confirm_deadline)
    assert bookings_lapse_due(now=lottery.confirm_deadline + dt.timedelta(minutes=1)) == 1
    second = Booking.objects.get(status=Booking.Status.OFFERED)
    assert second.group_id == order[1].group_id
    assert second.lottery_win is not None and second.lottery_win.via_waitlist
    assert OutboxMessage.objects.filter(user=second.user, subject="【抽選】繰り上げ当選しました").count() == 2
    # Declining passes it on again.
    booking_cancel(booking=second, user=second.user, now=lottery.confirm_deadline + dt.timedelta(hours=1))
    third = Booking.objects.get(status=Booking.Status.OFFERED)
    assert third.group_id == order[2].group_id


def test_the_waitlist_skips_groups_at_their_cap(make_round: MakeRound, kakaricho: User) -> None:
    lottery = make_round(max_wins=1)
    for user, group in _applicants(lottery, 3):
        apply(user, lottery, group, (slot(lottery, 6), None), (slot(lottery, 7), None))
    lottery = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    seed = bytes.fromhex(lottery.seed_revealed)
    first, second, third = sorted(
        LotteryApplication.objects.filter(round=lottery), key=lambda a: draw.order_key(seed, str(a.public_id))
    )
    held = {b.group_id: b for b in Booking.objects.filter(status=Booking.Status.OFFERED)}
    assert held[first.group_id].slot == slot(lottery, 6)
    assert held[second.group_id].slot == slot(lottery, 7)  # its 1st entry lost, its 2nd entry won
    assert third.group_id not in held
    # The first group gives up 7/6. Next in the draw order is the second group, but it
    # is at its cap (1 win), so the third group gets it.
    released = held[first.group_id]
    booking_cancel(booking=released, user=released.user, now=AFTER_CLOSE)
    offered = Booking.objects.get(slot=released.slot, status=Booking.Status.OFFERED)
    assert offered.group_id == third.group_id


def test_no_waitlist_offers_after_first_come_opens_and_leftovers_are_first_come(
    make_round: MakeRound, kakaricho: User, other_resident: User
) -> None:
    lottery, _people = _drawn_round_with_waitlist(make_round, kakaricho)
    free_slot = slot(lottery, 9)
    room, date, block = free_slot.room, free_slot.date, free_slot.block
    with pytest.raises(errors.LotteryOnly, match="抽選"):
        booking_create(
            user=other_resident, room=room, date=date, block=block, purpose="練習", attendees=5, now=AFTER_CLOSE
        )
    late = lottery.first_come_opens_at + dt.timedelta(minutes=1)
    assert bookings_lapse_due(now=late) == 1
    assert not Booking.objects.filter(status=Booking.Status.OFFERED).exists()
    booked = booking_create(
        user=other_resident, room=room, date=date, block=block, purpose="練習", attendees=5, now=late
    )
    assert booked.status == Booking.Status.CONFIRMED
    lapsed_slot = slot(lottery, 6)
    again = booking_create(
        user=other_resident,
        room=lapsed_slot.room,
        date=lapsed_slot.date,
        block=lapsed_slot.block,
        purpose="練習",
        attendees=5,
        now=late,
    )
    assert again.source == Booking.Source.FIRST_COME


def test_a_slot_closed_after_the_round_was_made_is_not_drawn(
    make_round: MakeRound, kakaricho: User, facility: Facility
) -> None:
    lottery = make_round()
    ((user, group),) = _applicants(lottery, 1)
    apply(user, lottery, group, (slot(lottery, 6), slot(lottery, 7)))
    FacilityClosure.objects.create(
        facility=facility, start_date=dt.date(2030, 7, 6), end_date=dt.date(2030, 7, 6), reason="工事"
    )
    lottery = lottery_draw(lottery=lottery, actor=kakaricho, now=AFTER_CLOSE)
    assert slot(lottery, 6).key in lottery.excluded_slots
    assert LotteryWin.objects.get().slot == slot(lottery, 7)
    assert lottery_verify(lottery).ok


def test_applying_needs_an_approved_group_of_ones_own(
    make_round: MakeRound, resident: User, other_resident: User
) -> None:
    lottery = make_round()
    with pytest.raises(errors.NotEligible, match="代表者"):
        apply(other_resident, lottery, make_group(resident), (slot(lottery, 6), None))
    with pytest.raises(errors.NotEligible, match="承認"):
        apply(
            other_resident, lottery, make_group(other_resident, approved=False, name="審査中"), (slot(lottery, 6), None)
        )
