"""The demo ward's facilities, a lottery and events.

``reservations_demo_load`` is called by ``demo.ward.demo_load`` after the residents and
staff exist. It creates 中央区民会館 (three rooms, first-come), デモ区立総合体育館
(groups only, allocated by lottery), the approved group of the demo resident
hanako@example.jp, a lottery for the gym's month after next whose application window
is open now, and two events. Running it again changes nothing (on a later month it
adds that month's lottery).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from madoguchi.core.models import Department, User
from madoguchi.reservations import rules
from madoguchi.reservations.models import Event, Facility, Group, GroupMember, LotteryRound, Room, TimeBlock
from madoguchi.reservations.services.lottery import lottery_round_create

BLOCKS = [
    ("morning", "午前", dt.time(9, 0), dt.time(12, 0)),
    ("afternoon", "午後", dt.time(13, 0), dt.time(17, 0)),
    ("night", "夜間", dt.time(18, 0), dt.time(21, 30)),
]

FACILITIES: list[dict[str, object]] = [
    {
        "code": "chuo-kumin-kaikan",
        "name": "中央区民会館",
        "name_kana": "チュウオウクミンカイカン",
        "name_en": "Chuo Community Hall",
        "kind": Facility.Kind.COMMUNITY_HALL,
        "postal_code": "100-0001",
        "address_city": "デモ区",
        "address_town": "中央一丁目",
        "address_block": "2-3",
        "latitude": "35.681200",
        "longitude": "139.767100",
        "phone": "03-5555-3101",
        "description": "会議、講座、サークル活動に使える集会室と和室があります。",
        "accessibility": "車椅子対応エレベーター\n多機能トイレ（オストメイト対応）\n補助犬同伴可\n筆談ボード",
        "access": "デモ駅 東口から徒歩5分",
        "eligibility": Facility.Eligibility.BOTH,
        "monthly_limit": 4,
        "calendar": Facility.Calendar.YEAR_END,
        "closed_weekdays": "",
        "rooms": [
            ("shukai-a", "集会室A", 40, 1200),
            ("shukai-b", "集会室B", 20, 800),
            ("tamokuteki", "多目的室（無料）", 12, 0),
        ],
    },
    {
        "code": "sogo-taiikukan",
        "name": "デモ区立総合体育館",
        "name_kana": "デモクリツソウゴウタイイクカン",
        "name_en": "Demo Ward General Gymnasium",
        "kind": Facility.Kind.GYM,
        "postal_code": "100-0003",
        "address_city": "デモ区",
        "address_town": "港南三丁目",
        "address_block": "10-1",
        "latitude": "35.628500",
        "longitude": "139.741200",
        "phone": "03-5555-3201",
        "description": (
            "バスケットボール、バレーボール、バドミントンなどに使える競技場です。月ごとの抽選で利用団体を決めます。"
        ),
        "accessibility": "車椅子対応エレベーター\n多機能トイレ\n車椅子使用者用駐車場",
        "access": "デモ駅 南口からバス「港南三丁目」下車すぐ",
        "eligibility": Facility.Eligibility.GROUPS,
        "monthly_limit": 4,
        "calendar": Facility.Calendar.YEAR_END,
        "closed_weekdays": "0",
        "rooms": [
            ("daiichi", "第1競技場", 200, 3000),
            ("daini", "第2競技場", 100, 0),
        ],
    },
]


@dataclass
class ReservationsReport:
    created: int

    def lines(self) -> list[str]:
        return [f"reservations: {self.created} created" if self.created else "reservations: nothing changed"]


def _facility(spec: dict[str, object], department: Department | None) -> tuple[Facility, int]:
    values = {k: v for k, v in spec.items() if k not in ("code", "rooms")}
    facility, created = Facility.objects.get_or_create(
        code=str(spec["code"]), defaults={**values, "department": department}
    )
    count = int(created)
    for order, (code, name, start, end) in enumerate(BLOCKS, start=1):
        _block, made = TimeBlock.objects.get_or_create(
            facility=facility,
            code=code,
            defaults={"name": name, "start_time": start, "end_time": end, "sort_order": order},
        )
        count += int(made)
    rooms = spec["rooms"]
    assert isinstance(rooms, list)  # noqa: S101 - data above
    for order, (code, name, capacity, fee) in enumerate(rooms, start=1):
        _room, made = Room.objects.get_or_create(
            facility=facility,
            code=code,
            defaults={"name": name, "capacity": capacity, "fee_yen": fee, "sort_order": order},
        )
        count += int(made)
    return facility, count


def _group(user: User) -> int:
    resident = user.resident
    if resident is None or Group.objects.filter(representative=user, name="デモ区バドミントンクラブ").exists():
        return 0
    address = resident.household.address
    group = Group.objects.create(
        name="デモ区バドミントンクラブ",
        name_kana="デモクバドミントンクラブ",
        activity="バドミントンの練習と区民大会への参加",
        member_count=15,
        representative=user,
        rep_name=resident.full_name,
        rep_birth_date=resident.birth_date,
        rep_address=address,
        rep_resident=resident,
        person_key=rules.person_key(name=resident.full_name, birth_date=resident.birth_date, address=address),
        status=Group.Status.APPROVED,
        card_number="G-DEMO-00001",
        reviewed_at=timezone.now(),
    )
    GroupMember.objects.create(group=group, name=resident.full_name)
    return 1


def _lottery(gym: Facility, actor: User | None) -> int:
    now = timezone.now()
    month = rules.next_month(rules.next_month(timezone.localdate(now)))
    if LotteryRound.objects.filter(facility=gym, month=month).exists() or actor is None:
        return 0
    today = timezone.localdate(now)
    start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=1), dt.time(9, 0)))
    closes = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=10), dt.time(17, 0)))
    lottery_round_create(
        actor=actor,
        facility=gym,
        month=month,
        opens_at=start,
        closes_at=closes,
        confirm_deadline=closes + dt.timedelta(days=7),
        first_come_opens_at=closes + dt.timedelta(days=10),
        max_entries=3,
        max_wins=2,
    )
    return 1


def _events(hall: Facility, department: Department | None) -> int:
    today = timezone.localdate()
    created = 0
    specs = [
        (
            "デモ区防災フェア",
            "デモクボウサイフェア",
            "起震車の体験、非常食の試食、家具の転倒防止の相談があります。",
            14,
            dt.time(10, 0),
            dt.time(12, 0),
            50,
        ),
        (
            "親子で楽しむ工作教室",
            "オヤコデタノシムコウサクキョウシツ",
            "牛乳パックや段ボールで工作をします。小学生とその保護者が対象です（定員はお子さん1人と保護者で1組）。",
            21,
            dt.time(13, 30),
            dt.time(15, 30),
            3,
        ),
    ]
    for title, kana, description, days, start, end, capacity in specs:
        if Event.objects.filter(title=title, facility=hall).exists():
            continue
        day = today + dt.timedelta(days=days)
        Event.objects.create(
            department=department,
            facility=hall,
            title=title,
            title_kana=kana,
            description=description,
            starts_at=timezone.make_aware(dt.datetime.combine(day, start)),
            ends_at=timezone.make_aware(dt.datetime.combine(day, end)),
            place_name=f"{hall.name} 集会室A",
            capacity=capacity,
            application_closes_at=timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(17, 0))),
            organizer="デモ区 地域振興課",
            contact_name="デモ区 地域振興課",
            contact_phone="03-5555-2301",
            access=hall.access,
        )
        created += 1
    return created


def reservations_demo_load() -> ReservationsReport:
    department = Department.objects.filter(code="chiiki").first()
    created = 0
    facilities = {}
    for spec in FACILITIES:
        facility, count = _facility(spec, department)
        facilities[facility.code] = facility
        created += count
    hanako = User.objects.filter(email="hanako@example.jp").select_related("resident__household").first()
    if hanako is not None:
        created += _group(hanako)
    actor = User.objects.filter(email="chiiki-kakaricho@demo-ku.example.jp").first()
    created += _lottery(facilities["sogo-taiikukan"], actor)
    created += _events(facilities["chuo-kumin-kaikan"], department)
    return ReservationsReport(created=created)
