"""The procedure catalog (手続き) and the life events (ライフイベント) that group them.

The catalog is reference data: it is edited in ``catalog/data/procedures.yaml`` and ``life_events.yaml`` and
loaded by ``catalog_import`` (see ``importer.py``); nothing else writes these tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("オンライン")
    COUNTER = "counter", _("窓口")
    POST = "post", _("郵送")
    KIOSK = "kiosk", _("コンビニ交付・キオスク端末")


class LifeEvent(models.Model):
    """A life event such as 出生 or 引越し（区外から）, with the guide's questions."""

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("名称（英語）"), max_length=200, blank=True)
    group = models.CharField(_("分類"), max_length=100, blank=True)
    group_en = models.CharField(_("分類（英語）"), max_length=200, blank=True)
    description = models.TextField(_("説明"), blank=True)
    description_en = models.TextField(_("説明（英語）"), blank=True)
    date_label = models.CharField(_("基準日の項目名"), max_length=100, blank=True)
    date_label_en = models.CharField(_("基準日の項目名（英語）"), max_length=200, blank=True)
    questions = models.JSONField(_("質問"), default=list, blank=True)
    order = models.PositiveIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("ライフイベント")
        verbose_name_plural = _("ライフイベント")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    """One procedure of the ward (手続き) with everything a resident needs to do it."""

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("名称（英語）"), max_length=300, blank=True)
    reading = models.CharField(_("よみがな"), max_length=400, blank=True)
    synonyms = models.JSONField(_("別名・検索語"), default=list, blank=True)
    summary = models.TextField(_("概要"), blank=True)
    summary_en = models.TextField(_("概要（英語）"), blank=True)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("担当部署"), on_delete=models.PROTECT, related_name="procedures"
    )
    counter = models.CharField(_("窓口"), max_length=200, blank=True)
    counter_en = models.CharField(_("窓口（英語）"), max_length=300, blank=True)
    life_events = models.ManyToManyField(
        LifeEvent, verbose_name=_("ライフイベント"), related_name="procedures", blank=True
    )
    eligibility = models.TextField(_("申請できる人"), blank=True)
    eligibility_en = models.TextField(_("申請できる人（英語）"), blank=True)
    bring = models.JSONField(_("持ち物"), default=list, blank=True)
    bring_en = models.JSONField(_("持ち物（英語）"), default=list, blank=True)
    fee_yen = models.PositiveIntegerField(_("手数料（円）"), null=True, blank=True)
    fee_note = models.CharField(_("手数料の説明"), max_length=300, blank=True)
    fee_note_en = models.CharField(_("手数料の説明（英語）"), max_length=400, blank=True)
    deadline_days = models.IntegerField(_("期限（日数）"), null=True, blank=True)
    deadline_counts_first_day = models.BooleanField(_("初日を算入する"), default=False)
    deadline_text = models.CharField(_("期限"), max_length=200, blank=True)
    deadline_text_en = models.CharField(_("期限（英語）"), max_length=300, blank=True)
    channels = models.JSONField(_("手続きの方法"), default=list, blank=True)
    legal_basis = models.CharField(_("根拠法令"), max_length=300, blank=True)
    processing_time = models.CharField(_("処理期間"), max_length=200, blank=True)
    processing_time_en = models.CharField(_("処理期間（英語）"), max_length=300, blank=True)
    processing_days = models.PositiveIntegerField(
        _("標準処理期間（開庁日数）"),
        null=True,
        blank=True,
        help_text=_("オンライン・郵送で受け付けた申請を処理する期限。空欄なら区の既定値を使います。"),
    )
    url = models.URLField(_("参考URL"), blank=True)
    catalog_version = models.CharField(_("カタログ版"), max_length=64, blank=True)
    active = models.BooleanField(_("掲載中"), default=True)

    class Meta:
        verbose_name = _("手続き")
        verbose_name_plural = _("手続き")
        ordering = ["department__code", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_online(self) -> bool:
        return Channel.ONLINE in self.channels

    def get_channels_display(self) -> list[str]:
        labels = dict(Channel.choices)
        return [str(labels[c]) for c in self.channels if c in labels]


class GuideRule(models.Model):
    """When a life event's answers match ``when``, the guide lists ``procedure``.

    ``when`` maps question codes to an accepted value or list of values; every key
    must match (an empty mapping always matches).
    """

    event = models.ForeignKey(
        LifeEvent, verbose_name=_("ライフイベント"), on_delete=models.CASCADE, related_name="rules"
    )
    procedure = models.ForeignKey(Procedure, verbose_name=_("手続き"), on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(_("順番"), default=0)
    when = models.JSONField(_("条件"), default=dict, blank=True)
    note = models.CharField(_("補足"), max_length=300, blank=True)
    note_en = models.CharField(_("補足（英語）"), max_length=400, blank=True)
    deadline_days = models.IntegerField(_("期限（日数）の上書き"), null=True, blank=True)

    class Meta:
        verbose_name = _("ガイドの規則")
        verbose_name_plural = _("ガイドの規則")
        ordering = ["event", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.event.code} → {self.procedure.code}"


class CatalogImport(models.Model):
    """A record of each import of the catalog data files."""

    version = models.CharField(_("版"), max_length=64)
    sha256 = models.CharField(_("ファイルのハッシュ"), max_length=64)
    imported_at = models.DateTimeField(_("取込日時"), auto_now_add=True)
    summary = models.JSONField(_("変更の概要"), default=dict)

    class Meta:
        verbose_name = _("カタログの取込")
        verbose_name_plural = _("カタログの取込")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.version} ({self.imported_at:%Y-%m-%d %H:%M})"
