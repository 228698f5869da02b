"""Facilities, bookings, registered groups, lotteries (抽選) and events.

- ``Facility`` has ``Room``s, daily ``TimeBlock``s (午前・午後・夜間) and its booking
  rules (who may book, a monthly limit, how far ahead, cancellation and payment
  deadlines, a cancellation fee, its closing calendar plus ``FacilityClosure`` days).
- A ``Slot`` is one room in one block on one date. A ``Booking`` holds a slot; at most
  one active booking per slot is enforced by a partial unique constraint, so the
  database itself refuses a double booking whatever the application code does. A
  cancelled or lapsed booking whose fee was paid is ``refund_due`` until the refund
  through the payment plugin succeeds (``services.refunds``).
- A ``Group`` (団体登録) is registered by its representative and approved by staff.
- A ``LotteryRound`` draws the slots of one facility-month among ``LotteryApplication``s
  (one per group; each with up to N ``LotteryEntry`` rows holding a 1st and a 2nd
  choice). The round keeps its seed encrypted, publishes its SHA-256 from the start and
  the seed itself after the draw; ``LotteryWin`` rows are the persisted result.
- ``Event`` and ``EventRegistration``: capacity, waitlist, QR check-in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.core.models import Department, Resident


class Facility(models.Model):
    class Kind(models.TextChoices):
        COMMUNITY_HALL = "community_hall", _("区民会館・集会施設")
        GYM = "gym", _("体育館")
        SPORTS_GROUND = "sports_ground", _("運動場・球技場")
        TENNIS = "tennis", _("テニスコート")
        CULTURE = "culture", _("文化施設")
        OTHER = "other", _("その他")

    class Eligibility(models.TextChoices):
        GROUPS = "groups", _("登録団体のみ")
        INDIVIDUALS = "individuals", _("区内在住・在勤・在学の個人のみ")
        BOTH = "both", _("登録団体と区内在住・在勤・在学の個人")

    class Calendar(models.TextChoices):
        OFFICE = "office", _("区役所と同じ（土日・祝日・年末年始は休館）")
        YEAR_END = "year_end", _("年末年始のみ休館（土日・祝日も開館）")

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_kana = models.CharField(_("名称（カナ）"), max_length=200, blank=True)
    name_en = models.CharField(_("名称（英語）"), max_length=200, blank=True)
    nickname = models.CharField(_("通称"), max_length=100, blank=True)
    kind = models.CharField(_("種類"), max_length=32, choices=Kind.choices, default=Kind.COMMUNITY_HALL)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所管部署"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True)
    address_prefecture = models.CharField(_("所在地（都道府県）"), max_length=10, default="東京都")
    address_city = models.CharField(_("所在地（市区町村）"), max_length=50, blank=True)
    address_town = models.CharField(_("所在地（町字）"), max_length=100, blank=True)
    address_block = models.CharField(_("所在地（番地以下）"), max_length=100, blank=True)
    address_building = models.CharField(_("建物名等（方書）"), max_length=100, blank=True)
    latitude = models.DecimalField(_("緯度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("経度"), max_digits=9, decimal_places=6, null=True, blank=True)
    phone = models.CharField(_("電話番号"), max_length=32, blank=True)
    email = models.EmailField(_("連絡先メールアドレス"), blank=True)
    url = models.URLField(_("URL"), blank=True)
    description = models.TextField(_("説明"), blank=True)
    accessibility = models.TextField(
        _("バリアフリー情報"), blank=True, help_text=_("1行に1項目（例: 車椅子対応エレベーター）。")
    )
    access = models.TextField(_("交通アクセス"), blank=True)
    eligibility = models.CharField(
        _("予約できる方"), max_length=16, choices=Eligibility.choices, default=Eligibility.BOTH
    )
    monthly_limit = models.PositiveSmallIntegerField(
        _("1か月の予約上限（枠）"), default=4, help_text=_("団体または個人ごと、利用月ごと。0 は上限なし。")
    )
    advance_days = models.PositiveSmallIntegerField(_("何日先まで予約できるか"), default=60)
    cancel_days = models.PositiveSmallIntegerField(
        _("取消期限（利用日の何日前まで）"), default=3, help_text=_("0 は利用開始時刻まで。")
    )
    cancel_fee_percent = models.PositiveSmallIntegerField(
        _("取消手数料（使用料の%）"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("取消期限までに取り消したとき、お支払い済みの使用料から差し引く割合。0 は全額返金。"),
    )
    payment_days = models.PositiveSmallIntegerField(_("支払期限（予約から何日以内）"), default=3)
    calendar = models.CharField(_("休館日の基準"), max_length=16, choices=Calendar.choices, default=Calendar.YEAR_END)
    closed_weekdays = models.CharField(
        _("定休日（曜日）"),
        max_length=7,
        blank=True,
        help_text=_("月曜=0 … 日曜=6 の数字を並べる（例: 0 は毎週月曜休館）。"),
    )
    is_active = models.BooleanField(_("公開中"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("施設")
        verbose_name_plural = _("施設")
        ordering: ClassVar[list[str]] = ["sort_order", "code"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(cancel_fee_percent__lte=100), name="facility_cancel_fee_percent_le_100")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        """所在地_連結表記: prefecture through building."""
        main = "".join([self.address_prefecture, self.address_city, self.address_town, self.address_block])
        return f"{main} {self.address_building}".strip()

    @property
    def accessibility_items(self) -> list[str]:
        return [line.strip() for line in self.accessibility.splitlines() if line.strip()]

    @property
    def closed_weekday_set(self) -> frozenset[int]:
        return frozenset(int(ch) for ch in self.closed_weekdays if ch.isdigit() and int(ch) <= 6)

    @property
    def accepts_groups(self) -> bool:
        return self.eligibility in (self.Eligibility.GROUPS, self.Eligibility.BOTH)

    @property
    def accepts_individuals(self) -> bool:
        return self.eligibility in (self.Eligibility.INDIVIDUALS, self.Eligibility.BOTH)


class Room(models.Model):
    facility = models.ForeignKey(Facility, verbose_name=_("施設"), on_delete=models.CASCADE, related_name="rooms")
    code = models.SlugField(_("コード"), max_length=64)
    name = models.CharField(_("名称"), max_length=100)
    capacity = models.PositiveIntegerField(_("定員（人）"), default=0)
    fee_yen = models.PositiveIntegerField(_("使用料（1枠・円）"), default=0)
    description = models.TextField(_("説明"), blank=True)
    is_active = models.BooleanField(_("予約受付中"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("部屋・面")
        verbose_name_plural = _("部屋・面")
        ordering: ClassVar[list[str]] = ["facility", "sort_order", "code"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["facility", "code"], name="room_code_unique_per_facility")
        ]

    def __str__(self) -> str:
        return f"{self.facility.name} {self.name}"


class TimeBlock(models.Model):
    """One of a facility's daily blocks (午前 9:00–12:00 …). The blocks are the
    facility's opening hours: nothing outside them can be booked."""

    facility = models.ForeignKey(Facility, verbose_name=_("施設"), on_delete=models.CASCADE, related_name="time_blocks")
    code = models.SlugField(_("コード"), max_length=32)
    name = models.CharField(_("名称"), max_length=50)
    start_time = models.TimeField(_("開始時刻"))
    end_time = models.TimeField(_("終了時刻"))
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("時間帯")
        verbose_name_plural = _("時間帯")
        ordering: ClassVar[list[str]] = ["facility", "sort_order", "start_time"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["facility", "code"], name="block_code_unique_per_facility")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.start_time:%H:%M}〜{self.end_time:%H:%M}）"


class FacilityClosure(models.Model):
    """Days a facility is closed besides its calendar (点検、工事 …)."""

    facility = models.ForeignKey(Facility, verbose_name=_("施設"), on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(_("開始日"))
    end_date = models.DateField(_("終了日"))
    reason = models.CharField(_("理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("臨時休館")
        verbose_name_plural = _("臨時休館")
        ordering: ClassVar[list[str]] = ["start_date"]

    def __str__(self) -> str:
        return f"{self.facility} {self.start_date}〜{self.end_date}"


class Slot(models.Model):
    """One room in one time block on one date."""

    room = models.ForeignKey(Room, verbose_name=_("部屋・面"), on_delete=models.PROTECT, related_name="slots")
    date = models.DateField(_("利用日"))
    block = models.ForeignKey(TimeBlock, verbose_name=_("時間帯"), on_delete=models.PROTECT, related_name="slots")
    lottery_round = models.ForeignKey(
        "LotteryRound",
        verbose_name=_("抽選"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="slots",
    )

    class Meta:
        verbose_name = _("予約枠")
        verbose_name_plural = _("予約枠")
        ordering: ClassVar[list[str]] = ["date", "block__sort_order", "room__sort_order"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["room", "date", "block"], name="one_slot_per_room_date_block")
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.room} {self.date} {self.block.name}"

    @property
    def key(self) -> str:
        """The slot's public name in draw data: ``<room>/<date>/<block>``."""
        return f"{self.room.code}/{self.date.isoformat()}/{self.block.code}"

    @property
    def starts_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.block.start_time))

    @property
    def ends_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.block.end_time))


class Group(models.Model):
    """A registered group (団体登録). One representative holds the group's card; the
    representative's identity (from the resident record when the account has one) is
    what duplicate-card detection compares."""

    class Status(models.TextChoices):
        PENDING = "pending", _("審査中")
        APPROVED = "approved", _("登録済み")
        REJECTED = "rejected", _("登録不可")

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("団体名"), max_length=100)
    name_kana = models.CharField(_("団体名（フリガナ）"), max_length=200)
    activity = models.CharField(_("活動内容"), max_length=200)
    member_count = models.PositiveSmallIntegerField(_("会員数"))
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代表者のアカウント"),
        on_delete=models.PROTECT,
        related_name="represented_groups",
    )
    rep_name = models.CharField(_("代表者の氏名"), max_length=100)
    rep_birth_date = models.DateField(_("代表者の生年月日"))
    rep_address = models.CharField(_("代表者の住所"), max_length=300)
    rep_phone = models.CharField(_("代表者の電話番号"), max_length=32, blank=True)
    rep_resident = models.ForeignKey(
        Resident,
        verbose_name=_("代表者の住民記録"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    person_key = models.CharField(_("代表者の照合キー"), max_length=64, db_index=True)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.PENDING)
    card_number = models.CharField(_("団体登録番号"), max_length=20, unique=True, null=True, blank=True)
    review_note = models.CharField(_("審査メモ"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("審査した職員"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("審査日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("登録団体")
        verbose_name_plural = _("登録団体")
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(Group, verbose_name=_("団体"), on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("氏名"), max_length=100)
    name_kana = models.CharField(_("氏名（フリガナ）"), max_length=200, blank=True)
    in_ward = models.BooleanField(_("区内在住・在勤・在学"), default=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("団体の会員")
        verbose_name_plural = _("団体の会員")
        ordering: ClassVar[list[str]] = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name


class LotteryRound(models.Model):
    """The lottery of one facility-month: an application window, a draw, a time to
    confirm, a waitlist period, then first-come for what is left."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("施設"), on_delete=models.PROTECT, related_name="lottery_rounds"
    )
    month = models.DateField(_("対象月"), help_text=_("その月の1日。"))
    title = models.CharField(_("名称"), max_length=200)
    opens_at = models.DateTimeField(_("申込受付開始"))
    closes_at = models.DateTimeField(_("申込受付終了"))
    confirm_deadline = models.DateTimeField(_("当選者の確定・支払期限"))
    first_come_opens_at = models.DateTimeField(_("空き枠の先着順受付開始"))
    max_entries = models.PositiveSmallIntegerField(_("1団体の申込枠数（上限）"), default=3)
    max_wins = models.PositiveSmallIntegerField(_("1団体の当選枠数（上限）"), default=2)
    seed_encrypted = models.TextField(_("シード（暗号化）"))
    seed_hash = models.CharField(_("シードのSHA-256"), max_length=64)
    seed_revealed = models.CharField(_("公開したシード"), max_length=64, blank=True)
    excluded_slots = models.JSONField(
        _("抽選から除いた枠"), default=list, blank=True, help_text=_("抽選の時点で休館日または予約済みだった枠。")
    )
    algorithm = models.CharField(_("抽選方式"), max_length=64)
    drawn_at = models.DateTimeField(_("抽選日時"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽選した職員"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    result_digest = models.CharField(_("結果のSHA-256"), max_length=64, blank=True)
    application_count = models.PositiveIntegerField(_("申込数"), default=0)
    entry_count = models.PositiveIntegerField(_("申込枠数"), default=0)
    win_count = models.PositiveIntegerField(_("当選数"), default=0)
    draw_ms = models.PositiveIntegerField(_("抽選処理時間（ミリ秒）"), default=0)
    results_notified_at = models.DateTimeField(_("結果通知日時"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成した職員"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Phase(models.TextChoices):
        UPCOMING = "upcoming", _("受付前")
        OPEN = "open", _("申込受付中")
        CLOSED = "closed", _("受付終了・抽選待ち")
        CONFIRMING = "confirming", _("抽選済み・当選者の確定期間")
        WAITLIST = "waitlist", _("抽選済み・繰り上げ期間")
        FIRST_COME = "first_come", _("空き枠の先着順受付中")

    class Meta:
        verbose_name = _("抽選")
        verbose_name_plural = _("抽選")
        ordering: ClassVar[list[str]] = ["-month", "facility"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["facility", "month"], name="one_lottery_per_facility_month")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_drawn(self) -> bool:
        return self.drawn_at is not None

    def phase(self, now: dt.datetime | None = None) -> str:
        now = now or timezone.now()
        if now < self.opens_at:
            return self.Phase.UPCOMING
        if now < self.closes_at:
            return self.Phase.OPEN
        if not self.is_drawn:
            return self.Phase.CLOSED
        if now < self.confirm_deadline:
            return self.Phase.CONFIRMING
        if now < self.first_come_opens_at:
            return self.Phase.WAITLIST
        return self.Phase.FIRST_COME

    def phase_label(self) -> str:
        return str(self.Phase(self.phase()).label)

    @property
    def month_end(self) -> dt.date:
        following = (self.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)


class LotteryApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("申込済み")
        WITHDRAWN = "withdrawn", _("取下げ")

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        LotteryRound, verbose_name=_("抽選"), on_delete=models.PROTECT, related_name="applications"
    )
    group = models.ForeignKey(Group, verbose_name=_("団体"), on_delete=models.PROTECT, related_name="applications")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申込者"), on_delete=models.PROTECT, related_name="+"
    )
    person_key = models.CharField(_("代表者の照合キー"), max_length=64)
    resident_key = models.CharField(_("代表者の住民記録キー"), max_length=32, null=True, blank=True)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(_("申込日時"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("取下げ日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("抽選の申込")
        verbose_name_plural = _("抽選の申込")
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["round", "group"], condition=Q(status="submitted"), name="one_application_per_group_round"
            ),
            models.UniqueConstraint(
                fields=["round", "person_key"],
                condition=Q(status="submitted"),
                name="one_application_per_person_round",
            ),
            models.UniqueConstraint(
                fields=["round", "resident_key"],
                condition=Q(status="submitted", resident_key__isnull=False),
                name="one_application_per_resident_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.group}"


class LotteryEntry(models.Model):
    """One requested slot of an application: a 1st choice and, optionally, a 2nd."""

    application = models.ForeignKey(
        LotteryApplication, verbose_name=_("申込"), on_delete=models.CASCADE, related_name="entries"
    )
    position = models.PositiveSmallIntegerField(_("番号"))
    first_slot = models.ForeignKey(Slot, verbose_name=_("第1希望"), on_delete=models.PROTECT, related_name="+")
    second_slot = models.ForeignKey(
        Slot, verbose_name=_("第2希望"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("申込枠")
        verbose_name_plural = _("申込枠")
        ordering: ClassVar[list[str]] = ["application", "position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["application", "position"], name="entry_position_unique")
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["first_slot"]),
            models.Index(fields=["second_slot"]),
        ]

    def __str__(self) -> str:
        return f"{self.application} #{self.position}"


class LotteryWin(models.Model):
    """A slot given to an entry: by the draw, or later from the waitlist."""

    round = models.ForeignKey(LotteryRound, verbose_name=_("抽選"), on_delete=models.PROTECT, related_name="wins")
    entry = models.OneToOneField(LotteryEntry, verbose_name=_("申込枠"), on_delete=models.PROTECT, related_name="win")
    slot = models.ForeignKey(Slot, verbose_name=_("当選枠"), on_delete=models.PROTECT, related_name="+")
    choice = models.PositiveSmallIntegerField(_("希望順位"))
    via_waitlist = models.BooleanField(_("繰り上げ当選"), default=False)
    created_at = models.DateTimeField(_("当選日時"), default=timezone.now)

    class Meta:
        verbose_name = _("当選")
        verbose_name_plural = _("当選")
        ordering: ClassVar[list[str]] = ["round", "pk"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["round", "slot"])]

    def __str__(self) -> str:
        return f"{self.entry} → {self.slot_id}"


class Booking(models.Model):
    class Status(models.TextChoices):
        OFFERED = "offered", _("当選（利用の確定待ち）")
        PENDING_PAYMENT = "pending_payment", _("お支払い待ち")
        CONFIRMED = "confirmed", _("予約確定")
        CANCELLED = "cancelled", _("取消し")
        LAPSED = "lapsed", _("期限切れ")

    class Source(models.TextChoices):
        FIRST_COME = "first_come", _("先着順")
        LOTTERY = "lottery", _("抽選")

    class Eligibility(models.TextChoices):
        GROUP = "group", _("登録団体")
        RESIDENT = "resident", _("区内在住")
        WORKER = "worker", _("区内在勤・在学")

    #: The statuses that hold the slot.
    ACTIVE: ClassVar[tuple[str, ...]] = ("offered", "pending_payment", "confirmed")

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, verbose_name=_("施設"), on_delete=models.PROTECT, related_name="bookings")
    slot = models.ForeignKey(Slot, verbose_name=_("予約枠"), on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("予約した方"), on_delete=models.PROTECT, related_name="bookings"
    )
    group = models.ForeignKey(
        Group, verbose_name=_("団体"), null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    eligibility = models.CharField(_("利用資格"), max_length=16, choices=Eligibility.choices)
    workplace = models.CharField(_("勤務先・学校"), max_length=100, blank=True)
    purpose = models.CharField(_("利用目的"), max_length=200)
    attendees = models.PositiveSmallIntegerField(_("利用人数"), default=1)
    fee_yen = models.PositiveIntegerField(_("使用料"), default=0)
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices)
    source = models.CharField(_("受付方法"), max_length=16, choices=Source.choices, default=Source.FIRST_COME)
    deadline = models.DateTimeField(_("確定・支払期限"), null=True, blank=True)
    lottery_win = models.OneToOneField(
        LotteryWin,
        verbose_name=_("当選"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booking",
    )
    refund_due = models.BooleanField(_("要返金"), default=False)
    cancel_fee_yen = models.PositiveIntegerField(_("取消手数料"), default=0)
    refunded_yen = models.PositiveIntegerField(_("返金済みの額"), default=0)
    refunded_at = models.DateTimeField(_("返金日時"), null=True, blank=True)
    refund_attempts = models.PositiveSmallIntegerField(_("返金の失敗回数"), default=0)
    refund_next_attempt_at = models.DateTimeField(_("次に返金を試みる日時"), null=True, blank=True)
    refund_last_error = models.CharField(_("返金の最後のエラー"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("予約日時"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("確定日時"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消・失効日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("施設予約")
        verbose_name_plural = _("施設予約")
        ordering: ClassVar[list[str]] = ["-created_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status__in=["offered", "pending_payment", "confirmed"]),
                name="one_active_booking_per_slot",
            )
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["refund_due", "refund_next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.slot} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class Event(models.Model):
    department = models.ForeignKey(
        Department,
        verbose_name=_("担当部署"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    facility = models.ForeignKey(
        Facility, verbose_name=_("会場の施設"), null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    title = models.CharField(_("イベント名"), max_length=200)
    title_kana = models.CharField(_("イベント名（カナ）"), max_length=300, blank=True)
    title_en = models.CharField(_("イベント名（英語）"), max_length=300, blank=True)
    description = models.TextField(_("説明"), blank=True)
    starts_at = models.DateTimeField(_("開始日時"))
    ends_at = models.DateTimeField(_("終了日時"))
    date_note = models.CharField(_("開始日時特記事項"), max_length=200, blank=True)
    place_name = models.CharField(_("場所名称"), max_length=200)
    address = models.CharField(_("所在地"), max_length=300, blank=True)
    access = models.CharField(_("アクセス方法"), max_length=300, blank=True)
    parking = models.CharField(_("駐車場情報"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("定員"))
    fee_yen = models.PositiveIntegerField(_("参加費（円）"), default=0)
    fee_detail = models.CharField(_("料金（詳細）"), max_length=200, blank=True)
    organizer = models.CharField(_("主催者"), max_length=200, blank=True)
    contact_name = models.CharField(_("連絡先名称"), max_length=200, blank=True)
    contact_phone = models.CharField(_("連絡先電話番号"), max_length=32, blank=True)
    application_closes_at = models.DateTimeField(_("申込締切"))
    application_method = models.CharField(
        _("参加申込方法"), max_length=200, default=_("オンライン窓口から申し込み（定員を超えた場合はキャンセル待ち）")
    )
    remarks = models.CharField(_("備考"), max_length=300, blank=True)
    is_published = models.BooleanField(_("公開"), default=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("イベント")
        verbose_name_plural = _("イベント")
        ordering: ClassVar[list[str]] = ["starts_at", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def full_address(self) -> str:
        if self.address:
            return self.address
        return self.facility.full_address if self.facility else ""


class EventRegistration(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", _("参加予定")
        WAITLISTED = "waitlisted", _("キャンセル待ち")
        CANCELLED = "cancelled", _("取消し")

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, verbose_name=_("イベント"), on_delete=models.PROTECT, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("参加者"),
        on_delete=models.PROTECT,
        related_name="event_registrations",
    )
    status = models.CharField(_("状態"), max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(_("申込日時"), default=timezone.now)
    promoted_at = models.DateTimeField(_("繰り上げ日時"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消日時"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("受付日時"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受付した職員"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("イベントの申込")
        verbose_name_plural = _("イベントの申込")
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["registered", "waitlisted"]),
                name="one_live_registration_per_event_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.user} ({self.get_status_display()})"
