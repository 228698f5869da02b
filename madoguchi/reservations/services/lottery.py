"""Lotteries (抽選): rounds, applications, the draw, results, the waitlist.

Flow of a round: staff create it (a random seed is made and kept encrypted; its
SHA-256 is public from that moment) → registered groups apply during the window, each
for up to ``max_entries`` slots with a 1st and an optional 2nd choice; one real person
may apply through one group only → after the window staff run the draw
(``lottery_draw``; see ``draw.py`` for the algorithm): the wins are stored, each as an
``offered`` booking holding its slot until the confirmation deadline, and the seed is
revealed → winners confirm (and pay) by the deadline → a lapsed or declined win is
offered to the next entry on that slot's waitlist until ``first_come_opens_at`` →
after that, free slots are booked first-come.

A round is drawn once: the round row is locked and a drawn round refuses a second
draw, so the result can never change; ``lottery_verify`` re-runs the draw from the
revealed seed and compares.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from madoguchi.core.audit import audit_record
from madoguchi.core.crypto import decrypt_str, encrypt_str
from madoguchi.core.models import User
from madoguchi.reservations import draw, errors, rules
from madoguchi.reservations.db import retry_on_lock
from madoguchi.reservations.models import (
    Booking,
    Facility,
    Group,
    LotteryApplication,
    LotteryEntry,
    LotteryRound,
    LotteryWin,
    Slot,
)
from madoguchi.reservations.notify import notify_user
from madoguchi.reservations.services.bookings import slot_label

#: How long a winner promoted from the waitlist has to confirm.
WAITLIST_OFFER_DAYS = 3


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y年n月j日 H:i")


# -- rounds -----------------------------------------------------------------------------
def lottery_round_create(
    *,
    actor: User,
    facility: Facility,
    month: dt.date,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    confirm_deadline: dt.datetime,
    first_come_opens_at: dt.datetime,
    max_entries: int = 3,
    max_wins: int = 2,
    title: str = "",
) -> LotteryRound:
    """Create the lottery of ``facility`` for ``month``: commit to a fresh random seed
    (its hash is public at once) and mark every open slot of the month as drawn by it."""
    month = rules.month_start(month)
    if not opens_at < closes_at:
        raise errors.Refused(_("申込受付の終了は開始より後にしてください。"), field="closes_at")
    if not closes_at < confirm_deadline:
        raise errors.Refused(_("確定・支払期限は申込受付の終了より後にしてください。"), field="confirm_deadline")
    if first_come_opens_at < confirm_deadline:
        raise errors.Refused(_("先着順の受付開始は確定・支払期限以降にしてください。"), field="first_come_opens_at")
    if timezone.localdate(closes_at) >= month:
        raise errors.Refused(_("申込受付は対象月の前月までに終えてください。"), field="closes_at")
    if not 1 <= max_entries <= 20:
        raise errors.Refused(_("申込枠数は1〜20にしてください。"), field="max_entries")
    if not 1 <= max_wins <= max_entries:
        raise errors.Refused(_("当選枠数は1以上、申込枠数以下にしてください。"), field="max_wins")
    if LotteryRound.objects.filter(facility=facility, month=month).exists():
        raise errors.Refused(_("この施設のこの月の抽選はすでにあります。"), field="month")
    seed = secrets.token_bytes(draw.SEED_BYTES)
    with transaction.atomic():
        try:
            with transaction.atomic():
                lottery = LotteryRound.objects.create(
                    facility=facility,
                    month=month,
                    title=title.strip()
                    or _("%(facility)s %(month)s 利用分 抽選")
                    % {
                        "facility": facility.name,
                        "month": f"{month:%Y年%-m月}",
                    },
                    opens_at=opens_at,
                    closes_at=closes_at,
                    confirm_deadline=confirm_deadline,
                    first_come_opens_at=first_come_opens_at,
                    max_entries=max_entries,
                    max_wins=max_wins,
                    seed_encrypted=encrypt_str(seed.hex()),
                    seed_hash=draw.seed_hash(seed),
                    algorithm=draw.ALGORITHM,
                    created_by=actor,
                )
        except IntegrityError as exc:
            raise errors.Refused(_("この施設のこの月の抽選はすでにあります。"), field="month") from exc
        count = _attach_slots(lottery)
        audit_record(
            actor=actor,
            action="reservations.lottery.create",
            target=lottery,
            data={"seed_hash": lottery.seed_hash, "month": month.isoformat(), "slots": count},
        )
    return lottery


def _attach_slots(lottery: LotteryRound) -> int:
    facility = lottery.facility
    rooms = list(facility.rooms.filter(is_active=True))
    blocks = list(facility.time_blocks.all())
    closures = list(facility.closures.all())
    days = [d for d in rules.month_days(lottery.month) if rules.is_open(facility, d, closures)]
    existing = {
        (room_id, date, block_id)
        for room_id, date, block_id in Slot.objects.filter(
            room__facility=facility, date__gte=lottery.month, date__lte=lottery.month_end
        ).values_list("room_id", "date", "block_id")
    }
    new = [
        Slot(room=room, date=day, block=block, lottery_round=lottery)
        for day in days
        for block in blocks
        for room in rooms
        if (room.pk, day, block.pk) not in existing
    ]
    Slot.objects.bulk_create(new, batch_size=2000)
    Slot.objects.filter(room__facility=facility, date__in=days, lottery_round__isnull=True).update(
        lottery_round=lottery
    )
    return Slot.objects.filter(lottery_round=lottery).count()


# -- applications ------------------------------------------------------------------------
def lottery_apply(
    *,
    user: User,
    lottery: LotteryRound,
    group: Group | None,
    choices: Sequence[tuple[int | None, int | None]],
    now: dt.datetime | None = None,
) -> LotteryApplication:
    """Apply for ``lottery`` as ``group``: ``choices`` is one ``(1st, 2nd)`` pair of
    slot ids per requested slot (``None`` for an empty choice). Refused (nothing saved)
    outside the window, for a group that is not ``user``'s approved group, over the
    number of entries, for a slot not in the round or chosen twice, when the group
    already applied, and when the same real person already applied through another
    group (same resident record, or same name, birth date and address)."""
    now = now or timezone.now()
    if now < lottery.opens_at:
        raise errors.WindowClosed(_("申込受付は %(at)s からです。") % {"at": _when(lottery.opens_at)})
    if now >= lottery.closes_at:
        raise errors.WindowClosed(_("申込受付は %(at)s に終了しました。") % {"at": _when(lottery.closes_at)})
    if group is None:
        raise errors.NotEligible(_("申し込む団体を選んでください。"), field="group")
    if group.representative_id != user.pk:
        raise errors.NotEligible(_("抽選に申し込めるのは、団体の代表者だけです。"), field="group")
    if group.status != Group.Status.APPROVED:
        raise errors.NotEligible(_("この団体の登録はまだ承認されていません。"), field="group")
    rows: list[tuple[int, int, int | None]] = []
    for index, (first, second) in enumerate(choices, start=1):
        if first is None and second is None:
            continue
        if first is None:
            raise errors.InvalidChoice(
                _("第2希望だけを選ぶことはできません。第1希望を選んでください。"), field=f"entry_{index}_first"
            )
        rows.append((index, first, second))
    if not rows:
        raise errors.InvalidChoice(_("第1希望を1つ以上選んでください。"), field="entry_1_first")
    if len(rows) > lottery.max_entries:
        raise errors.OverCap(
            _("1団体が申し込めるのは%(n)s枠までです。") % {"n": lottery.max_entries},
            field=f"entry_{rows[lottery.max_entries][0]}_first",
        )
    wanted = [slot_id for _i, first, second in rows for slot_id in (first, second) if slot_id is not None]
    valid = set(Slot.objects.filter(lottery_round=lottery, pk__in=wanted).values_list("pk", flat=True))
    seen: set[int] = set()
    for index, first, second in rows:
        for rank, slot_id in (("first", first), ("second", second)):
            if slot_id is None:
                continue
            if slot_id not in valid:
                raise errors.InvalidChoice(_("選んだ枠はこの抽選の対象ではありません。"), field=f"entry_{index}_{rank}")
            if slot_id in seen:
                raise errors.InvalidChoice(_("同じ枠を重ねて選ぶことはできません。"), field=f"entry_{index}_{rank}")
            seen.add(slot_id)
    resident_key = rules.resident_key(group.rep_resident_id)
    with transaction.atomic():
        # Applications to one round queue here, so the duplicate checks below and
        # the inserts cannot interleave (the unique constraints are the backstop).
        locked = LotteryRound.objects.select_for_update().get(pk=lottery.pk)
        live = LotteryApplication.objects.filter(round=locked, status=LotteryApplication.Status.SUBMITTED)
        if live.filter(group=group).exists():
            raise errors.AlreadyApplied(_("この団体はこの抽選にすでに申し込んでいます。"), field="group")
        same_person = Q(person_key=group.person_key)
        if resident_key:
            same_person |= Q(resident_key=resident_key)
        if live.filter(same_person).exists():
            raise errors.DuplicatePerson(
                _(
                    "同じ代表者（同一人物）が、別の団体でこの抽選にすでに申し込んでいます。"
                    "1人が申し込めるのは1団体分だけです。"
                ),
                field="group",
            )
        try:
            with transaction.atomic():
                application = LotteryApplication.objects.create(
                    round=locked,
                    group=group,
                    submitted_by=user,
                    person_key=group.person_key,
                    resident_key=resident_key,
                )
                LotteryEntry.objects.bulk_create(
                    [
                        LotteryEntry(
                            application=application, position=position, first_slot_id=first, second_slot_id=second
                        )
                        for position, (_index, first, second) in enumerate(rows, start=1)
                    ]
                )
        except IntegrityError as exc:
            raise errors.DuplicatePerson(_("同じ団体または同じ代表者の申込がすでにあります。"), field="group") from exc
        audit_record(
            actor=user,
            action="reservations.lottery.apply",
            target=application,
            data={"round": locked.pk, "group": group.pk, "entries": len(rows)},
        )
        with translation.override(user.preferred_language or "ja"):
            notify_user(
                user=user,
                key=f"lottery-application:{application.public_id}:received",
                subject=_("【抽選】申込を受け付けました"),
                body=_(
                    "%(round)s への「%(group)s」の申込（%(n)s枠）を受け付けました。"
                    "抽選結果は %(at)s 以降にお知らせします。"
                )
                % {"round": locked.title, "group": group.name, "n": len(rows), "at": _when(locked.closes_at)},
                link=reverse("reservations:lottery_detail", args=[locked.pk]),
            )
    return application


def lottery_withdraw(
    *, user: User, application: LotteryApplication, now: dt.datetime | None = None
) -> LotteryApplication:
    """Withdraw an application while the window is open."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            LotteryApplication.objects.select_for_update(of=("self",)).select_related("round").get(pk=application.pk)
        )
        if locked.submitted_by_id != user.pk:
            raise errors.NotEligible(_("この申込を取り下げられるのは、申し込んだ方だけです。"))
        if locked.status != LotteryApplication.Status.SUBMITTED:
            raise errors.InvalidState(_("この申込はすでに取り下げられています。"))
        if now >= locked.round.closes_at:
            raise errors.WindowClosed(_("申込受付が終了したため、取り下げられません。"))
        locked.status = LotteryApplication.Status.WITHDRAWN
        locked.withdrawn_at = now
        locked.save(update_fields=["status", "withdrawn_at"])
        audit_record(actor=user, action="reservations.lottery.withdraw", target=locked, data={"round": locked.round_id})
    return locked


# -- the draw ----------------------------------------------------------------------------
@dataclass
class DrawInputs:
    applications: list[draw.DrawApplication]
    capacity: dict[str, int]
    slot_id: dict[str, int]
    entry_id: dict[tuple[str, int], int]
    applicant: dict[str, tuple[int, int]]  # application key → (submitted_by, group)


def draw_inputs(lottery: LotteryRound, *, excluded: Sequence[str] = ()) -> DrawInputs:
    """Load everything the draw needs in four queries, as plain data."""
    slot_key: dict[int, str] = {}
    for pk, room, date, block in Slot.objects.filter(lottery_round=lottery).values_list(
        "pk", "room__code", "date", "block__code"
    ):
        slot_key[pk] = f"{room}/{date.isoformat()}/{block}"
    skip = set(excluded)
    capacity = {key: 1 for key in slot_key.values() if key not in skip}
    applications: dict[int, tuple[str, int, int]] = {}
    for pk, public_id, user_id, group_id in LotteryApplication.objects.filter(
        round=lottery, status=LotteryApplication.Status.SUBMITTED
    ).values_list("pk", "public_id", "submitted_by_id", "group_id"):
        applications[pk] = (str(public_id), user_id, group_id)
    entries: dict[int, list[draw.DrawEntry]] = {}
    entry_id: dict[tuple[str, int], int] = {}
    for pk, application_id, position, first, second in (
        LotteryEntry.objects.filter(application__round=lottery, application__status=LotteryApplication.Status.SUBMITTED)
        .order_by("application_id", "position")
        .values_list("pk", "application_id", "position", "first_slot_id", "second_slot_id")
    ):
        choices = (slot_key[first],) if second is None else (slot_key[first], slot_key[second])
        entries.setdefault(application_id, []).append(draw.DrawEntry(position, choices))
        entry_id[(applications[application_id][0], position)] = pk
    draw_applications = [
        draw.DrawApplication(key, key, tuple(entries.get(pk, ()))) for pk, (key, _u, _g) in applications.items()
    ]
    return DrawInputs(
        applications=draw_applications,
        capacity=capacity,
        slot_id={key: pk for pk, key in slot_key.items()},
        entry_id=entry_id,
        applicant={key: (user_id, group_id) for key, user_id, group_id in applications.values()},
    )


def _excluded_slots(lottery: LotteryRound) -> list[str]:
    """Slots of the round that cannot be given at draw time: closed since, or held."""
    facility = lottery.facility
    closures = list(facility.closures.all())
    closed = {day for day in rules.month_days(lottery.month) if not rules.is_open(facility, day, closures)}
    held = set(
        Booking.objects.filter(slot__lottery_round=lottery, status__in=Booking.ACTIVE).values_list("slot_id", flat=True)
    )
    excluded = [
        f"{room}/{date.isoformat()}/{block}"
        for pk, room, date, block in Slot.objects.filter(lottery_round=lottery).values_list(
            "pk", "room__code", "date", "block__code"
        )
        if pk in held or date in closed
    ]
    return sorted(excluded)


def lottery_seed(lottery: LotteryRound) -> bytes:
    return bytes.fromhex(decrypt_str(lottery.seed_encrypted))


def lottery_draw(*, lottery: LotteryRound, actor: User | None, now: dt.datetime | None = None) -> LotteryRound:
    """Run the draw of a closed round, once. Raises :class:`errors.AlreadyDrawn` for
    a round already drawn (its stored result stands) and :class:`errors.WindowClosed`
    while applications are still open."""
    when = now or timezone.now()
    return retry_on_lock(lambda: _lottery_draw(lottery=lottery, actor=actor, now=when))


def _lottery_draw(*, lottery: LotteryRound, actor: User | None, now: dt.datetime) -> LotteryRound:
    with transaction.atomic():
        locked = LotteryRound.objects.select_for_update(of=("self",)).select_related("facility").get(pk=lottery.pk)
        if locked.is_drawn:
            raise errors.AlreadyDrawn(
                _("この抽選は %(at)s に実施済みです。抽選は一度だけで、結果は変わりません。")
                % {"at": _when(locked.drawn_at or now)}
            )
        if now < locked.closes_at:
            raise errors.WindowClosed(
                _("申込受付中は抽選できません（受付終了 %(at)s）。") % {"at": _when(locked.closes_at)}
            )
        seed = lottery_seed(locked)
        if draw.seed_hash(seed) != locked.seed_hash:
            raise errors.InvalidState(_("シードが公開済みのハッシュと一致しません。抽選を中止しました。"))
        excluded = _excluded_slots(locked)
        inputs = draw_inputs(locked, excluded=excluded)
        started = time.perf_counter()
        wins = draw.run_draw(
            seed=seed, applications=inputs.applications, capacity=inputs.capacity, max_wins=locked.max_wins
        )
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        _store_wins(locked, wins, inputs, now)
        locked.seed_revealed = seed.hex()
        locked.excluded_slots = excluded
        locked.drawn_at = now
        locked.drawn_by = actor
        locked.result_digest = draw.result_digest(wins)
        locked.application_count = len(inputs.applications)
        locked.entry_count = len(inputs.entry_id)
        locked.win_count = len(wins)
        locked.draw_ms = elapsed_ms
        locked.save(
            update_fields=[
                "seed_revealed",
                "excluded_slots",
                "drawn_at",
                "drawn_by",
                "result_digest",
                "application_count",
                "entry_count",
                "win_count",
                "draw_ms",
            ]
        )
        audit_record(
            actor=actor,
            action="reservations.lottery.draw",
            target=locked,
            data={
                "seed_hash": locked.seed_hash,
                "seed": locked.seed_revealed,
                "result_digest": locked.result_digest,
                "applications": locked.application_count,
                "entries": locked.entry_count,
                "wins": locked.win_count,
                "excluded_slots": len(excluded),
            },
        )
    return locked


def _store_wins(lottery: LotteryRound, wins: list[draw.DrawWin], inputs: DrawInputs, now: dt.datetime) -> None:
    if not wins:
        return
    fees = dict(Slot.objects.filter(lottery_round=lottery).values_list("pk", "room__fee_yen"))
    rows = [
        LotteryWin(
            round=lottery,
            entry_id=inputs.entry_id[(w.application, w.position)],
            slot_id=inputs.slot_id[w.slot],
            choice=w.choice,
            created_at=now,
        )
        for w in wins
    ]
    LotteryWin.objects.bulk_create(rows, batch_size=5000)
    purpose = _("抽選による利用")
    bookings = []
    for win, row in zip(wins, rows, strict=True):
        user_id, group_id = inputs.applicant[win.application]
        bookings.append(
            Booking(
                facility_id=lottery.facility_id,
                slot_id=row.slot_id,
                user_id=user_id,
                group_id=group_id,
                eligibility=Booking.Eligibility.GROUP,
                purpose=purpose,
                attendees=1,
                fee_yen=fees.get(row.slot_id, 0),
                status=Booking.Status.OFFERED,
                source=Booking.Source.LOTTERY,
                deadline=lottery.confirm_deadline,
                lottery_win_id=row.pk,
            )
        )
    Booking.objects.bulk_create(bookings, batch_size=5000)


def lottery_notify_results(*, lottery: LotteryRound) -> int:
    """Tell every applicant their result (email and inbox). Idempotent."""
    if not lottery.is_drawn:
        raise errors.InvalidState(_("抽選がまだ実施されていません。"))
    won: dict[int, list[LotteryWin]] = {}
    for win in LotteryWin.objects.filter(round=lottery, via_waitlist=False).select_related(
        "entry", "slot__room__facility", "slot__block"
    ):
        won.setdefault(win.entry.application_id, []).append(win)
    sent = 0
    link = reverse("reservations:my_reservations")
    applications = LotteryApplication.objects.filter(
        round=lottery, status=LotteryApplication.Status.SUBMITTED
    ).select_related("group", "submitted_by")
    for application in applications.iterator(chunk_size=2000):
        user = application.submitted_by
        wins = won.get(application.pk, [])
        with transaction.atomic(), translation.override(user.preferred_language or "ja"):
            if wins:
                lines = "\n".join(f"・{slot_label(w.slot)}" for w in wins)
                subject = _("【抽選】当選しました")
                body = _(
                    "%(round)s の「%(group)s」の抽選結果です。次の枠に当選しました。\n%(lines)s\n\n"
                    "%(deadline)s までに、マイページで利用を確定（使用料がある場合はお支払い）してください。"
                    "期限を過ぎると当選は無効になります。"
                ) % {
                    "round": lottery.title,
                    "group": application.group.name,
                    "lines": lines,
                    "deadline": _when(lottery.confirm_deadline),
                }
            else:
                subject = _("【抽選】抽選結果のお知らせ")
                body = _(
                    "%(round)s の「%(group)s」の抽選結果です。残念ながら当選しませんでした。"
                    "当選者が辞退した場合は、抽選の順番に従って繰り上げ当選をお知らせすることがあります。"
                ) % {"round": lottery.title, "group": application.group.name}
            notify_user(
                user=user, key=f"lottery:{lottery.pk}:result:{application.pk}", subject=subject, body=body, link=link
            )
        sent += 1
    LotteryRound.objects.filter(pk=lottery.pk, results_notified_at__isnull=True).update(
        results_notified_at=timezone.now()
    )
    return sent


# -- the waitlist ------------------------------------------------------------------------
def _live_wins(application_id: int) -> int:
    return (
        LotteryWin.objects.filter(entry__application_id=application_id)
        .exclude(booking__status=Booking.Status.LAPSED)
        .count()
    )


def lottery_offer_next(*, slot: Slot, now: dt.datetime | None = None) -> Booking | None:
    """Offer a released lottery slot to the next entry on its waitlist (the entries
    that chose it and won nothing, in draw order, whose group is under the cap).
    Nothing after ``first_come_opens_at``: then the slot is booked first-come. Call it
    inside the transaction that released the slot."""
    now = now or timezone.now()
    lottery = LotteryRound.objects.filter(pk=slot.lottery_round_id).first() if slot.lottery_round_id else None
    if lottery is None or not lottery.is_drawn or now >= lottery.first_come_opens_at:
        return None
    if Booking.objects.filter(slot=slot, status__in=Booking.ACTIVE).exists():
        return None
    seed = bytes.fromhex(lottery.seed_revealed)
    candidates = list(
        LotteryEntry.objects.filter(
            application__round=lottery,
            application__status=LotteryApplication.Status.SUBMITTED,
            win__isnull=True,
        )
        .filter(Q(first_slot=slot) | Q(second_slot=slot))
        .select_related("application__group", "application__submitted_by")
    )
    candidates.sort(key=lambda e: (draw.order_key(seed, str(e.application.public_id)), e.position))
    deadline = min(now + dt.timedelta(days=WAITLIST_OFFER_DAYS), lottery.first_come_opens_at)
    for entry in candidates:
        if _live_wins(entry.application_id) >= lottery.max_wins:
            continue
        application = entry.application
        choice = 1 if entry.first_slot_id == slot.pk else 2
        win = LotteryWin.objects.create(
            round=lottery, entry=entry, slot=slot, choice=choice, via_waitlist=True, created_at=now
        )
        booking = Booking.objects.create(
            facility_id=lottery.facility_id,
            slot=slot,
            user=application.submitted_by,
            group=application.group,
            eligibility=Booking.Eligibility.GROUP,
            purpose=_("抽選による利用"),
            attendees=1,
            fee_yen=slot.room.fee_yen,
            status=Booking.Status.OFFERED,
            source=Booking.Source.LOTTERY,
            deadline=deadline,
            lottery_win=win,
        )
        audit_record(
            actor=None,
            action="reservations.lottery.waitlist_offer",
            target=booking,
            data={"round": lottery.pk, "entry": entry.pk, "slot": slot.pk, "choice": choice},
        )
        user = application.submitted_by
        with translation.override(user.preferred_language or "ja"):
            notify_user(
                user=user,
                key=f"booking:{booking.public_id}:offered",
                subject=_("【抽選】繰り上げ当選しました"),
                body=_(
                    "%(round)s で、「%(group)s」が次の枠に繰り上げ当選しました。\n・%(slot)s\n\n"
                    "%(deadline)s までに、マイページで利用を確定してください。"
                )
                % {
                    "round": lottery.title,
                    "group": application.group.name,
                    "slot": slot_label(slot),
                    "deadline": _when(deadline),
                },
                link=reverse("reservations:booking_detail", args=[booking.public_id]),
            )
        return booking
    return None


# -- verification --------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    seed_matches_hash: bool
    stored_digest: str
    recomputed_digest: str
    stored_wins_digest: str
    wins: int

    @property
    def ok(self) -> bool:
        return (
            self.seed_matches_hash
            and self.stored_digest == self.recomputed_digest
            and self.stored_wins_digest == self.recomputed_digest
        )


def lottery_verify(lottery: LotteryRound) -> Verification:
    """Re-run the draw from the revealed seed and the stored inputs and compare it
    with the stored digest and with the wins stored by the draw."""
    if not lottery.is_drawn:
        raise errors.InvalidState(_("抽選がまだ実施されていません。"))
    seed = bytes.fromhex(lottery.seed_revealed)
    inputs = draw_inputs(lottery, excluded=lottery.excluded_slots)
    wins = draw.run_draw(
        seed=seed, applications=inputs.applications, capacity=inputs.capacity, max_wins=lottery.max_wins
    )
    stored = [
        draw.DrawWin(str(public_id), position, f"{room}/{date.isoformat()}/{block}", choice)
        for public_id, position, room, date, block, choice in LotteryWin.objects.filter(
            round=lottery, via_waitlist=False
        ).values_list(
            "entry__application__public_id",
            "entry__position",
            "slot__room__code",
            "slot__date",
            "slot__block__code",
            "choice",
        )
    ]
    return Verification(
        seed_matches_hash=draw.seed_hash(seed) == lottery.seed_hash,
        stored_digest=lottery.result_digest,
        recomputed_digest=draw.result_digest(wins),
        stored_wins_digest=draw.result_digest(stored),
        wins=len(wins),
    )
