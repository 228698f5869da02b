"""Counter appointments (窓口予約) and the same-day queue (整理券).

A ``Counter`` is a department's counter (窓口) with opening hours per weekday
(``OpeningHours``) and closed days of its own or of the whole ward (``ClosedDay``) on
top of the ward office's calendar (weekends, national holidays, 年末年始:
``core.japanese.is_closed_day``). ``CounterProcedure`` says which procedures can be
booked there, how long one appointment takes and how many residents can be seen at
once. ``services.slots_generate`` turns that into ``AppointmentSlot`` rows (one per
counter, procedure and start time) with a ``capacity``; ``booked`` counts the
appointments in it and is only ever changed by conditional updates, so a slot never
holds more than its capacity.

An ``Appointment`` is a resident's booking of a slot; its status moves through
``APPOINTMENT_TRANSITIONS``. A ``QueueTicket`` is a place in the same-day queue of a
counter, taken at the kiosk or by phone (a walk-in) or made when staff mark an
appointment as arrived; see ``queue`` for the order in which tickets are called.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    department = models.ForeignKey(
        "core.Department", verbose_name=_("部署"), on_delete=models.PROTECT, related_name="appointment_counters"
    )
    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("名称（英語）"), max_length=200, blank=True)
    location = models.CharField(_("場所"), max_length=200, blank=True)
    location_en = models.CharField(_("場所（英語）"), max_length=200, blank=True)
    floor = models.SlugField(
        _("フロア"), max_length=32, blank=True, help_text=_("呼出表示をまとめるフロアのコード（例: 2f）。")
    )
    ticket_prefix = models.CharField(
        _("整理券の記号"), max_length=2, help_text=_("整理券番号の前に付ける記号（例: A → A-012）。")
    )
    desks = models.PositiveSmallIntegerField(
        _("同時に対応する窓口の数"), default=1, help_text=_("待ち時間の見込みの計算に使います。")
    )
    default_service_minutes = models.PositiveSmallIntegerField(
        _("1人あたりの対応時間の既定値（分）"),
        default=10,
        help_text=_("対応の記録がまだないときに、待ち時間の見込みに使います。"),
    )
    active = models.BooleanField(_("受付中"), default=True)
    kiosk_generation = models.PositiveIntegerField(
        _("発券機の登録の世代"),
        default=1,
        help_text=_(
            "職員が「発券機の登録をすべて解除」すると1つ増え、それまでに登録した端末は発券機ではなくなります。"
        ),
    )
    procedures = models.ManyToManyField(
        "catalog.Procedure",
        through="CounterProcedure",
        verbose_name=_("予約できる手続き"),
        related_name="appointment_counters",
        blank=True,
    )

    objects: ClassVar[models.Manager[Counter]] = models.Manager()

    class Meta:
        verbose_name = _("窓口")
        verbose_name_plural = _("窓口")
        ordering = ["department__code", "code"]
        constraints = [models.UniqueConstraint(fields=["ticket_prefix"], name="appointments_counter_prefix_unique")]

    def __str__(self) -> str:
        return self.name


class CounterProcedure(models.Model):
    """A procedure that can be booked at a counter: the slot length and how many
    residents one slot takes."""

    counter = models.ForeignKey(Counter, verbose_name=_("窓口"), on_delete=models.CASCADE, related_name="offers")
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("手続き"), on_delete=models.CASCADE, related_name="+"
    )
    slot_minutes = models.PositiveSmallIntegerField(_("予約枠の長さ（分）"), default=15)
    capacity = models.PositiveSmallIntegerField(_("1枠の定員"), default=1)

    class Meta:
        verbose_name = _("予約できる手続き")
        verbose_name_plural = _("予約できる手続き")
        constraints = [
            models.UniqueConstraint(fields=["counter", "procedure"], name="appointments_offer_unique"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="appointments_offer_slot_min"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="appointments_offer_capacity_min"),
        ]

    def __str__(self) -> str:
        return f"{self.counter} / {self.procedure}"


class OpeningHours(models.Model):
    """One opening period of a counter on a weekday (a day may have several, e.g. a
    lunch break between two)."""

    WEEKDAYS: ClassVar[list[tuple[int, Any]]] = [
        (0, _("月曜日")),
        (1, _("火曜日")),
        (2, _("水曜日")),
        (3, _("木曜日")),
        (4, _("金曜日")),
        (5, _("土曜日")),
        (6, _("日曜日")),
    ]

    counter = models.ForeignKey(Counter, verbose_name=_("窓口"), on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("曜日"), choices=WEEKDAYS)
    opens = models.TimeField(_("開始"))
    closes = models.TimeField(_("終了"))

    class Meta:
        verbose_name = _("受付時間")
        verbose_name_plural = _("受付時間")
        ordering = ["counter", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="appointments_hours_order"),
            models.UniqueConstraint(fields=["counter", "weekday", "opens"], name="appointments_hours_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosedDay(models.Model):
    """A day a counter (or, with no counter, every counter of the ward) is closed, on
    top of weekends, national holidays and 年末年始."""

    counter = models.ForeignKey(
        Counter,
        verbose_name=_("窓口"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closed_days",
        help_text=_("空欄なら区のすべての窓口が休みです。"),
    )
    date = models.DateField(_("日付"))
    reason = models.CharField(_("理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("休業日")
        verbose_name_plural = _("休業日")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["counter", "date"], name="appointments_closed_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class AppointmentSlot(models.Model):
    counter = models.ForeignKey(Counter, verbose_name=_("窓口"), on_delete=models.CASCADE, related_name="slots")
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("手続き"), on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("開始"))
    ends_at = models.DateTimeField(_("終了"))
    capacity = models.PositiveSmallIntegerField(_("定員"))
    booked = models.PositiveSmallIntegerField(_("予約数"), default=0)

    objects: ClassVar[models.Manager[AppointmentSlot]] = models.Manager()

    class Meta:
        verbose_name = _("予約枠")
        verbose_name_plural = _("予約枠")
        ordering = ["starts_at", "counter"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "procedure", "starts_at"], name="appointments_slot_unique"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="appointments_slot_not_over"),
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="appointments_slot_order"),
        ]
        indexes = [models.Index(fields=["procedure", "starts_at"], name="appointments_slot_proc_idx")]

    def __str__(self) -> str:
        return f"{self.counter} {self.procedure} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.capacity is not None and self.booked is not None and self.capacity < self.booked:
            raise ValidationError({"capacity": _("すでに予約がある人数より少なくはできません。")})

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("予約済み")
    CANCELLED = "cancelled", _("取消し")
    ARRIVED = "arrived", _("来庁済み")
    NO_SHOW = "no_show", _("来庁なし")
    DONE = "done", _("対応済み")


#: Allowed status changes of an appointment; anything else raises ``IllegalTransition``.
APPOINTMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {AppointmentStatus.CANCELLED, AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.ARRIVED: frozenset({AppointmentStatus.DONE, AppointmentStatus.NO_SHOW}),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
    AppointmentStatus.DONE: frozenset(),
}


class Appointment(models.Model):
    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("予約者"), on_delete=models.CASCADE, related_name="appointments"
    )
    slot = models.ForeignKey(
        AppointmentSlot, verbose_name=_("予約枠"), on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED, db_index=True
    )
    sequence = models.PositiveIntegerField(_("変更回数"), default=0, help_text=_("カレンダー（.ics）の版"))
    created_at = models.DateTimeField(_("予約日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    cancelled_at = models.DateTimeField(_("取消日時"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("来庁日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    reminded_for = models.DateTimeField(
        _("前日のお知らせを送った予約日時"), null=True, blank=True, help_text=_("変更されると送り直します。")
    )
    link_base_url = models.CharField(
        _("お知らせのリンクのサイトアドレス"), max_length=200, blank=True, help_text=_("予約したときのサイトのアドレス")
    )

    objects: ClassVar[models.Manager[Appointment]] = models.Manager()

    class Meta:
        verbose_name = _("窓口予約")
        verbose_name_plural = _("窓口予約")
        ordering = ["slot__starts_at", "pk"]
        indexes = [models.Index(fields=["resident", "status"], name="appointments_resident_idx")]

    def __str__(self) -> str:
        return f"{self.slot} {self.get_status_display()}"

    @property
    def reference(self) -> str:
        """A short number residents can read out at the counter."""
        return f"Y{self.pk:06d}"


class TicketKind(models.TextChoices):
    WALK_IN = "walk_in", _("当日受付")
    APPOINTMENT = "appointment", _("予約")


class TicketChannel(models.TextChoices):
    KIOSK = "kiosk", _("発券機")
    PHONE = "phone", _("スマートフォン")
    STAFF = "staff", _("職員")
    CHECKIN = "checkin", _("本人の到着受付")


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("お待ち")
    CALLED = "called", _("呼出中")
    SERVED = "served", _("対応済み")
    NO_SHOW = "no_show", _("不在")
    CANCELLED = "cancelled", _("取消し")


TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.WAITING: frozenset({TicketStatus.CALLED, TicketStatus.CANCELLED}),
    TicketStatus.CALLED: frozenset({TicketStatus.SERVED, TicketStatus.NO_SHOW, TicketStatus.WAITING}),
    TicketStatus.SERVED: frozenset(),
    TicketStatus.NO_SHOW: frozenset(),
    TicketStatus.CANCELLED: frozenset(),
}
OPEN_TICKET_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED)


class QueueTicket(models.Model):
    """A place in a counter's queue for one day. ``number`` counts per issuing
    counter and day; a ticket moved to another counter keeps its number and the place
    its ``queued_at`` gives it."""

    public_id = models.UUIDField(_("公開ID"), default=uuid.uuid4, unique=True, editable=False)
    counter = models.ForeignKey(Counter, verbose_name=_("窓口"), on_delete=models.PROTECT, related_name="tickets")
    issued_counter = models.ForeignKey(
        Counter, verbose_name=_("発券した窓口"), on_delete=models.PROTECT, related_name="+"
    )
    service_date = models.DateField(_("日付"))
    number = models.PositiveIntegerField(_("番号"))
    kind = models.CharField(_("種類"), max_length=16, choices=TicketKind.choices, default=TicketKind.WALK_IN)
    channel = models.CharField(_("受付方法"), max_length=16, choices=TicketChannel.choices)
    appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("予約"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("アカウント"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queue_tickets",
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.WAITING, db_index=True
    )
    issued_at = models.DateTimeField(_("発券日時"))
    queued_at = models.DateTimeField(_("並び始めた日時"))
    called_at = models.DateTimeField(_("呼出日時"), null=True, blank=True, help_text=_("最初に呼び出した日時"))
    last_called_at = models.DateTimeField(_("最後の呼出日時"), null=True, blank=True)
    served_at = models.DateTimeField(_("対応完了日時"), null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(_("呼出回数"), default=0)
    called_with_priority = models.BooleanField(_("予約優先で呼出"), default=False)
    desk = models.CharField(_("窓口番号"), max_length=20, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("呼び出した職員"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    transferred_from = models.ForeignKey(
        Counter, verbose_name=_("回送元の窓口"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    soon_notified_at = models.DateTimeField(_("まもなくのお知らせ日時"), null=True, blank=True)
    link_base_url = models.CharField(_("お知らせのリンクのサイトアドレス"), max_length=200, blank=True)
    client_key = models.CharField(
        _("発券を求めた利用者のキー"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("発券の回数の上限に使う、アカウントまたはブラウザと接続元の鍵付きハッシュ。翌日に消します。"),
    )
    client_address_key = models.CharField(
        _("接続元のキー"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("接続元ごとの上限に使う鍵付きハッシュ。翌日に消します。"),
    )

    objects: ClassVar[models.Manager[QueueTicket]] = models.Manager()

    class Meta:
        verbose_name = _("整理券")
        verbose_name_plural = _("整理券")
        ordering = ["service_date", "queued_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issued_counter", "service_date", "number"], name="appointments_ticket_number_unique"
            )
        ]
        indexes = [
            models.Index(fields=["counter", "service_date", "status"], name="appointments_ticket_queue_idx"),
            models.Index(fields=["counter", "status", "served_at"], name="appointments_ticket_served_idx"),
            models.Index(fields=["client_key", "issued_at"], name="appointments_ticket_client_idx"),
            models.Index(fields=["client_address_key", "issued_at"], name="appointments_ticket_addr_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        prefix = self.issued_counter.ticket_prefix if self.issued_counter_id else ""
        return f"{prefix}-{self.number:03d}"
